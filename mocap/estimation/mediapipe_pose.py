"""Pose estimation with MediaPipe Pose (BlazePose, 33 landmarks) in tracking mode, per camera."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from mocap.core.conventions import NUM_POSE_LANDMARKS
from mocap.core.errors import MocapError
from mocap.core.frames import Frame, Observations, PoseObservation
from mocap.sources.sync import FrameSet, camera_frames

os.environ.setdefault("GLOG_minloglevel", "2")  # keep MediaPipe's C++ logging off the console


class MediaPipePoseEstimator:
    """MediaPipe Pose for one camera.

    ``model_complexity``: 0 lite, 1 full (default), 2 heavy. Only the full model ships in
    the mediapipe 0.10.21 wheel; ``mocap models`` installs lite and heavy (``mocap.estimation.models``),
    or else MediaPipe downloads them from Google on first use. ``smooth_landmarks`` turns on
    MediaPipe's own One Euro filter; mocap filters landmarks itself (``mocap.filtering.temporal``)
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

        try:
            self._pose = mp.solutions.pose.Pose(
                static_image_mode=static_image_mode,
                model_complexity=model_complexity,
                smooth_landmarks=smooth_landmarks,
                min_detection_confidence=min_detection_confidence,
                min_tracking_confidence=min_tracking_confidence,
            )
        except OSError as error:  # urllib's URLError is an OSError
            model = {0: "lite", 2: "heavy"}.get(model_complexity, str(model_complexity))
            raise MocapError(
                f"MediaPipe could not download its {model} pose model ({error}): run `mocap models` to "
                "install it from the npm registry, or use --model-complexity 1 (the full model, bundled)"
            ) from None

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

    def __enter__(self) -> MediaPipePoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PerCameraEstimator:
    """One MediaPipe Pose per camera; with several, run concurrently on a thread each
    (MediaPipe's graph releases the GIL while it computes). A frame (one camera) or a frame set
    in, one observation per camera out."""

    def __init__(self, estimators: list[MediaPipePoseEstimator]) -> None:
        self._estimators = estimators
        self._pool = ThreadPoolExecutor(max_workers=len(estimators), thread_name_prefix="estimate")

    def estimate(self, frame: Frame | FrameSet) -> Observations:
        frames = camera_frames(frame)
        if len(self._estimators) == 1:
            return (self._estimators[0].estimate(frames[0]),)
        jobs = [self._pool.submit(estimator.estimate, one) for estimator, one in zip(self._estimators, frames)]
        return tuple(job.result() for job in jobs)

    def close(self) -> None:
        self._pool.shutdown()
        for estimator in self._estimators:
            estimator.close()
