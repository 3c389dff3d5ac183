"""The data passed between pipeline stages, one type per layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.skeleton import Skeleton


@dataclass(frozen=True)
class Frame:
    """One image from a source."""

    image_rgb: NDArray[np.uint8]  # (height, width, 3)
    timestamp_s: float            # seconds since the source started
    index: int                    # 0-based frame number
    captured_monotonic_s: float | None = None   # time.monotonic() at capture (live sources); None for files

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image_rgb.shape[1]), int(self.image_rgb.shape[0])


@dataclass(frozen=True)
class PoseObservation:
    """What the estimator saw in one frame of one camera."""

    timestamp_s: float
    image_size: tuple[int, int]            # (width, height) pixels
    keypoints: NDArray[np.float64]         # (33, 3): x px, y px, confidence 0..1; NaN when nobody
    world_m: NDArray[np.float64] | None    # (33, 3) metres, origin mid-hips, camera axes (x right, y down, z away)

    @property
    def detected(self) -> bool:
        return bool(np.isfinite(self.keypoints[:, 2]).any())


Observations = tuple[PoseObservation, ...]
"""One frame's observations, one per camera (in the calibration's order; one with one camera)."""


@dataclass(frozen=True)
class BodyPose:
    """Landmarks lifted to the internal world frame (+Y up, facing +Z, metres)."""

    timestamp_s: float
    joints_m: NDArray[np.float64]     # (33, 3) world positions; NaN when unknown
    confidence: NDArray[np.float64]   # (33,) 0..1; 0 when unknown
    detected: bool


@dataclass(frozen=True)
class SkeletonPose:
    """The solved rig for one frame."""

    timestamp_s: float
    skeleton: Skeleton
    root_position_m: NDArray[np.float64]  # (3,) hips joint in the world frame
    local_rotations: Rotation              # (bones,) from T-pose, in the parent's frame
    tracked: bool                          # False while nobody is in view (holding / easing to rest)
    skeleton_settled: bool                 # True once the performer's proportions are final
