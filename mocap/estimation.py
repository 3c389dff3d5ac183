"""Pose estimation with MediaPipe Pose (BlazePose, 33 landmarks) in tracking mode."""

from __future__ import annotations

import os

import numpy as np

from mocap.conventions import NUM_POSE_LANDMARKS
from mocap.frames import Frame, PoseObservation

os.environ.setdefault("GLOG_minloglevel", "2")  # keep MediaPipe's C++ logging off the console


class MediaPipePoseEstimator:
    """MediaPipe Pose for one camera.

    ``model_complexity``: 0 lite, 1 full (default), 2 heavy; all three ship in the
    mediapipe 0.10.21 wheel, so nothing is downloaded. ``smooth_landmarks`` turns on
    MediaPipe's own One Euro filter; mocap filters landmarks itself (``mocap.filtering``)
    and leaves it off by default so lag is not stacked on lag.
    """

    def __init__(
        self,
        *,
        model_complexity: int = 1,
        static_image_mode: bool = False,
        smooth_landmarks: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        import mediapipe as mp  # imported here: it takes about a second

        self._pose = mp.solutions.pose.Pose(
            static_image_mode=static_image_mode,
            model_complexity=model_complexity,
            smooth_landmarks=smooth_landmarks,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def estimate(self, frame: Frame) -> PoseObservation:
        width, height = frame.size
        result = self._pose.process(frame.image_rgb)
        if result.pose_landmarks is None:
            nothing = np.full((NUM_POSE_LANDMARKS, 3), np.nan)
            return PoseObservation(frame.timestamp_s, (width, height), nothing, None)
        image_points = np.array(
            [(lm.x * width, lm.y * height, lm.visibility) for lm in result.pose_landmarks.landmark]
        )
        world = np.array([(lm.x, lm.y, lm.z) for lm in result.pose_world_landmarks.landmark])
        return PoseObservation(frame.timestamp_s, (width, height), image_points, world)

    def close(self) -> None:
        self._pose.close()

    def __enter__(self) -> "MediaPipePoseEstimator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
