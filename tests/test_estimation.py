"""MediaPipe Pose as mocap runs it, against MediaPipe's own expected landmarks."""

import json

import cv2
import numpy as np
from conftest import shared

from mocap.core.frames import Frame
from mocap.estimation.mediapipe_pose import MediaPipePoseEstimator


def landmarks_on_mediapipe_test_image(model_complexity: int) -> tuple[np.ndarray, dict]:
    """Normalised x, y of the 33 landmarks mocap finds on MediaPipe's own test image, and the
    landmarks MediaPipe's tests expect there for each model."""
    image_path = shared("mediapipe_expected/ios_pose_landmarker_test_image.jpg")
    expected = json.loads(shared("mediapipe_expected/ios_pose_landmarker_expected.json").read_text())
    image = cv2.cvtColor(cv2.imread(str(image_path)), cv2.COLOR_BGR2RGB)
    with MediaPipePoseEstimator(model_complexity=model_complexity, static_image_mode=True) as estimator:
        observation = estimator.estimate(Frame(image, 0.0, 0))
    assert observation.world_m is not None and observation.world_m.shape == (33, 3)
    width, height = observation.image_size
    return observation.keypoints[:, :2] / np.array([width, height]), expected


def test_full_model_matches_mediapipe_expected_landmarks() -> None:
    got_xy, expected = landmarks_on_mediapipe_test_image(1)
    assert np.abs(got_xy - np.array(expected["pose_landmarker_full"])[:, :2]).max() < 0.03


def test_heavy_model_installed_by_mocap_models_is_the_heavy_one() -> None:
    """`mocap models` (run by `make test`) installed the heavy model: it finds MediaPipe's
    expected heavy landmarks, which lie up to 0.05 from the full model's."""
    got_xy, expected = landmarks_on_mediapipe_test_image(2)
    assert np.abs(got_xy - np.array(expected["pose_landmarker_heavy"])[:, :2]).max() < 0.02
    assert np.abs(got_xy - np.array(expected["pose_landmarker_full"])[:, :2]).max() > 0.04


def test_empty_image_reports_nobody() -> None:
    with MediaPipePoseEstimator() as estimator:
        observation = estimator.estimate(Frame(np.zeros((480, 640, 3), np.uint8), 0.0, 0))
    assert not observation.detected
    assert np.isnan(observation.keypoints).all()
