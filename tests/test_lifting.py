"""Monocular lifting: facing, stepping sideways and toward the camera, mirror, the floor."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import shared

from mocap.cameras.camera_model import CameraModel
from mocap.core.conventions import LANDMARK_INDEX as L
from mocap.core.frames import PoseObservation
from mocap.lifting.monocular import MonocularLifter, solve_camera_translation

CAMERA = CameraModel.from_field_of_view((1280, 720), 60.0)


@pytest.fixture(scope="module")
def standing_world_m() -> np.ndarray:
    """MediaPipe's own expected world landmarks (metres, camera axes) of a real person."""
    expected = json.loads(shared("mediapipe_expected/python_solutions_expected_landmarks.json").read_text())
    return np.array(expected["pose_test"]["expected_pose_world_landmarks_m"]["values"], dtype=np.float64)


def observe(world_m: np.ndarray, hips_in_camera_m: np.ndarray, t: float = 0.0) -> tuple[PoseObservation]:
    """What the one camera sees of a body whose hips are at ``hips_in_camera_m``."""
    points = world_m + hips_in_camera_m
    pixels = (CAMERA.matrix @ (points / points[:, 2:3]).T).T[:, :2]
    keypoints = np.column_stack([pixels, np.full(len(points), 0.99)])
    return (PoseObservation(t, CAMERA.image_size, keypoints, world_m),)


def test_translation_fit_recovers_the_hips_position(standing_world_m: np.ndarray) -> None:
    truth = np.array([0.4, -0.1, 3.2])
    (observation,) = observe(standing_world_m, truth)
    fitted = solve_camera_translation(standing_world_m, observation.keypoints[:, :2], np.ones(33), CAMERA.matrix)
    assert np.allclose(fitted, truth, atol=1e-6)


def test_stepping_to_own_left_and_toward_the_camera_moves_the_avatar(standing_world_m: np.ndarray) -> None:
    lifter = MonocularLifter(CAMERA, auto_upright=False)
    hips = lambda body: (body.joints_m[L["left_hip"]] + body.joints_m[L["right_hip"]]) / 2  # noqa: E731
    start = hips(lifter.lift(observe(standing_world_m, np.array([0.0, 0.0, 3.0]), 0.0)))
    # Facing the camera, the performer's own left is the image's right (+x in camera axes).
    left = hips(lifter.lift(observe(standing_world_m, np.array([0.5, 0.0, 3.0]), 0.1)))
    closer = hips(lifter.lift(observe(standing_world_m, np.array([0.0, 0.0, 2.0]), 0.2)))
    assert left[0] - start[0] == pytest.approx(0.5, abs=0.01)   # avatar's left is +X
    assert closer[2] - start[2] == pytest.approx(1.0, abs=0.01)  # toward the camera is +Z, the avatar's front


def test_landmarks_are_y_up_with_feet_on_the_floor(standing_world_m: np.ndarray) -> None:
    lifter = MonocularLifter(CAMERA, auto_upright=False)
    body = lifter.lift(observe(standing_world_m, np.array([0.0, 0.2, 3.0])))
    feet = [L[n] for n in ("left_heel", "right_heel", "left_foot_index", "right_foot_index")]
    assert body.joints_m[L["nose"], 1] > body.joints_m[L["left_hip"], 1] > body.joints_m[feet, 1].max()
    assert abs(body.joints_m[feet, 1].min()) < 0.02


def test_mirror_swaps_sides(standing_world_m: np.ndarray) -> None:
    plain = MonocularLifter(CAMERA, auto_upright=False).lift(observe(standing_world_m, np.array([0.0, 0.0, 3.0])))
    mirrored = MonocularLifter(CAMERA, mirror=True, auto_upright=False).lift(
        observe(standing_world_m, np.array([0.0, 0.0, 3.0])))
    assert np.allclose(mirrored.joints_m[L["left_wrist"]] * [-1, 1, 1], plain.joints_m[L["right_wrist"]])
