"""The outlier guard on a synthetic standing body with unequal confidences: jumps held for
exactly the hold length then trusted again, left/right swaps undone with their confidences."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import standing_body

from mocap.core.conventions import LANDMARK_INDEX, POSE_LANDMARK_NAMES, mirrored_landmark_order
from mocap.core.frames import BodyPose
from mocap.filtering.outliers import OutlierGuard

pytestmark = pytest.mark.unit

FPS = 30.0
def unequal_confidence() -> np.ndarray:
    """The performer's left side seen well (0.9), the right poorly (0.4), the face at 0.7."""
    return np.array([0.9 if n.startswith("left") else 0.4 if n.startswith("right") else 0.7 for n in POSE_LANDMARK_NAMES])


def swaying(frames: int) -> list[np.ndarray]:
    """The standing body swaying 5 cm from side to side and waving its arms a little."""
    rng = np.random.default_rng(0)
    body = standing_body()
    out = []
    for frame in range(frames):
        moved = body + [0.05 * np.sin(frame / 10.0), 0.0, 0.0] + rng.normal(0.0, 0.005, body.shape)
        out.append(moved)
    return out


@pytest.mark.parametrize("hold", [1, 2, 3, None])
def test_a_landmark_that_jumps_and_stays_is_held_for_the_hold_length_then_trusted(hold: int | None) -> None:
    """A second into the take, the left hand is thrown up at 24 m/s and kept there: held for
    ``max_rejected`` frames (2 by default), then believed."""
    guard = OutlierGuard() if hold is None else OutlierGuard(max_rejected=hold)
    hold = hold or 2
    confidence = unequal_confidence()
    wrist = LANDMARK_INDEX["left_wrist"]
    for frame, joints in enumerate(swaying(40)):
        if frame >= 30:
            joints[wrist] += [0.0, 0.8, 0.0]
        out = guard(BodyPose(frame / FPS, joints, confidence, True))
        held = 30 <= frame < 30 + hold
        assert out.confidence[wrist] == (0.0 if held else 0.9), frame
        assert np.array_equal(np.delete(out.confidence, wrist), np.delete(confidence, wrist)), frame
        np.testing.assert_array_equal(out.joints_m, joints)     # held by confidence, never moved
        assert out.detected and out.timestamp_s == frame / FPS
    assert guard.held == hold


@pytest.mark.parametrize(("step_m", "held"), [(0.38, False), (0.42, True)])
def test_a_landmark_is_held_from_12_metres_a_second(step_m: float, held: bool) -> None:
    """11.4 m/s is a fast punch; 12.6 m/s is the detector's mistake."""
    guard = OutlierGuard()
    wrist = LANDMARK_INDEX["right_wrist"]
    for frame, joints in enumerate(swaying(40)):
        if frame == 30:
            joints[wrist] += [0.0, step_m, 0.0]
        out = guard(BodyPose(frame / FPS, joints, np.ones(33), True))
        if frame == 30:
            assert out.confidence[wrist] == (0.0 if held else 1.0)


def test_the_whole_body_moving_at_once_is_trusted() -> None:
    """A jump, or one camera's depth estimate jumping 0.6 m (18 m/s): no landmark is held."""
    guard = OutlierGuard()
    for frame, joints in enumerate(swaying(40)):
        out = guard(BodyPose(frame / FPS, joints + ([0.0, 0.0, 0.6] if frame >= 30 else 0.0), np.ones(33), True))
        assert np.all(out.confidence == 1.0), frame
    assert guard.held == 0


def test_a_body_back_after_half_a_second_out_of_view_is_not_compared_with_how_it_left() -> None:
    """Back 0.6 s later, turned round: every limb looks swapped against how the performer left,
    but this is a new appearance, taken as seen."""
    guard = OutlierGuard()
    frames = swaying(31)
    for frame in range(30):
        guard(BodyPose(frame / FPS, frames[frame], np.ones(33), True))
    turned = frames[30] * [-1.0, 1.0, -1.0]         # half a turn about the vertical
    out = guard(BodyPose(30 / FPS + 0.6, turned, np.ones(33), True))
    np.testing.assert_array_equal(out.joints_m, turned)
    assert guard.swaps == 0


@pytest.mark.parametrize(("max_swapped_s", "swapped_frames"), [(0.1, 3), (0.5, 15), (None, 15)])
def test_a_body_turned_round_from_one_frame_to_the_next_is_believed_after_a_while(
        max_swapped_s: float | None, swapped_frames: int) -> None:
    """A cut in the video (or a looped clip) shows the performer turned round from one frame
    to the next, and the detector labels every frame after it that way: its limbs are swapped
    back for ``max_swapped_s`` (0.5 s by default) as a detector's mistake would be, then
    believed; never swapped for the rest of the take."""
    guard = OutlierGuard() if max_swapped_s is None else OutlierGuard(max_swapped_s=max_swapped_s)
    for frame, joints in enumerate(swaying(60)):
        seen = joints * [-1.0, 1.0, -1.0] if frame >= 20 else joints   # half a turn about the vertical
        out = guard(BodyPose(frame / FPS, seen, np.ones(33), True))
        if frame < 20 or frame >= 20 + swapped_frames:
            np.testing.assert_array_equal(out.joints_m, seen, err_msg=f"frame {frame}")
            assert (out.confidence == 1.0).all(), frame
        else:
            assert not np.array_equal(out.joints_m, seen), frame
    assert guard.swaps == 2 * swapped_frames   # the arms and the legs


def test_a_one_frame_glitch_is_held_and_the_landmark_trusted_when_it_returns() -> None:
    guard = OutlierGuard()
    confidence = unequal_confidence()
    knee = LANDMARK_INDEX["right_knee"]
    for frame, joints in enumerate(swaying(6)):
        if frame == 3:
            joints[knee] += [0.0, 0.0, 0.6]
        out = guard(BodyPose(frame / FPS, joints, confidence, True))
        assert out.confidence[knee] == (0.0 if frame == 3 else 0.4), frame
    assert guard.held == 1


def test_a_left_right_swap_carries_the_confidences_back_with_the_positions() -> None:
    """The detector labels the whole body mirrored for a frame: the arms and legs (the guard's
    limb pairs, shoulders down) come back with their own confidences."""
    guard = OutlierGuard()
    confidence = unequal_confidence()
    mirror = mirrored_landmark_order()
    limbs = slice(LANDMARK_INDEX["left_shoulder"], None)
    for frame, joints in enumerate(swaying(6)):
        seen, seen_confidence = (joints[mirror], confidence[mirror]) if frame == 3 else (joints, confidence)
        out = guard(BodyPose(frame / FPS, seen, seen_confidence, True))
        np.testing.assert_array_equal(out.confidence[limbs], confidence[limbs])
        np.testing.assert_array_equal(out.joints_m[limbs], joints[limbs])
    assert guard.swaps == 2   # the arms and the legs, once each


def test_only_the_swapped_limb_pair_is_swapped_back() -> None:
    guard = OutlierGuard()
    confidence = unequal_confidence()
    arms = [LANDMARK_INDEX[f"{side}_{part}"] for side in ("left", "right")
            for part in ("shoulder", "elbow", "wrist", "pinky", "index", "thumb")]
    for frame, joints in enumerate(swaying(5)):
        seen, seen_confidence = joints.copy(), confidence.copy()
        if frame == 3:
            order = np.arange(len(joints))
            order[arms] = mirrored_landmark_order()[arms]
            seen, seen_confidence = joints[order], confidence[order]
        out = guard(BodyPose(frame / FPS, seen, seen_confidence, True))
        np.testing.assert_array_equal(out.joints_m, joints)
        np.testing.assert_array_equal(out.confidence, confidence)
    assert guard.swaps == 1


def test_a_frame_without_anybody_passes_through_untouched() -> None:
    guard = OutlierGuard()
    guard(BodyPose(0.0, standing_body(), unequal_confidence(), True))
    nobody = BodyPose(1 / FPS, np.full((33, 3), np.nan), np.zeros(33), False)
    assert guard(nobody) is nobody
