"""The camera model: intrinsics, OpenCV distortion and the world -> camera pose; projection
and undistortion. Calibration files are read and written by
:mod:`mocap.formats.calibration_file`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.errors import MocapError

DEFAULT_HORIZONTAL_FOV_DEG = 60.0  # a typical webcam (Logitech C920: 70 deg, laptop cameras: 55-65 deg)


@dataclass(frozen=True)
class CameraModel:
    """Pinhole camera with OpenCV distortion; extrinsics map world -> camera (metres)."""

    name: str
    image_size: tuple[int, int]          # (width, height) pixels
    matrix: NDArray[np.float64]          # (3, 3) pixels
    distortion: NDArray[np.float64]      # OpenCV coefficients, may be empty
    rotation: Rotation = field(default_factory=Rotation.identity)                   # world -> camera
    translation_m: NDArray[np.float64] = field(default_factory=lambda: np.zeros(3))  # world -> camera, metres

    @property
    def position_m(self) -> NDArray[np.float64]:
        """The camera's centre in world coordinates, metres."""
        return -self.rotation.inv().apply(np.asarray(self.translation_m, dtype=np.float64))

    def project(self, points_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """World points (N, 3), metres -> pixels (N, 2), lens distortion included."""
        points = np.asarray(points_m, dtype=np.float64).reshape(-1, 1, 3)
        pixels, _ = cv2.projectPoints(points, self.rotation.as_rotvec(), np.asarray(self.translation_m, dtype=np.float64),
                                      self.matrix, self.distortion)
        return np.asarray(pixels, dtype=np.float64).reshape(-1, 2)

    @classmethod
    def from_field_of_view(
        cls, image_size: tuple[int, int], horizontal_fov_deg: float = DEFAULT_HORIZONTAL_FOV_DEG
    ) -> CameraModel:
        """An ideal camera with square pixels and the principal point at the image centre."""
        width, height = image_size
        focal_px = (width / 2.0) / math.tan(math.radians(horizontal_fov_deg) / 2.0)
        matrix = np.array([[focal_px, 0.0, width / 2.0], [0.0, focal_px, height / 2.0], [0.0, 0.0, 1.0]])
        return cls("fov", image_size, matrix, np.zeros(0))

    def looking_at(self, name: str, position_m: NDArray[np.float64], target_m: NDArray[np.float64]) -> CameraModel:
        """This camera's intrinsics, named ``name``, placed at ``position_m`` and looking at
        ``target_m`` (metres), level: the world's +Y is image up."""
        forward = np.asarray(target_m, dtype=np.float64) - np.asarray(position_m, dtype=np.float64)
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        rotation = Rotation.from_matrix(np.stack([right, down, forward]))   # world -> camera rows: x right, y down, z ahead
        return CameraModel(name, self.image_size, self.matrix, self.distortion, rotation,
                           -rotation.apply(np.asarray(position_m, dtype=np.float64)))

    def scaled_to(self, image_size: tuple[int, int]) -> CameraModel:
        """The same camera at another resolution with the same aspect ratio.

        Sizes within 2% of the calibrated one (a 1088-pixel coded height shown as 1080) are
        taken as the same images, cropped or padded."""
        sx = image_size[0] / self.image_size[0]
        sy = image_size[1] / self.image_size[1]
        if abs(sx - 1.0) < 0.02 and abs(sy - 1.0) < 0.02:
            return self
        if abs(sx - sy) > 0.01 * max(sx, sy):
            raise MocapError(
                f"camera {self.name} was calibrated at {self.image_size[0]}x{self.image_size[1]} pixels but "
                f"its images are {image_size[0]}x{image_size[1]} (another aspect ratio): calibrate it at this resolution"
            )
        matrix = self.matrix * np.array([[sx], [sy], [1.0]])
        return CameraModel(self.name, image_size, matrix, self.distortion, self.rotation, self.translation_m)

    def undistort_pixels(self, points_px: NDArray[np.float64]) -> NDArray[np.float64]:
        """Pixel points (N, 2) with lens distortion removed, still in pixels."""
        if self.distortion.size == 0 or not np.any(self.distortion):
            return points_px
        finite = np.isfinite(points_px).all(axis=1)
        undistorted = np.array(points_px, dtype=np.float64, copy=True)
        if finite.any():
            src = points_px[finite].reshape(-1, 1, 2).astype(np.float64)
            undistorted[finite] = cv2.undistortPoints(src, self.matrix, self.distortion, P=self.matrix).reshape(-1, 2)
        return undistorted
