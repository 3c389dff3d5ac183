"""The finger solve: known finger rotations -> hand landmarks -> solve gives the same rotations
(a fist, an open hand, a point, a thumbs-up, both hands, any hand orientation, pixel scale);
limits hold on adversarial landmarks; the hand stage eases a lost hand to rest and mirrors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mocap.core.frames import PoseObservation
from mocap.core.skeleton import HAND_BONE_INDEX
from mocap.estimation.mediapipe_pose import own_hands
from mocap.evaluation.hands import FIST, GESTURES, HAND_SKELETON, OPEN_HAND, gesture_landmarks, posed_hand_landmarks
from mocap.solving.fingers import FINGER_LIMITS_DEG, finger_angles_deg, finger_rotations
from mocap.solving.hands import HandTracker, best_view

pytestmark = pytest.mark.unit

@pytest.mark.parametrize("side", ["Left", "Right"])
@pytest.mark.parametrize("gesture", GESTURES)
def test_finger_rotations_come_back_from_their_landmarks(gesture: str, side: str) -> None:
    angles = np.array(GESTURES[gesture], dtype=float)
    for seed in range(3):   # the hand turned every which way
        turn = Rotation.random(random_state=seed)
        solved = finger_angles_deg(gesture_landmarks(GESTURES[gesture], side, turn), side)
        assert solved is not None
        np.testing.assert_allclose(solved, angles, atol=1e-6)
        error = (finger_rotations(solved, side).inv() * finger_rotations(angles, side)).magnitude()
        assert np.degrees(error).max() < 1e-6


def test_a_fist_curls_toward_the_palm() -> None:
    """Curl is toward the palm whatever the side: solving a hand as the other side's mirror
    image would read a fist as fingers bent backwards (clamped to near zero)."""
    for side in ("Left", "Right"):
        fist = finger_rotations(finger_angles_deg(gesture_landmarks(FIST, side, Rotation.identity()), side), side)
        # The canonical T-pose's palm faces down (-Y): the index, curled 80 degrees at its knuckle, points down.
        assert fist[3].apply([1.0 if side == "Left" else -1.0, 0, 0])[1] < -0.9


def test_landmarks_of_the_other_hand_do_not_bend_fingers_backwards() -> None:
    """A left fist's landmarks solved as a right hand read as fingers bent backwards: each joint
    stops at its limit (a few degrees back), never folds the wrong way."""
    wrong = finger_angles_deg(gesture_landmarks(FIST, "Left", Rotation.identity()), "Right")
    assert wrong is not None
    np.testing.assert_allclose(wrong[1:, 1], FINGER_LIMITS_DEG[1:, 1, 0])   # each knuckle at its backward limit
    assert (wrong >= FINGER_LIMITS_DEG[:, :, 0]).all() and (wrong <= FINGER_LIMITS_DEG[:, :, 1]).all()


def posed_hand_from_rotations(fingers: Rotation, side: str) -> np.ndarray:
    local = Rotation.identity(len(HAND_SKELETON.names)).as_quat()
    first = HAND_BONE_INDEX[f"{side}ThumbProximal"]
    local[first:first + 15] = fingers.as_quat()
    return posed_hand_landmarks(HAND_SKELETON, Rotation.from_quat(local), np.zeros(3), side)


def test_adversarial_landmarks_stay_within_the_limits() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        hand = gesture_landmarks(OPEN_HAND, "Left", Rotation.random(random_state=int(rng.integers(1 << 30))))
        fingers = [i for i in range(1, 21) if i not in (5, 9, 17)]
        hand[fingers] += rng.normal(0.0, 40.0, (len(fingers), 3))   # fingers flung anywhere, palm intact
        angles = finger_angles_deg(hand, "Left")
        assert angles is not None
        clamped = finger_angles_deg(posed_hand_from_rotations(finger_rotations(angles, "Left"), "Left"), "Left")
        assert clamped is not None
        assert (clamped >= FINGER_LIMITS_DEG[:, :, 0] - 1e-6).all() and (clamped <= FINGER_LIMITS_DEG[:, :, 1] + 1e-6).all()


def test_a_hand_not_fully_seen_or_with_a_collapsed_palm_gives_nothing() -> None:
    hand = gesture_landmarks(OPEN_HAND, "Left", Rotation.identity())
    missing = hand.copy()
    missing[8] = np.nan
    assert finger_angles_deg(missing, "Left") is None
    collapsed = hand.copy()
    collapsed[[5, 9, 17]] = collapsed[0] + [10.0, 0.0, 0.0]   # all knuckles on one line from the wrist
    assert finger_angles_deg(collapsed, "Left") is None


def observation(hands: np.ndarray | None) -> tuple[PoseObservation, ...]:
    keypoints = np.full((33, 3), np.nan)
    return (PoseObservation(0.0, (1280, 720), keypoints, None, hands),)


def test_a_lost_hand_holds_eases_to_rest_and_comes_back_and_a_mirror_swaps_hands() -> None:
    fist = gesture_landmarks(FIST, "Left", Rotation.identity())
    seen = np.stack([fist, np.full((21, 3), np.nan)])
    tracker = HandTracker(hold_s=0.3, ease_s=0.2)
    first_index = HAND_BONE_INDEX["LeftIndexIntermediate"] - HAND_BONE_INDEX["LeftThumbProximal"]
    for frame in range(30):
        rotations = tracker(observation(seen), frame / 30)
    assert np.degrees(rotations[first_index].magnitude()) > 90      # curled, after the filter settles
    assert np.degrees(rotations[15:].magnitude()).max() < 1e-6      # the right hand never seen: at rest
    held = tracker(observation(None), 1.1)
    assert np.degrees(held[first_index].magnitude()) > 90           # held just after losing it
    for step in range(1, 60):
        eased = tracker(observation(None), 1.1 + step / 30)
    assert np.degrees(eased[first_index].magnitude()) < 5            # back at rest 2 s later
    for step in range(15):
        back = tracker(observation(seen), 3.1 + step / 30)
    assert np.degrees(back[first_index].magnitude()) > 90            # curled again half a second after it returns
    mirrored = HandTracker(mirror=True)
    mirror_image = np.stack([np.full((21, 3), np.nan), fist * [-1.0, 1.0, 1.0]])  # a left fist, seen in a mirror
    rotations = mirrored(observation(mirror_image), 0.0)
    assert np.degrees(rotations[first_index].magnitude()) > 90 and np.degrees(rotations[15:].magnitude()).max() < 1e-6


def test_holistic_finding_one_hand_twice_keeps_it_on_its_own_side() -> None:
    keypoints = np.full((33, 3), np.nan)
    keypoints[15] = (900.0, 500.0, 0.9)   # left wrist
    keypoints[16] = (300.0, 500.0, 0.9)   # right wrist
    hand = gesture_landmarks(OPEN_HAND, "Right", Rotation.identity()) - [640.0, 360.0, 0.0] + [310.0, 480.0, 0.0]
    both = own_hands(np.stack([hand, hand]), keypoints)
    assert np.isnan(both[0]).all() and np.isfinite(both[1]).all()
    assert np.isnan(own_hands(np.stack([hand, hand]), np.full((33, 3), np.nan))).all()


def test_each_hand_is_read_from_the_camera_that_sees_it_largest() -> None:
    near = gesture_landmarks(FIST, "Left", Rotation.identity(), px_per_m=900.0)
    far = gesture_landmarks(OPEN_HAND, "Left", Rotation.identity(), px_per_m=300.0)
    unseen = np.full((21, 3), np.nan)
    cameras = tuple(observation(np.stack([hand, unseen]))[0] for hand in (unseen, far, near))
    assert np.array_equal(best_view(cameras, 0), near)
    assert best_view(cameras[:2], 0) is not None and np.array_equal(best_view(cameras[:2], 0), far)
    assert best_view(cameras, 1) is None
