"""The multi-camera body fit against known bodies seen by two desk webcams: exact data comes
back exactly and measures the bones, pixel noise stays out of depth, an outlier keypoint pulls
little, a joint no view sees is placed from the rest of the body; and the dropout bridge's time
limit."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import standing_body
from scipy.spatial.transform import Rotation

from mocap.cameras.camera_model import CameraModel
from mocap.core.conventions import LANDMARK_INDEX
from mocap.evaluation.camera_views import camera_setup
from mocap.lifting.body_fit import BONES, BodyFit
from mocap.lifting.dropouts import DropoutBridge
from mocap.lifting.triangulation import Triangulator

pytestmark = pytest.mark.unit

DESK = camera_setup("desk")       # 1.2 m apart, 4 m from the performer, 1280x720
WRIST = LANDMARK_INDEX["left_wrist"]


def body_at(step: int) -> np.ndarray:
    """The standing body (arms out) with its left arm swinging forward 3 degrees a frame to 60
    degrees and back."""
    body = standing_body()
    shoulder = body[LANDMARK_INDEX["left_shoulder"]]
    arm = [LANDMARK_INDEX[f"left_{name}"] for name in ("elbow", "wrist", "index", "pinky", "thumb")]
    phase = step % 40
    degrees = 3.0 * (phase if phase <= 20 else 40 - phase)
    body[arm] = shoulder + Rotation.from_euler("y", -degrees, degrees=True).apply(body[arm] - shoulder)
    return body


def observe(cameras: list[CameraModel], body_m: np.ndarray, pixel_sd: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (C, J, 3) with Gaussian pixel noise, and exact world landmarks (C, J, 3)."""
    hips = body_m[[LANDMARK_INDEX["left_hip"], LANDMARK_INDEX["right_hip"]]].mean(axis=0)
    keypoints = np.stack([np.column_stack([c.project(body_m) + rng.normal(0.0, pixel_sd, (len(body_m), 2)),
                                           np.ones(len(body_m))]) for c in cameras])
    world = np.stack([c.rotation.apply(body_m - hips) for c in cameras])
    return keypoints, world


class Fitted:
    """Triangulation then the fit, frame after frame, as the multi-camera lifter runs them."""

    def __init__(self, cameras: list[CameraModel]) -> None:
        self.triangulator = Triangulator(cameras, swap_check=False)
        self.fit = BodyFit(self.triangulator)

    def __call__(self, keypoints: np.ndarray, world: np.ndarray, time_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(DLT points, fitted points, fitted confidence)."""
        result = self.triangulator.triangulate(keypoints, world)
        points, confidence = self.fit.fit(result.view_points, result.view_weights, world, result.points_m, time_s)
        return result.points_m, points, confidence


def warmed_up(rng: np.random.Generator, frames: int = 40) -> Fitted:
    """A fit that has seen ``frames`` frames of the swinging arm (1/30 s apart) without noise,
    enough to measure the performer's bones."""
    fitted = Fitted(DESK)
    for step in range(frames):
        fitted(*observe(DESK, body_at(step), 0.0, rng), step / 30.0)
    assert np.isfinite(fitted.fit.bone_lengths_m).all()
    return fitted


def test_exact_views_give_the_body_back() -> None:
    fitted = Fitted(DESK)
    rng = np.random.default_rng(0)
    for step in range(5):
        body = body_at(step)
        _, points, confidence = fitted(*observe(DESK, body, 0.0, rng), float(step))   # 1 s apart: no motion term
        np.testing.assert_allclose(points, body, atol=1e-6)
    assert confidence.min() == 1.0
    lengths = np.linalg.norm(body_at(0)[[a for a, _ in BONES]] - body_at(0)[[b for _, b in BONES]], axis=1)
    np.testing.assert_allclose(warmed_up(rng).fit.bone_lengths_m, lengths, atol=1e-6)


def test_pixel_noise_stays_out_of_depth() -> None:
    """2 px of noise in each desk camera: per-joint triangulation puts about 4 cm into depth;
    the fit, with the cameras' body shape and the performer's bone lengths, much less."""
    fitted = Fitted(DESK)
    rng = np.random.default_rng(1)
    dlt_errors, fit_errors = [], []
    for step in range(100):
        body = body_at(step)
        dlt, points, _ = fitted(*observe(DESK, body, 2.0, rng), step / 30.0)
        if step >= 40:                                       # bones measured
            dlt_errors.append(np.linalg.norm(dlt - body, axis=1).mean())
            fit_errors.append(np.linalg.norm(points - body, axis=1).mean())
    assert np.mean(dlt_errors) > 0.02                        # measured 0.036 m
    assert np.mean(fit_errors) < 0.6 * np.mean(dlt_errors)   # measured 0.46x


def test_a_fast_swing_is_followed() -> None:
    """The arm swinging 12 degrees a frame (the wrist at 3.5 m/s) with exact views: the joints
    start where triangulation puts them, not where they were, so the motion term lags them by
    under 2 cm (restarted from the previous frame, up to 37 cm)."""
    rng = np.random.default_rng(5)
    fitted = warmed_up(rng)
    shoulder = standing_body()[LANDMARK_INDEX["left_shoulder"]]
    arm = [LANDMARK_INDEX[f"left_{name}"] for name in ("elbow", "wrist", "index", "pinky", "thumb")]
    for step in range(40, 56):
        body = standing_body()
        body[arm] = shoulder + Rotation.from_euler("y", -12.0 * (step % 8), degrees=True).apply(body[arm] - shoulder)
        _, points, _ = fitted(*observe(DESK, body, 0.0, rng), step / 30.0)
        assert np.linalg.norm(points - body, axis=1).max() < 0.02   # measured 17 mm at most


def test_an_outlier_keypoint_pulls_little() -> None:
    """One view's wrist 60 px off sideways: for two cameras side by side that is a disparity,
    which triangulation turns into a wrist a metre away in depth that both views agree with;
    the forearm's measured length brings it back and the robust loss then leaves the outlier out."""
    rng = np.random.default_rng(2)
    fitted = warmed_up(rng)
    body = body_at(40)
    keypoints, world = observe(DESK, body, 0.0, rng)
    keypoints[1, WRIST, :2] += [60.0, 0.0]
    keypoints[1, WRIST, 2] = 0.9
    dlt, points, confidence = fitted(keypoints, world, 40 / 30.0)
    assert np.linalg.norm(dlt[WRIST] - body[WRIST]) > 0.5
    assert np.linalg.norm(points[WRIST] - body[WRIST]) < 0.02
    assert confidence[WRIST] == pytest.approx(1.0)       # the view that agrees still vouches for it


def test_a_joint_no_view_sees_is_placed_from_the_body() -> None:
    rng = np.random.default_rng(3)
    fitted = warmed_up(rng, 50)
    body = body_at(50)
    keypoints, world = observe(DESK, body, 0.0, rng)
    keypoints[:, WRIST, 2] = 0.0
    keypoints[:, WRIST, :2] = np.nan
    world = Rotation.from_euler("x", 20.0, degrees=True).apply(world.reshape(-1, 3)).reshape(world.shape)  # MediaPipe's lean
    _, points, confidence = fitted(keypoints, world, 50 / 30.0)
    assert np.linalg.norm(points[WRIST] - body[WRIST]) < 0.02   # measured 16 mm; held where it was: 27; lean kept: 39
    assert confidence[WRIST] == 0.0                       # placed, not seen: the dropout bridge decides


def test_the_dropout_bridge_trusts_a_prediction_for_a_moment_only() -> None:
    bridge = DropoutBridge(min_confidence=0.5, max_gap_s=0.3)
    joints = np.zeros((33, 3))
    seen = np.ones(33)
    seen[WRIST] = 0.5                                     # at the threshold: seen
    lost = seen.copy()
    lost[WRIST] = 0.1
    assert bridge(joints, seen, 10.0)[WRIST] == 0.5
    assert bridge(joints, lost, 10.2)[WRIST] == 0.5       # lost 0.2 s: predicted and trusted
    assert bridge(joints, lost, 10.25)[WRIST] == 0.5
    assert bridge(joints, lost, 10.4)[WRIST] == 0.1       # lost too long: unknown
    unplaced = joints.copy()
    unplaced[WRIST] = np.nan
    assert bridge(unplaced, seen, 11.0)[WRIST] == 0.5
    assert bridge(unplaced, lost, 11.1)[WRIST] == 0.1     # nothing predicted it
    assert bridge(unplaced, lost, 11.2)[WRIST + 1] == 1.0  # the others are untouched by it
    knee = LANDMARK_INDEX["left_knee"]
    never = np.ones(33)
    never[knee] = 0.1
    fresh = DropoutBridge(min_confidence=0.5, max_gap_s=0.3)
    assert fresh(joints, never, 0.0)[knee] == 0.1         # never seen (legs out of the picture): never trusted
    assert fresh(joints, never, 0.1)[knee] == 0.1
    other = LANDMARK_INDEX["left_elbow"]
    both = seen.copy()
    both[other] = 0.2
    fresh(joints, seen, 1.0)
    bridged = fresh(unplaced, both, 1.1)                  # one joint unplaced does not stop another's bridge
    assert bridged[other] == 0.5 and bridged[WRIST] == 0.5
