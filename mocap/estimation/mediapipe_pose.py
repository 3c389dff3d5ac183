"""Pose estimation with MediaPipe in tracking mode, per camera: the body (BlazePose, 33
landmarks), and on request the hands (21 landmarks each) and the face mesh (478 with irises).

Which MediaPipe graph runs is chosen for speed (measured in docs/hands-and-face.md): the body
alone is MediaPipe Pose; the body and face are Pose plus Face Mesh; with hands, Holistic, whose
hand crops follow the body's wrists (so each hand is the performer's own, with no palm search
while a hand is out of view). Hand and face landmarks are kept in pixels: x, y in the image and
MediaPipe's relative depth scaled like x.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from mocap.core.conventions import (
    LANDMARK_INDEX,
    NUM_FACE_LANDMARKS,
    NUM_HAND_LANDMARKS,
    NUM_POSE_LANDMARKS,
)
from mocap.core.errors import MocapError
from mocap.core.frames import Frame, Observations, PoseObservation
from mocap.sources.sync import FrameSet, camera_frames

os.environ.setdefault("GLOG_minloglevel", "2")  # keep MediaPipe's C++ logging off the console


def landmarks_px(landmarks: object, width: int, height: int, count: int) -> NDArray[np.float64]:
    """A MediaPipe NormalizedLandmarkList (or None) as (count, 3) x px, y px, depth px (scaled like x)."""
    if landmarks is None:
        return np.full((count, 3), np.nan)
    return np.array([(lm.x * width, lm.y * height, lm.z * width) for lm in landmarks.landmark])  # type: ignore[attr-defined]


def own_hands(hands_px: NDArray[np.float64], keypoints: NDArray[np.float64]) -> NDArray[np.float64]:
    """``hands_px`` (2, 21, 3: left, right) without a hand whose wrist is nearer the body's other
    wrist than its own: Holistic looks for a hand that left the view near the other one, and finds
    that one twice."""
    own = hands_px.copy()
    wrists = keypoints[[LANDMARK_INDEX["left_wrist"], LANDMARK_INDEX["right_wrist"]], :2]
    for side in (0, 1):
        distance_own = np.linalg.norm(own[side, 0, :2] - wrists[side])
        distance_other = np.linalg.norm(own[side, 0, :2] - wrists[1 - side])
        if not distance_own < distance_other:   # NaN (no hand, or no wrists) keeps nothing
            own[side] = np.nan
    return own


class MediaPipePoseEstimator:
    """MediaPipe for one camera: the body, and the ``hands`` and ``face`` when asked.

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
        hands: bool = False,
        face: bool = False,
    ) -> None:
        import mediapipe as mp  # imported here: it takes about a second

        self.hands, self.face = hands, face
        confidences = dict(min_detection_confidence=min_detection_confidence,
                           min_tracking_confidence=min_tracking_confidence)
        self._face_mesh = None
        try:
            if hands:
                self._pose = mp.solutions.holistic.Holistic(
                    static_image_mode=static_image_mode, model_complexity=model_complexity,
                    smooth_landmarks=smooth_landmarks, refine_face_landmarks=face, **confidences)
            else:
                self._pose = mp.solutions.pose.Pose(
                    static_image_mode=static_image_mode, model_complexity=model_complexity,
                    smooth_landmarks=smooth_landmarks, **confidences)
            if face and not hands:
                self._face_mesh = mp.solutions.face_mesh.FaceMesh(
                    static_image_mode=static_image_mode, max_num_faces=1, refine_landmarks=True, **confidences)
        except OSError as error:  # urllib's URLError is an OSError
            model = {0: "lite", 2: "heavy"}.get(model_complexity, str(model_complexity))
            raise MocapError(
                f"MediaPipe could not download its {model} pose model ({error}): run `mocap models` to "
                "install it from the npm registry, or use --model-complexity 1 (the full model, bundled)"
            ) from None

    def estimate(self, frame: Frame) -> PoseObservation:
        width, height = frame.size
        result = self._pose.process(frame.image_rgb)
        hands = face = None
        if self.hands:
            hands = np.stack([landmarks_px(result.left_hand_landmarks, width, height, NUM_HAND_LANDMARKS),
                              landmarks_px(result.right_hand_landmarks, width, height, NUM_HAND_LANDMARKS)])
        if self._face_mesh is not None:
            faces = self._face_mesh.process(frame.image_rgb).multi_face_landmarks
            face = landmarks_px(faces[0] if faces else None, width, height, NUM_FACE_LANDMARKS)
        elif self.face:
            face = landmarks_px(result.face_landmarks, width, height, NUM_FACE_LANDMARKS)
        if result.pose_landmarks is None:
            nothing = np.full((NUM_POSE_LANDMARKS, 3), np.nan)
            return PoseObservation(frame.timestamp_s, (width, height), nothing, None, hands, face)
        image_points = np.array(
            [(lm.x * width, lm.y * height, lm.visibility) for lm in result.pose_landmarks.landmark]
        )
        world = np.array([(lm.x, lm.y, lm.z) for lm in result.pose_world_landmarks.landmark])
        if hands is not None:
            hands = own_hands(hands, image_points)
        return PoseObservation(frame.timestamp_s, (width, height), image_points, world, hands, face)

    def close(self) -> None:
        self._pose.close()
        if self._face_mesh is not None:
            self._face_mesh.close()

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
