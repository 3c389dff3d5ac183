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
    hands_px: NDArray[np.float64] | None = None  # (2, 21, 3) the performer's left then right hand: x, y, depth px; NaN unseen
    face_px: NDArray[np.float64] | None = None   # (478, 3) face mesh with irises: x, y, depth px; NaN unseen

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
class FaceExpression:
    """One frame's face, from the face mesh. Every weight is 0..1 (0: neutral); sides are the
    performer's own. ``gaze_*``: where the eyes look, degrees from straight ahead."""

    blink_left: float
    blink_right: float
    jaw_open: float
    vowels: tuple[float, float, float, float, float]   # A, I, U, E, O mouth shapes
    brow_up: float            # both brows raised
    brow_down: float          # both brows lowered (a frown)
    gaze_yaw_deg: float       # + toward the performer's left
    gaze_pitch_deg: float     # + up


NEUTRAL_FACE = FaceExpression(0.0, 0.0, 0.0, (0.0, 0.0, 0.0, 0.0, 0.0), 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class SkeletonPose:
    """The solved rig for one frame."""

    timestamp_s: float
    skeleton: Skeleton
    root_position_m: NDArray[np.float64]  # (3,) hips joint in the world frame
    local_rotations: Rotation              # (bones,) from T-pose, in the parent's frame
    tracked: bool                          # False while nobody is in view (holding / easing to rest)
    skeleton_settled: bool                 # True once the performer's proportions are final
    face: FaceExpression | None = None     # the face's expression; None when the face is not tracked
