"""MediaPipe Pose as mocap runs it, against MediaPipe's own expected landmarks."""

import json

import cv2
import numpy as np
from conftest import shared

from mocap.estimation import MediaPipePoseEstimator
from mocap.frames import Frame


def test_full_model_matches_mediapipe_expected_landmarks() -> None:
    image_path = shared("mediapipe_expected/ios_pose_landmarker_test_image.jpg")
    expected = json.loads(shared("mediapipe_expected/ios_pose_landmarker_expected.json").read_text())
    expected_xy = np.array(expected["pose_landmarker_full"])[:, :2]
    image = cv2.cvtColor(cv2.imread(str(image_path)), cv2.COLOR_BGR2RGB)
    with MediaPipePoseEstimator(model_complexity=1, static_image_mode=True) as estimator:
        observation = estimator.estimate(Frame(image, 0.0, 0))
    width, height = observation.image_size
    got_xy = observation.keypoints[:, :2] / np.array([width, height])
    assert observation.world_m is not None and observation.world_m.shape == (33, 3)
    assert np.abs(got_xy - expected_xy).max() < 0.03


def test_empty_image_reports_nobody() -> None:
    with MediaPipePoseEstimator() as estimator:
        observation = estimator.estimate(Frame(np.zeros((480, 640, 3), np.uint8), 0.0, 0))
    assert not observation.detected
    assert np.isnan(observation.keypoints).all()
