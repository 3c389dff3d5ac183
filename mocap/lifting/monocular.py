"""Monocular lifting: one camera's landmarks -> 3D joints in the internal world frame.

The body comes from MediaPipe's world landmarks (metres, origin mid-hips, camera axes).
The hips' position in the camera frame is the translation that makes those landmarks
project onto the image landmarks through the camera intrinsics (a linear least-squares
fit, weighted by landmark confidence), so stepping toward, away from or across the view
moves the avatar. Camera axes are then turned into the world frame (+Y up, the performer
facing the camera faces +Z, their left is +X); the horizontal origin is where the
performer was first seen and the floor (y = 0) is a low percentile of recent foot heights.

MediaPipe's world landmarks lean: on the demo clip a performer standing upright comes out
pitched about 20 degrees toward the camera. :class:`UprightCorrection` learns that tilt from
frames where the performer stands with straight legs and takes it out of every frame.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.cameras.camera_model import DEFAULT_HORIZONTAL_FOV_DEG, CameraModel
from mocap.core.conventions import (
    HIP_LANDMARKS,
    LANDMARK_INDEX,
    NUM_POSE_LANDMARKS,
    camera_to_world,
    mirrored_landmark_order,
)
from mocap.core.frames import BodyPose, Observations
from mocap.lifting.dropouts import DropoutBridge
from mocap.lifting.head import turn_head_to_face

FOOT_LANDMARKS = [LANDMARK_INDEX[name] for name in (
    "left_heel", "right_heel", "left_foot_index", "right_foot_index", "left_ankle", "right_ankle")]


def solve_camera_translation(
    world_m: NDArray[np.float64], pixels: NDArray[np.float64], weights: NDArray[np.float64], matrix: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Translation t (metres, camera frame) such that ``world_m + t`` projects onto ``pixels``.

    For each point, u = fx (X + tx) / (Z + tz) + cx is linear in t once multiplied out;
    the weighted least-squares solution of all those equations is returned.
    """
    fx, fy, cx, cy = matrix[0, 0], matrix[1, 1], matrix[0, 2], matrix[1, 2]
    du = cx - pixels[:, 0]
    dv = cy - pixels[:, 1]
    zeros = np.zeros_like(du)
    rows_u = np.stack([np.full_like(du, fx), zeros, du], axis=1)
    rows_v = np.stack([zeros, np.full_like(dv, fy), dv], axis=1)
    rhs_u = -(fx * world_m[:, 0] + du * world_m[:, 2])
    rhs_v = -(fy * world_m[:, 1] + dv * world_m[:, 2])
    root_w = np.sqrt(np.concatenate([weights, weights]))
    system = np.concatenate([rows_u, rows_v]) * root_w[:, None]
    rhs = np.concatenate([rhs_u, rhs_v]) * root_w
    translation, *_ = np.linalg.lstsq(system, rhs, rcond=None)
    return translation


def nobody(timestamp_s: float) -> BodyPose:
    """The body of a frame where nobody was seen."""
    return BodyPose(timestamp_s, np.full((NUM_POSE_LANDMARKS, 3), np.nan), np.zeros(NUM_POSE_LANDMARKS), detected=False)


class StagePlacement:
    """Shifts world joints so the first-seen hips stand above the origin and the floor is y = 0.

    The floor is the ``floor_percentile`` of the lowest confident foot landmark over the last
    ``floor_window_s`` seconds.
    """

    def __init__(self, *, min_confidence: float, floor_window_s: float = 10.0, floor_percentile: float = 10.0) -> None:
        self._min_confidence = min_confidence
        self._floor_window_s = floor_window_s
        self._floor_percentile = floor_percentile
        self._foot_heights: deque[tuple[float, float]] = deque()
        self._origin_xz: NDArray[np.float64] | None = None
        self.shift_m = np.zeros(3)   # the last shift applied: where the stage's origin (floor under the first hips) was, metres

    def place(self, joints: NDArray[np.float64], confidence: NDArray[np.float64], timestamp_s: float) -> NDArray[np.float64]:
        hips = joints[list(HIP_LANDMARKS)].mean(axis=0)
        if self._origin_xz is None:
            self._origin_xz = hips[[0, 2]].copy()
        feet = [i for i in FOOT_LANDMARKS if confidence[i] >= self._min_confidence and np.isfinite(joints[i, 1])]
        if feet:
            self._foot_heights.append((timestamp_s, float(joints[feet, 1].min())))
        while self._foot_heights and self._foot_heights[0][0] < timestamp_s - self._floor_window_s:
            self._foot_heights.popleft()
        if self._foot_heights:
            floor_y = float(np.percentile([h for _, h in self._foot_heights], self._floor_percentile))
        else:
            floor_y = float(hips[1]) - 0.9  # no foot seen yet: assume hips about 0.9 m up
        self.shift_m = np.array([self._origin_xz[0], floor_y, self._origin_xz[1]])
        return joints - self.shift_m


class UprightCorrection:
    """The rotation (camera axes) that makes the performer's standing body axis vertical.

    The body axis is mid-ankles -> mid-shoulders, sampled in frames where both knees are
    straighter than ``straight_knee_deg`` and the legs are confidently seen; the mean of the
    first ``samples_needed`` samples fixes the correction. Until then, no correction.
    """

    def __init__(self, *, samples_needed: int = 10, straight_knee_deg: float = 25.0, min_confidence: float = 0.7) -> None:
        self._samples_needed = samples_needed
        self._straight_cos = float(np.cos(np.radians(straight_knee_deg)))
        self._min_confidence = min_confidence
        self._axes: list[NDArray[np.float64]] = []
        self.rotation = Rotation.identity()

    def update(self, world_m: NDArray[np.float64], confidence: NDArray[np.float64]) -> None:
        if len(self._axes) >= self._samples_needed:
            return
        names = ("hip", "knee", "ankle", "shoulder")
        index = {f"{side}_{n}": LANDMARK_INDEX[f"{side}_{n}"] for side in ("left", "right") for n in names}
        if np.any(confidence[list(index.values())] < self._min_confidence):
            return
        for side in ("left", "right"):
            thigh = world_m[index[f"{side}_knee"]] - world_m[index[f"{side}_hip"]]
            shin = world_m[index[f"{side}_ankle"]] - world_m[index[f"{side}_knee"]]
            if np.dot(thigh, shin) < self._straight_cos * np.linalg.norm(thigh) * np.linalg.norm(shin):
                return
        ankles = (world_m[index["left_ankle"]] + world_m[index["right_ankle"]]) / 2.0
        shoulders = (world_m[index["left_shoulder"]] + world_m[index["right_shoulder"]]) / 2.0
        axis = shoulders - ankles
        self._axes.append(axis / np.linalg.norm(axis))
        if len(self._axes) == self._samples_needed:
            mean_axis = np.mean(self._axes, axis=0)
            camera_up = np.array([0.0, -1.0, 0.0])
            self.rotation, _ = Rotation.align_vectors([camera_up], [mean_axis])


class MonocularLifter:
    """Lifts one camera's :class:`PoseObservation` to a :class:`BodyPose`.

    ``camera``: a calibrated camera (its intrinsics are scaled to the frame size), or None to
    use ``horizontal_fov_deg``. ``camera_pitch_deg``: how far the camera looks down (degrees).
    ``mirror``: reflect the performer (a selfie view), swapping left and right.
    ``min_confidence``: landmarks below it do not count toward the fit or the floor.
    ``auto_upright``: learn and remove MediaPipe's lean (see :class:`UprightCorrection`).
    """

    def __init__(
        self,
        camera: CameraModel | None = None,
        *,
        horizontal_fov_deg: float = DEFAULT_HORIZONTAL_FOV_DEG,
        camera_pitch_deg: float = 0.0,
        mirror: bool = False,
        min_confidence: float = 0.5,
        floor_window_s: float = 10.0,
        floor_percentile: float = 10.0,
        auto_upright: bool = True,
    ) -> None:
        self._upright = UprightCorrection() if auto_upright else None
        self._camera = camera
        self._fov_deg = horizontal_fov_deg
        self._to_world = camera_to_world(camera_pitch_deg)
        self._mirror = mirror
        self._min_confidence = min_confidence
        self._stage = StagePlacement(
            min_confidence=min_confidence, floor_window_s=floor_window_s, floor_percentile=floor_percentile
        )
        self._bridge = DropoutBridge(min_confidence=min_confidence)

    def camera_for(self, image_size: tuple[int, int]) -> CameraModel:
        if self._camera is None:
            self._camera = CameraModel.from_field_of_view(image_size, self._fov_deg)
        return self._camera.scaled_to(image_size)

    def lift(self, observations: Observations) -> BodyPose:
        """The one camera's observation (``observations`` holds exactly one) lifted."""
        (observation,) = observations
        if not observation.detected or observation.world_m is None:
            return nobody(observation.timestamp_s)
        camera = self.camera_for(observation.image_size)
        confidence = np.nan_to_num(observation.keypoints[:, 2])
        body_m = turn_head_to_face(observation.world_m, observation.face_px)
        if self._upright is not None:
            self._upright.update(body_m, confidence)
            body_m = self._upright.rotation.apply(body_m)
        pixels = camera.undistort_pixels(observation.keypoints[:, :2])
        usable = (confidence >= self._min_confidence) & np.isfinite(pixels).all(axis=1)
        if usable.sum() < 4:
            usable = np.isfinite(pixels).all(axis=1)
        translation = solve_camera_translation(
            body_m[usable], pixels[usable], np.maximum(confidence[usable], 1e-3), camera.matrix
        )
        joints = self._to_world.apply(body_m + translation)
        if self._mirror:
            joints[:, 0] *= -1.0
            order = mirrored_landmark_order()
            joints, confidence = joints[order], confidence[order]
        confidence = self._bridge(joints, confidence, observation.timestamp_s)
        joints = self._stage.place(joints, confidence, observation.timestamp_s)
        return BodyPose(observation.timestamp_s, joints, confidence, detected=True)
