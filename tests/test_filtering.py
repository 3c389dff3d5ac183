"""Filters: jitter removed, low-confidence points held, no quaternion flips, no snaps on loss."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.app.config import FilterSettings
from mocap.core.conventions import HIP_LANDMARKS, NUM_POSE_LANDMARKS
from mocap.core.frames import BodyPose, SkeletonPose
from mocap.core.skeleton import BONE_INDEX, BONE_NAMES, humanoid_skeleton
from mocap.filtering.temporal import (
    BodyFilter,
    HoldThenRest,
    OneEuroSettings,
    PointFilter,
    RotationFilter,
    TrendPointFilter,
)
from mocap.solving.foot_contact import ContactSettings, FootContact

pytestmark = pytest.mark.unit

FPS = 30.0
# The plain One Euro, and the velocity-predicting one the body filter uses.
POINT_FILTERS = pytest.mark.parametrize("point_filter_type", [PointFilter, TrendPointFilter])
# The capture's default body and hips filters.
BODY_SETTINGS = OneEuroSettings(FilterSettings.body_min_cutoff_hz, FilterSettings.body_beta)
ROOT_SETTINGS = OneEuroSettings(FilterSettings.root_min_cutoff_hz, FilterSettings.root_beta)


@POINT_FILTERS
def test_point_filter_cuts_jitter_of_a_still_point(point_filter_type: type) -> None:
    rng = np.random.default_rng(0)
    raw = 0.5 + rng.normal(0.0, 0.01, size=(300, 1, 3))  # 1 cm noise, metres
    point_filter = point_filter_type(OneEuroSettings(min_cutoff_hz=1.0, beta=1.0))
    filtered = np.array([point_filter(p, i / FPS) for i, p in enumerate(raw)])
    jitter = lambda x: np.abs(np.diff(x[60:], 2, axis=0)).mean()  # noqa: E731  mean |acceleration| per frame
    assert jitter(filtered) < jitter(raw) / 5.0
    assert np.abs(filtered[60:].mean(axis=0) - 0.5).max() < 0.005


@POINT_FILTERS
def test_point_filter_follows_a_fast_move_with_little_lag(point_filter_type: type) -> None:
    point_filter = point_filter_type(OneEuroSettings(min_cutoff_hz=1.0, beta=1.0))
    t = np.arange(60) / FPS
    x = np.where(t < 1.0, 0.0, np.minimum((t - 1.0) * 2.0, 0.5))  # 2 m/s move of 50 cm
    out = [point_filter(np.array([[v, 0.0, 0.0]]), ti)[0, 0] for v, ti in zip(x, t)]
    assert out[-1] > 0.49


@POINT_FILTERS
def test_low_confidence_points_hold_their_position(point_filter_type: type) -> None:
    point_filter = point_filter_type(OneEuroSettings(min_cutoff_hz=1.0, beta=1.0))
    point_filter(np.zeros((2, 3)), 0.0)
    jumped = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    out = point_filter(jumped, 1 / FPS, update_mask=np.array([True, False]))
    assert np.all(out[1] == 0.0) and np.all(out[0] > 0.0)


def test_rotation_filter_never_flips_quaternion_sign() -> None:
    rotation_filter = RotationFilter(OneEuroSettings(min_cutoff_hz=3.0, beta=0.5))
    angles = np.linspace(0.0, 4.0 * np.pi, 240)  # two full turns about Y
    previous = None
    for i, angle in enumerate(angles):
        quat = rotation_filter(Rotation.from_rotvec([[0.0, angle, 0.0]]), i / FPS).as_quat()
        if previous is not None:
            assert np.dot(quat[0], previous[0]) > 0.0
        previous = quat
    assert rotation_filter(Rotation.from_rotvec([[0.0, angles[-1], 0.0]]), 8.0).magnitude()[0] < 0.1


def test_world_rotations_and_back_give_the_same_pose() -> None:
    """The rotation filter works on world rotations: the conversion each way must agree with
    forward kinematics and lose nothing."""
    skeleton = humanoid_skeleton()
    local = Rotation.from_rotvec(np.random.default_rng(3).normal(0.0, 0.6, (len(BONE_NAMES), 3)))
    world, _ = skeleton.forward_kinematics(local, np.zeros(3))
    hand = BONE_INDEX["LeftHand"]
    chain = [BONE_INDEX[bone] for bone in ("Hips", "Spine", "Chest", "LeftShoulder", "LeftUpperArm", "LeftLowerArm")]
    assert np.allclose(world[hand].as_matrix(), np.linalg.multi_dot([*local[chain].as_matrix(), local[hand].as_matrix()]))
    assert np.allclose(skeleton.local_rotations(world).as_matrix(), local.as_matrix())


def test_lost_bones_hold_then_ease_to_rest_without_snapping() -> None:
    hold = HoldThenRest(1, hold_s=0.5, ease_s=0.7)
    raised = Rotation.from_euler("z", [80.0], degrees=True)
    hold(raised, np.array([True]), 0.0)
    angles = []
    for i in range(1, 150):
        out = hold(Rotation.identity(1), np.array([False]), i / FPS)  # tracking lost
        angles.append(np.degrees(out.magnitude()[0]))
    angles = np.array(angles)
    assert np.allclose(angles[: int(0.5 * FPS) - 1], 80.0)      # held for half a second
    assert angles[-1] < 1.0                                      # back at rest after 5 s
    assert np.abs(np.diff(angles)).max() < 5.0                   # never more than 5 degrees a frame


def test_trend_filter_cuts_still_jitter_and_follows_steady_motion_without_lag() -> None:
    """The body filter's defaults: 5x less jitter on a still point, no trailing at 1 m/s
    (a plain One Euro with the same cutoff trails by centimetres)."""
    settings = BODY_SETTINGS
    rng = np.random.default_rng(0)
    raw = 0.5 + rng.normal(0.0, 0.01, size=(300, 1, 3))
    trend = TrendPointFilter(settings)
    filtered = np.array([trend(p, i / FPS) for i, p in enumerate(raw)])
    jitter = lambda x: np.abs(np.diff(x[60:], 2, axis=0)).mean()  # noqa: E731
    assert jitter(filtered) < jitter(raw) / 5.0

    t = np.arange(90) / FPS
    moving = np.stack([t, np.zeros_like(t), np.zeros_like(t)], axis=1)[:, None, :]   # 1 m/s along x
    trend, plain = TrendPointFilter(settings), PointFilter(settings)
    trend_out = [trend(p, ti) for p, ti in zip(moving, t)][-1]
    plain_out = [plain(p, ti) for p, ti in zip(moving, t)][-1]
    assert abs(moving[-1, 0, 0] - trend_out[0, 0]) < 0.002
    assert moving[-1, 0, 0] - plain_out[0, 0] > 0.01


def test_a_warm_started_filter_follows_a_point_first_seen_moving() -> None:
    """The hips' path filter starts warm: a performer first seen walking at 1.5 m/s is followed
    from the first frames (within 2 cm on 5 mm of noise), where a filter starting from rest
    trails by up to 14 cm for half a second. Once started, it is as steady as the cold one."""
    rng = np.random.default_rng(0)
    t = np.arange(30) / FPS
    walking = np.stack([1.5 * t, np.zeros_like(t), np.zeros_like(t)], axis=1)[:, None, :]
    seen = walking + rng.normal(0.0, 0.005, walking.shape)
    warm, cold = TrendPointFilter(ROOT_SETTINGS, warm_start=True), TrendPointFilter(ROOT_SETTINGS)
    warm_trail = np.array([walking[i, 0, 0] - warm(p, ti)[0, 0] for i, (p, ti) in enumerate(zip(seen, t))])
    cold_trail = np.array([walking[i, 0, 0] - cold(p, ti)[0, 0] for i, (p, ti) in enumerate(zip(seen, t))])
    assert np.abs(warm_trail).max() < 0.02
    assert cold_trail[:15].max() > 0.10

    still = 0.5 + rng.normal(0.0, 0.01, size=(300, 1, 3))
    jitter = lambda x: np.abs(np.diff(x[30:], 2, axis=0)).mean()  # noqa: E731
    warm, cold = TrendPointFilter(ROOT_SETTINGS, warm_start=True), TrendPointFilter(ROOT_SETTINGS)
    warm_still = np.array([warm(p, i / FPS) for i, p in enumerate(still)])
    cold_still = np.array([cold(p, i / FPS) for i, p in enumerate(still)])
    assert jitter(warm_still) < 1.05 * jitter(cold_still)


def _filtered_hips(landmarks_m: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(frames, 3) hips through the default body filter, and through the default root filter alone."""
    body_filter = BodyFilter(body=BODY_SETTINGS, root=ROOT_SETTINGS)
    root_alone = TrendPointFilter(ROOT_SETTINGS)
    confidence = np.ones(NUM_POSE_LANDMARKS)
    through_body, through_root = [], []
    for frame, joints in enumerate(landmarks_m):
        filtered = body_filter(BodyPose(frame / FPS, joints, confidence, detected=True))
        through_body.append(filtered.joints_m[list(HIP_LANDMARKS)].mean(axis=0))
        through_root.append(root_alone(joints[list(HIP_LANDMARKS)].mean(axis=0, keepdims=True), frame / FPS)[0])
    return np.array(through_body), np.array(through_root)


def test_the_hips_follow_every_landmark_so_a_noisy_hip_pair_does_not_shake_the_avatar() -> None:
    """A performer standing still, then walking at 1.2 m/s, every landmark with its own 1 cm of
    noise: the avatar's hips shake at least twice less than the hip landmarks' midpoint through
    the same root filter, and keep up with the walk (no trailing at steady speed)."""
    rng = np.random.default_rng(0)
    body_shape = rng.uniform(-0.4, 0.4, size=(NUM_POSE_LANDMARKS, 3))
    t = np.arange(240) / FPS
    hips_path = np.stack([1.2 * np.clip(t - 4.0, 0.0, None), np.full_like(t, 0.9), np.zeros_like(t)], axis=1)
    true_hips = hips_path + body_shape[list(HIP_LANDMARKS)].mean(axis=0)
    noisy = hips_path[:, None, :] + body_shape[None] + rng.normal(0.0, 0.01, size=(len(t), NUM_POSE_LANDMARKS, 3))
    through_body, through_root = _filtered_hips(noisy)
    still = slice(30, 120)
    shake = lambda x: np.linalg.norm(np.diff(x[still], 2, axis=0), axis=1).mean()  # noqa: E731
    assert shake(through_body) < shake(through_root) / 2.0
    walking = slice(200, 240)   # 1.3 s after the walk began
    assert np.linalg.norm(through_body[walking] - true_hips[walking], axis=1).mean() < 0.01


def test_a_body_whose_hip_landmarks_drop_out_keeps_following_the_rest() -> None:
    """Walking sideways at 0.3 m/s, the hip landmarks lost after 40 frames: the other landmarks
    still place the hips, so the body keeps moving with them instead of freezing."""
    body_filter = BodyFilter(body=BODY_SETTINGS, root=ROOT_SETTINGS)
    body_shape = np.random.default_rng(0).uniform(-0.4, 0.4, size=(NUM_POSE_LANDMARKS, 3))
    for frame in range(60):
        joints = body_shape + [0.01 * frame, 0.0, 0.0]
        if frame >= 40:
            joints[list(HIP_LANDMARKS)] = np.nan
        filtered = body_filter(BodyPose(frame / FPS, joints, np.ones(NUM_POSE_LANDMARKS), detected=True))
    assert np.abs(filtered.joints_m[0] - joints[0]).max() < 0.01   # the nose, 20 cm on since the hips went


def test_a_performer_back_in_view_is_followed_as_when_first_seen() -> None:
    """Walking out of view at 1 m/s, gone for 2 s, then back walking the other way: the hips are
    followed from the first frames back (within 1 cm), as on a first appearance. The filters'
    velocity from before would have them trail by 8 cm."""
    body_filter = BodyFilter(body=BODY_SETTINGS, root=ROOT_SETTINGS)
    body_shape = np.random.default_rng(0).uniform(-0.4, 0.4, size=(NUM_POSE_LANDMARKS, 3))
    hips_offset = body_shape[list(HIP_LANDMARKS)].mean(axis=0)
    errors_back_m = []
    for frame in range(150):
        t = frame / FPS
        x = t if t < 2.0 else 4.0 - t   # out of view from 1 s to 3 s
        joints = body_shape + [x, 0.0, 0.0]
        filtered = body_filter(BodyPose(t, joints, np.ones(NUM_POSE_LANDMARKS), detected=not 1.0 <= t < 3.0))
        if t >= 3.0:
            errors_back_m.append(np.linalg.norm(filtered.joints_m[list(HIP_LANDMARKS)].mean(axis=0) - hips_offset - [x, 0, 0]))
    assert max(errors_back_m) < 0.01


def _drift_left_leg(contact: FootContact) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Standing, with the left leg's measurement swinging 0.5 degrees (7 mm at the ankle) a
    frame for 12 frames through ``contact``: the left and right ankles' (x, z) each frame and
    the left knee's final bend, degrees."""
    skeleton = humanoid_skeleton()
    left_ankles, right_ankles = [], []
    for frame in range(12):
        local = np.tile([0.0, 0.0, 0.0, 1.0], (len(BONE_NAMES), 1))
        local[BONE_INDEX["LeftUpperLeg"]] = Rotation.from_euler("x", -0.5 * frame, degrees=True).as_quat()
        pose = contact(SkeletonPose(frame / 30.0, skeleton, skeleton.rest_offsets_m[0], Rotation.from_quat(local), True, True))
        _, positions = skeleton.forward_kinematics(pose.local_rotations, pose.root_position_m)
        left_ankles.append(positions[BONE_INDEX["LeftFoot"], [0, 2]])
        right_ankles.append(positions[BONE_INDEX["RightFoot"], [0, 2]])
    knee_bend_deg = float(np.degrees(pose.local_rotations[BONE_INDEX["LeftLowerLeg"]].magnitude()))
    return np.array(left_ankles), np.array(right_ankles), knee_bend_deg


def test_planted_feet_stay_put_when_one_leg_drifts() -> None:
    """Both feet on the floor, the left leg's measurement drifts 7 mm a frame: the root shift
    alone would leave each foot sliding half of that; leg IK holds both (what is left is the
    slow drift back toward the measured position, ``return_s``)."""
    contact = FootContact()
    left_ankles, right_ankles, knee_bend_deg = _drift_left_leg(contact)
    assert contact.planted == {"Left": True, "Right": True}
    for ankles in (left_ankles, right_ankles):
        assert np.max(np.linalg.norm(np.diff(ankles, axis=0), axis=1)) < 0.001
    assert knee_bend_deg > 1.0     # the drifting leg bends to keep its foot where it was planted


def test_a_performer_back_in_view_elsewhere_is_not_pulled_back_to_old_footprints() -> None:
    """Standing with both feet planted, out of view for 2 s, back standing 1 m to the side: the
    avatar stands where the performer now is from the first frame back. Feet kept planted
    through the gap pulled it 36 cm back toward the old footprints."""
    contact = FootContact()
    skeleton = humanoid_skeleton()
    rest = Rotation.identity(len(BONE_NAMES))
    root_x_m = []
    for frame in range(120):
        seen = not 30 <= frame < 90
        measured = skeleton.rest_offsets_m[0] + [0.0 if frame < 30 else 1.0, 0.0, 0.0]
        pose = contact(SkeletonPose(frame / 30.0, skeleton, measured, rest, tracked=seen, skeleton_settled=True))
        root_x_m.append(pose.root_position_m[0] - measured[0])
    assert contact.planted == {"Left": True, "Right": True}
    assert np.abs(root_x_m[90:]).max() < 0.01


def test_feet_are_not_held_with_locking_off() -> None:
    contact = FootContact(ContactSettings(lock_feet=False))
    left_ankles, _, _ = _drift_left_leg(contact)
    assert contact.planted == {"Left": False, "Right": False}
    assert np.linalg.norm(left_ankles[-1] - left_ankles[0]) > 0.07   # the measured 11 steps of 7 mm


def _alpha(cutoff_hz: float, dt_s: float) -> float:
    """One Euro's smoothing factor (Casiez et al. 2012): 1 / (1 + tau / dt), tau = 1 / (2 pi fc)."""
    return 1.0 / (1.0 + 1.0 / (2.0 * np.pi * cutoff_hz * dt_s))


def test_at_zero_beta_one_euro_is_a_first_order_low_pass_in_position_and_angle() -> None:
    """A 1 m step and a 0.5 rad turn at 2 Hz, 30 frames/s: after k frames 1 - (1 - alpha)^k of it."""
    settings = OneEuroSettings(min_cutoff_hz=2.0, beta=0.0)
    points, turns = PointFilter(settings), RotationFilter(settings)
    points(np.zeros((1, 3)), 0.0)
    turns(Rotation.identity(1), 0.0)
    alpha = _alpha(2.0, 1.0 / FPS)
    for k in range(1, 20):
        expected = 1.0 - (1.0 - alpha) ** k
        assert points(np.array([[1.0, 0.0, 0.0]]), k / FPS)[0, 0] == pytest.approx(expected, rel=1e-9)
        turned = turns(Rotation.from_rotvec([[0.0, 0.5, 0.0]]), k / FPS)
        np.testing.assert_allclose(turned.as_rotvec(), [[0.0, 0.5 * expected, 0.0]], rtol=1e-9, atol=1e-12)


def _steady_lag(speed: float, settings: OneEuroSettings, dt_s: float) -> float:
    """The lag L behind a steady motion at ``speed`` (units/s): the filter's speed estimate is
    (L + speed dt) / dt (the step from its last output), its cutoff min + beta * that, and a
    first-order filter at cutoff fc trails a ramp by speed / (2 pi fc)."""
    lag = 0.0
    for _ in range(200):
        lag = speed / (2.0 * np.pi * (settings.min_cutoff_hz + settings.beta * (lag + speed * dt_s) / dt_s))
    return lag


def test_one_euro_cutoff_rises_with_speed_in_metres_and_radians_a_second() -> None:
    """Moving steadily at 0.5 m/s and turning at 0.5 rad/s for 4 s, both trail by the lag the
    speed-raised cutoff gives."""
    settings = OneEuroSettings(min_cutoff_hz=1.0, beta=0.3)
    points, turns = PointFilter(settings), RotationFilter(settings)
    for k in range(int(4 * FPS)):
        t = k / FPS
        position = points(np.array([[0.5 * t, 0.0, 0.0]]), t)[0, 0]
        angle = turns(Rotation.from_rotvec([[0.0, 0.0, 0.5 * t]]), t).as_rotvec()[0, 2]
    lag = _steady_lag(0.5, settings, 1.0 / FPS)
    assert 0.5 * t - position == pytest.approx(lag, rel=1e-3)
    assert 0.5 * t - angle == pytest.approx(lag, rel=1e-3)
    assert lag < 0.7 * 0.5 / (2.0 * np.pi * 1.0)     # well under the lag at the bare 1 Hz


def test_a_warm_started_filter_follows_a_steady_ramp_exactly_from_its_second_sample() -> None:
    """Its first gains are a least-squares line fit's over the samples so far: noise-free motion
    at constant speed is followed exactly from the second sample on, also after a point is
    seen late."""
    trend = TrendPointFilter(OneEuroSettings(min_cutoff_hz=1.0, beta=1.0), warm_start=True)
    for k in range(40):
        t = k / FPS
        ramp = np.array([[0.8 * t, 1.0, -0.3 * t], [0.2 * t, 0.0, 0.0]])
        if k < 10:
            ramp[1] = np.nan                                  # the second point first seen at frame 10
        out = trend(ramp, t)
        seen = [k >= 1, k >= 11]
        np.testing.assert_allclose(out[seen], ramp[seen], atol=1e-12, err_msg=str(k))


def test_a_held_point_keeps_its_place_and_resumes_from_it() -> None:
    """A point moving at 1 m/s is held (low confidence) for 10 frames: its output stays where
    it was, and its velocity dies away (by 0.9 a frame) instead of growing."""
    trend = TrendPointFilter(OneEuroSettings(min_cutoff_hz=1.0, beta=1.0), warm_start=True)
    for k in range(30):
        held_at = trend(np.array([[k / FPS, 0.0, 0.0]]), k / FPS)
    for k in range(30, 40):
        out = trend(np.array([[k / FPS, 0.0, 0.0]]), k / FPS, update_mask=np.array([False]))
        np.testing.assert_array_equal(out, held_at)
    resumed = trend(np.array([[40 / FPS, 0.0, 0.0]]), 40 / FPS)[0, 0]
    assert held_at[0, 0] < resumed < 40 / FPS


def test_bones_ease_to_rest_with_their_time_constant_after_the_hold() -> None:
    """Lost at t = 0 at 80 degrees: exactly 80 until 0.5 s, then 80 exp(-(t - t0) / 0.7 s) where
    t0 is the last frame before easing began."""
    hold = HoldThenRest(1, hold_s=0.5, ease_s=0.7)
    hold(Rotation.from_euler("z", [80.0], degrees=True), np.array([True]), 0.0)
    for k in range(1, 60):
        angle = np.degrees(hold(Rotation.identity(1), np.array([False]), k / FPS).magnitude()[0])
        expected = 80.0 if k <= 15 else 80.0 * np.exp(-(k - 15) / FPS / 0.7)
        assert angle == pytest.approx(expected, rel=1e-9), k
    tracked = hold(Rotation.from_euler("z", [30.0], degrees=True), np.array([True]), 2.0)
    assert np.degrees(tracked.magnitude()[0]) == pytest.approx(30.0)     # tracked again: at once


def test_the_body_filter_passes_time_confidence_and_detection_through() -> None:
    body_filter = BodyFilter(body=BODY_SETTINGS, root=ROOT_SETTINGS)
    confidence = np.linspace(0.2, 1.0, NUM_POSE_LANDMARKS)
    for k in range(3):
        pose = BodyPose(k / FPS, np.random.default_rng(k).normal(size=(NUM_POSE_LANDMARKS, 3)), confidence, True)
        out = body_filter(pose)
        assert out.timestamp_s == k / FPS and out.detected
        np.testing.assert_array_equal(out.confidence, confidence)
    nobody = BodyPose(1.0, np.full((NUM_POSE_LANDMARKS, 3), np.nan), np.zeros(NUM_POSE_LANDMARKS), False)
    assert body_filter(nobody) is nobody


@POINT_FILTERS
def test_a_point_first_seen_late_starts_where_it_is_seen_and_a_missing_one_holds(point_filter_type: type) -> None:
    """The second point is missing (NaN) for 10 frames, then seen at 2 m: it starts there, not
    from nowhere. Later it goes missing again while marked trusted: it holds, never NaN."""
    point_filter = point_filter_type(OneEuroSettings(min_cutoff_hz=1.0, beta=1.0))
    trusted = np.array([True, True])
    for k in range(10):
        out = point_filter(np.array([[0.0, 0.0, 0.0], [np.nan, np.nan, np.nan]]), k / FPS, update_mask=trusted)
        assert np.isnan(out[1]).all()
    out = point_filter(np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]]), 10 / FPS, update_mask=trusted)
    np.testing.assert_array_equal(out[1], [2.0, 0.0, 0.0])
    out = point_filter(np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]]), 11 / FPS, update_mask=trusted)
    np.testing.assert_allclose(out[1], [2.0, 0.0, 0.0], atol=1e-12)       # at rest where first seen
    out = point_filter(np.array([[0.0, 0.0, 0.0], [np.nan, np.nan, np.nan]]), 12 / FPS, update_mask=trusted)
    np.testing.assert_allclose(out[1], [2.0, 0.0, 0.0], atol=1e-12)
