"""Multi-camera lifting: several cameras' landmarks -> 3D joints in the internal world frame.

The calibration's world frame can have any orientation (Pose2Sim's is Z-up, a board on the
floor gives whatever the board gave). :func:`world_alignment` turns it into the internal
frame: up is the cameras' mean "image up" direction (snapped to a calibration axis when
within 20 degrees of one), and +Z points horizontally from the scene toward the first
camera, so a performer facing camera 0 drives the avatar in its rest facing, as with one
camera. Stage placement (origin under the first-seen hips, floor at y = 0) is the
monocular path's.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.cameras.camera_model import CameraModel
from mocap.core.conventions import HIP_LANDMARKS
from mocap.core.frames import BodyPose, Observations
from mocap.lifting.body_fit import DEFAULT_FIT, BodyFit, FitSettings
from mocap.lifting.dropouts import DropoutBridge
from mocap.lifting.monocular import StagePlacement, nobody
from mocap.lifting.triangulation import Triangulator

SNAP_TO_AXIS_DEG = 20.0


def level_rotation(cameras: list[CameraModel], up: NDArray[np.float64]) -> Rotation:
    """Rotation from calibration axes to the internal frame whose +Y is ``up`` (a unit vector in
    calibration axes) and whose +Z points horizontally from the scene toward camera 0."""
    camera0 = cameras[0].rotation   # world -> camera
    toward_camera0 = -camera0.inv().apply(np.array([0.0, 0.0, 1.0]))
    forward = toward_camera0 - np.dot(toward_camera0, up) * up
    if np.linalg.norm(forward) < 1e-6:  # camera 0 looks straight down: use its image-down direction
        forward = camera0.inv().apply(np.array([0.0, 1.0, 0.0]))
        forward -= np.dot(forward, up) * up
    forward /= np.linalg.norm(forward)
    left = np.cross(up, forward)
    return Rotation.from_matrix(np.stack([left, up, forward]))


def world_alignment(cameras: list[CameraModel]) -> Rotation:
    """Rotation from the calibration's world axes to the internal frame, with up taken from
    the cameras' mean image-up direction (snapped to an axis within 20 degrees)."""
    rotations = Rotation.concatenate([c.rotation for c in cameras])   # world -> camera
    up = rotations.inv().apply(np.array([0.0, -1.0, 0.0])).mean(axis=0)
    up /= np.linalg.norm(up)
    axis = int(np.argmax(np.abs(up)))
    if np.degrees(np.arccos(min(abs(up[axis]), 1.0))) < SNAP_TO_AXIS_DEG:
        up = np.sign(up[axis]) * np.eye(3)[axis]
    return level_rotation(cameras, up)


class MultiViewLifter:
    """Lifts one frame's observations (one per calibrated camera, same order) to a :class:`BodyPose`:
    triangulated, then fitted to every view at once (:mod:`mocap.lifting.body_fit`; ``fit`` None:
    the triangulation alone)."""

    def __init__(
        self,
        cameras: list[CameraModel],
        *,
        min_confidence: float = 0.5,
        max_reprojection_error: float = 0.02,
        swap_check: bool = True,
        floor_window_s: float = 10.0,
        fit: FitSettings | None = DEFAULT_FIT,
    ) -> None:
        self._cameras = cameras
        self._min_view_confidence = min(min_confidence, 0.3)
        self._max_reprojection_error = max_reprojection_error
        self._swap_check = swap_check
        self._triangulator: Triangulator | None = None
        self._fit_settings = fit
        self._fit: BodyFit | None = None
        self._to_world = world_alignment(cameras)
        self._stage = StagePlacement(min_confidence=min_confidence, floor_window_s=floor_window_s)
        self._bridge = DropoutBridge(min_confidence=min_confidence)

    def camera_frusta(self, depth_m: float = 0.3) -> list[NDArray[np.float64]]:
        """Each camera drawn as a pyramid in the internal frame as the stage stands now (after the
        last lifted frame): its centre, then its image's four corners ``depth_m`` in front of it,
        (5, 3) metres each."""
        frusta = []
        for camera in self._cameras:
            width, height = camera.image_size
            corners_px = np.array([[0.0, 0.0, 1.0], [width, 0.0, 1.0], [width, height, 1.0], [0.0, height, 1.0]])
            rays = corners_px @ np.linalg.inv(camera.matrix).T                  # camera axes, z = 1
            in_calibration = camera.rotation.inv().apply(np.vstack([np.zeros(3), depth_m * rays]) - camera.translation_m)
            frusta.append(self._to_world.apply(in_calibration) - self._stage.shift_m)
        return frusta

    def lift(self, observations: Observations) -> BodyPose:
        timestamp_s = max(o.timestamp_s for o in observations)
        if sum(o.detected for o in observations) < 1:
            return nobody(timestamp_s)
        keypoints = np.stack([o.keypoints for o in observations])
        world = np.stack([o.world_m if o.world_m is not None else np.full_like(o.keypoints, np.nan) for o in observations])
        if self._triangulator is None:  # calibrations are scaled to the images' real size
            scaled = [camera.scaled_to(o.image_size) for camera, o in zip(self._cameras, observations)]
            self._triangulator = Triangulator(
                scaled, min_confidence=self._min_view_confidence,
                max_reprojection_error=self._max_reprojection_error, swap_check=self._swap_check,
            )
            if self._fit_settings is not None:
                self._fit = BodyFit(self._triangulator, self._fit_settings)
        result = self._triangulator.triangulate(keypoints, world)
        if not np.isfinite(result.points_m[list(HIP_LANDMARKS)]).all():
            return nobody(timestamp_s)
        points, confidence = result.points_m, result.confidence
        if self._fit is not None:
            points, confidence = self._fit.fit(
                result.view_points, result.view_weights, self._triangulator.unswapped_world(world, result.swapped),
                points, timestamp_s,
            )
            if not np.isfinite(points[list(HIP_LANDMARKS)]).all():
                return nobody(timestamp_s)
        joints: NDArray[np.float64] = self._to_world.apply(np.nan_to_num(points))
        joints[~np.isfinite(points).all(axis=1)] = np.nan
        confidence = self._bridge(joints, confidence, timestamp_s)
        joints = self._stage.place(joints, confidence, timestamp_s)
        return BodyPose(timestamp_s, joints, confidence, detected=True)
