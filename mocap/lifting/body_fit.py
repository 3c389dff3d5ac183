"""Fitting one frame's body to every camera at once (several calibrated cameras).

Per-joint triangulation turns pixel noise into depth noise: with two webcams 1.2 m apart and
4 m away, 2 px of noise moves a joint about 4 cm along the view. The fit instead finds all
joints together (X, (joints, 3) metres, calibration world frame) minimising

- reprojection: each view's distance in pixels between the joint's projection and its
  keypoint, weighted by confidence, under a Cauchy loss (scale ``robust_px``) so an outlier
  keypoint pulls little;
- bone lengths: each bone of :data:`BONES` against the performer's own length, the median of
  its first ``bone_samples`` confidently triangulated lengths (``bone_sd_m``): a joint whose
  depth the views cannot tell apart is held at its bone's length from its neighbour;
- shape: each camera's metric world landmarks (MediaPipe's, origin mid-hips), turned onto the
  body, against the joints relative to the fitted mid-hips (``shape_sd_m``, loose: on
  Pose2Sim's take MediaPipe's world landmarks lie a median 6-12 cm from the triangulated body
  even once turned onto it; also robust), which places joints no view sees;
- motion: each joint against where it was in the previous fit (``speed_m_s`` times the frame
  time as the standard deviation; dropped after a gap of ``max_gap_s``).

All are linear in X once each view's depth and each bone's direction are fixed, so each
iteration is one weighted linear least-squares solve of 3 x joints unknowns, with the depths,
directions and robust weights updated between iterations (iteratively reweighted least
squares), starting from the DLT triangulation. A joint no view sees confidently is still placed
by the other terms, from the rest of the body; its confidence stays the views'
(:mod:`mocap.lifting.dropouts` decides whether that prediction is trusted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mocap.core.conventions import HIP_LANDMARKS, LANDMARK_INDEX, NUM_POSE_LANDMARKS
from mocap.core.vectors import unit
from mocap.lifting.triangulation import Triangulator


@dataclass(frozen=True)
class FitSettings:
    pixel_sd: float = 0.005         # a keypoint's expected error, as a fraction of the image height (5 px at 1080p)
    robust_px: float = 0.015        # Cauchy scale of the reprojection loss, as a fraction of the image height (16 px at 1080p)
    bone_sd_m: float = 0.015        # how far a bone's length strays from the performer's measured length, metres
    bone_samples: int = 30          # confidently triangulated frames that measure each bone before its length is used
    max_break_m: float = 0.1        # a triangulated joint this far off every bone's length starts from the previous fit
    shape_sd_m: float = 0.12        # how far a camera's world landmarks stray from the body's shape once turned onto it
    speed_m_s: float = 4.0          # a joint's fast speed: the motion term's standard deviation per second
    max_gap_s: float = 0.25         # no motion term after a gap this long
    iterations: int = 3


DEFAULT_FIT = FitSettings()

# Bones whose length is measured and kept (BlazePose landmark pairs): limbs, hands, feet, torso
# sides, hip and shoulder widths, and the head as a rigid cluster round the ears.
_LIMB_BONES = (("shoulder", "elbow"), ("elbow", "wrist"), ("wrist", "index"), ("wrist", "pinky"), ("wrist", "thumb"),
               ("hip", "knee"), ("knee", "ankle"), ("ankle", "heel"), ("heel", "foot_index"), ("ankle", "foot_index"),
               ("shoulder", "hip"))
_NAMED_BONES = (
    [(f"{side}_{a}", f"{side}_{b}") for side in ("left", "right") for a, b in _LIMB_BONES]
    + [("left_hip", "right_hip"), ("left_shoulder", "right_shoulder"), ("left_ear", "right_ear")]
    + [(ear, face) for ear in ("left_ear", "right_ear") for face in ("nose", "left_eye", "right_eye", "mouth_left", "mouth_right")]
)
BONES: tuple[tuple[int, int], ...] = tuple((LANDMARK_INDEX[a], LANDMARK_INDEX[b]) for a, b in _NAMED_BONES)


def _cauchy(residual: NDArray[np.float64], scale: float | NDArray[np.float64]) -> NDArray[np.float64]:
    """IRLS weights of the Cauchy loss."""
    return 1.0 / (1.0 + (residual / scale) ** 2)


class BodyFit:
    """Fits joints to the views of ``triangulator``'s cameras (see the module docstring); a view
    counts toward a joint's confidence where the fitted joint projects within the
    triangulator's gating distance of its keypoint."""

    def __init__(self, triangulator: Triangulator, settings: FitSettings = DEFAULT_FIT) -> None:
        self.rotations = triangulator.rotations                       # (C, 3, 3) world -> camera
        self.translations = triangulator.projections[:, :, 3]         # (C, 3)
        self.focal_px = triangulator.focal_px                          # (C,)
        image_height_px = np.array([float(c.image_size[1]) for c in triangulator.cameras])
        self.pixel_sd_px = settings.pixel_sd * image_height_px
        self.robust_px = settings.robust_px * image_height_px
        self.agree_px = triangulator.max_error_px
        self.settings = settings
        joints = NUM_POSE_LANDMARKS
        hips = np.zeros((joints, joints))
        hips[:, list(HIP_LANDMARKS)] = 0.5
        self._relative = np.eye(joints) - hips          # (J, J): row j gives X_j - mid-hips
        self._bone_starts = np.array([a for a, _ in BONES])
        self._bone_ends = np.array([b for _, b in BONES])
        self._bone_samples: list[list[float]] = [[] for _ in BONES]
        self.bone_lengths_m = np.full(len(BONES), np.nan)   # the performer's, once measured
        self._previous: tuple[float, NDArray[np.float64]] | None = None

    def fit(
        self,
        normalised: NDArray[np.float64],
        weights: NDArray[np.float64],
        world_m: NDArray[np.float64] | None,
        start_m: NDArray[np.float64],
        timestamp_s: float,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Joints (J, 3) and their confidence (J,) from undistorted normalised keypoints
        (C, J, 2), their confidences (C, J; 0 = unusable), each view's world landmarks (C, J, 3,
        camera axes; NaN or None where absent) and a start (J, 3; NaN where unknown)."""
        count = normalised.shape[1]
        view_weights = np.where(np.isfinite(normalised).all(axis=2), weights, 0.0)
        self._measure_bones(start_m, view_weights)
        motion_target, motion_weight = self._motion_prior(timestamp_s)
        points = start_m.copy()
        if motion_target is not None:
            restart = ~np.isfinite(points).all(axis=1) | self._breaks_its_bones(points)
            points[restart] = motion_target[restart]
        hips = points[list(HIP_LANDMARKS)].mean(axis=0)
        if not np.isfinite(hips).all():
            return np.full((count, 3), np.nan), np.zeros(count)
        shape_targets, shape_weights = self._shape_prior(world_m, weights, points)
        unknown = ~np.isfinite(points).all(axis=1) & (shape_weights > 0)
        points[unknown] = hips + shape_targets[unknown]
        known = np.isfinite(points).all(axis=1)
        points = np.nan_to_num(points)
        xy = np.nan_to_num(normalised)
        for _ in range(self.settings.iterations):
            rows, offsets, row_weights = self._reprojection_rows(points, xy, view_weights)
            shape_robust = shape_weights * _cauchy(
                np.linalg.norm(self._relative @ points - shape_targets, axis=1), 2.0 * self.settings.shape_sd_m)
            motion_robust = None if motion_target is None else np.nan_to_num(motion_weight * _cauchy(
                np.linalg.norm(points - motion_target, axis=1), 2.0 / np.sqrt(motion_weight)))
            points = self._solve(rows, offsets, row_weights, shape_targets, shape_robust, motion_target, motion_robust, points)
        points[~known] = np.nan
        confidence = self._confidence(points, xy, view_weights)
        self._previous = (timestamp_s, points.copy())
        return points, confidence

    def _measure_bones(self, start_m: NDArray[np.float64], view_weights: NDArray[np.float64]) -> None:
        """Adds this frame's triangulated bone lengths where both ends are seen confidently by
        two views or more; a bone's length is the median of its first ``bone_samples``."""
        if np.isfinite(self.bone_lengths_m).all():
            return
        confident = (view_weights >= 0.5).sum(axis=0) >= 2
        lengths = np.linalg.norm(start_m[self._bone_starts] - start_m[self._bone_ends], axis=1)
        usable = confident[self._bone_starts] & confident[self._bone_ends] & np.isfinite(lengths)
        for bone in np.flatnonzero(usable & ~np.isfinite(self.bone_lengths_m)):
            samples = self._bone_samples[bone]
            samples.append(float(lengths[bone]))
            if len(samples) == self.settings.bone_samples:
                self.bone_lengths_m[bone] = float(np.median(samples))

    def _breaks_its_bones(self, points: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Joints (J,) every measured bone of which is ``max_break_m`` or more off its length:
        two nearly parallel views turn one view's outlier into a depth error both views agree
        with, which no reprojection loss can see, so such a joint starts where it was."""
        measured = np.isfinite(self.bone_lengths_m)
        starts, ends = self._bone_starts[measured], self._bone_ends[measured]
        broken = np.abs(np.linalg.norm(points[starts] - points[ends], axis=1) - self.bone_lengths_m[measured]) \
            >= self.settings.max_break_m
        count = len(points)
        bones_at = np.bincount(starts, minlength=count) + np.bincount(ends, minlength=count)
        broken_at = np.bincount(starts, weights=broken, minlength=count) + np.bincount(ends, weights=broken, minlength=count)
        return (bones_at > 0) & (broken_at == bones_at)

    def _shape_prior(
        self, world_m: NDArray[np.float64] | None, weights: NDArray[np.float64], points: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each joint's offset from mid-hips in world axes (J, 3), averaged over the views that
        give world landmarks, and its weight (J,), 1/m^2. Each view's world body is first turned
        (about the mid-hips) onto ``points`` where both are known: MediaPipe's world landmarks
        lean 2-30 degrees away from the camera's axes on real video."""
        count = weights.shape[1]
        if world_m is None:
            return np.zeros((count, 3)), np.zeros(count)
        hips = list(HIP_LANDMARKS)
        usable = np.isfinite(world_m).all(axis=2) & np.isfinite(world_m[:, hips]).all(axis=(1, 2))[:, None]   # (C, J)
        body = np.einsum("cji,cik->cjk", np.nan_to_num(world_m), self.rotations)   # R^T m per view: camera -> world axes
        body -= body[:, hips].mean(axis=1, keepdims=True)
        relative = points - points[hips].mean(axis=0)
        both = usable & np.isfinite(relative).all(axis=1)                              # (C, J)
        pair_weights = np.where(both, np.clip(weights, 0.1, 1.0), 0.0)
        covariance = np.einsum("cj,cja,jb->cab", pair_weights, body, np.nan_to_num(relative))
        u, _, vt = np.linalg.svd(covariance)                                           # Kabsch, every view at once
        flip = np.sign(np.linalg.det(u @ vt))
        u[:, :, 2] *= flip[:, None]
        turns = np.swapaxes(u @ vt, 1, 2)                                              # body -> relative
        turned = both.sum(axis=1) >= 4
        body[turned] = np.einsum("cab,cjb->cja", turns[turned], body[turned])
        per_view = np.where(usable, np.clip(weights, 0.2, 1.0), 0.0) / self.settings.shape_sd_m**2
        total = per_view.sum(axis=0)
        targets = np.einsum("cj,cji->ji", per_view, body) / np.maximum(total, 1e-12)[:, None]
        return targets, total

    def _motion_prior(self, timestamp_s: float) -> tuple[NDArray[np.float64] | None, float]:
        if self._previous is None:
            return None, 0.0
        previous_s, points = self._previous
        gap_s = timestamp_s - previous_s
        if not 0.0 < gap_s <= self.settings.max_gap_s:
            return None, 0.0
        return points, 1.0 / (self.settings.speed_m_s * gap_s) ** 2

    def _reprojection_rows(
        self, points: NDArray[np.float64], xy: NDArray[np.float64], view_weights: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Rows a (C, J, 2, 3), offsets b (C, J, 2) and weights (C, J) with a.X + b = the
        normalised error times the depth; the weights turn it into pixels over the noise,
        robustly."""
        camera = np.einsum("cik,jk->cji", self.rotations, points) + self.translations[:, None, :]
        depth = np.maximum(camera[:, :, 2], 1e-3)
        rows = self.rotations[:, None, :2, :] - xy[:, :, :, None] * self.rotations[:, None, 2:3, :]
        offsets = self.translations[:, None, :2] - xy * self.translations[:, None, 2:3]
        error_px = np.linalg.norm(camera[:, :, :2] / depth[:, :, None] - xy, axis=2) * self.focal_px[:, None]
        robust = _cauchy(error_px, self.robust_px[:, None])
        row_weights = view_weights * robust * (self.focal_px[:, None] / (depth * self.pixel_sd_px[:, None])) ** 2
        return rows, offsets, row_weights

    def _solve(
        self,
        rows: NDArray[np.float64],
        offsets: NDArray[np.float64],
        row_weights: NDArray[np.float64],
        shape_targets: NDArray[np.float64],
        shape_weights: NDArray[np.float64],
        motion_target: NDArray[np.float64] | None,
        motion_weights: NDArray[np.float64] | None,
        points: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """One weighted least-squares solve of all the terms for X (J, 3)."""
        count = points.shape[0]
        blocks = np.einsum("cj,cjka,cjkb->jab", row_weights, rows, rows)           # (J, 3, 3)
        rhs = -np.einsum("cj,cjka,cjk->ja", row_weights, rows, offsets)          # (J, 3)
        diagonal = np.full(count, 1e-6)                                         # keeps joints nothing sees solvable
        rhs += 1e-6 * points
        if motion_target is not None and motion_weights is not None:
            diagonal += motion_weights
            rhs += motion_weights[:, None] * np.nan_to_num(motion_target)
        blocks += diagonal[:, None, None] * np.eye(3)
        relative = self._relative
        shape = relative.T @ (shape_weights[:, None] * relative)                # (J, J)
        rhs += relative.T @ (shape_weights[:, None] * shape_targets)
        system = np.einsum("jk,ab->jakb", shape, np.eye(3))                     # (J, 3, J, 3): shape kron I3
        joint = np.arange(count)
        system[joint, :, joint, :] += blocks
        self._add_bones(system, rhs, points)
        return np.linalg.solve(system.reshape(3 * count, 3 * count), rhs.reshape(-1)).reshape(count, 3)

    def _add_bones(self, system: NDArray[np.float64], rhs: NDArray[np.float64], points: NDArray[np.float64]) -> None:
        """Adds each measured bone's length term, u.(X_a - X_b) = length with u the bone's
        current direction, to the normal equations (``system`` (J, 3, J, 3), ``rhs`` (J, 3))."""
        measured = np.isfinite(self.bone_lengths_m)
        if not measured.any():
            return
        starts, ends, lengths = self._bone_starts[measured], self._bone_ends[measured], self.bone_lengths_m[measured]
        direction = unit(points[starts] - points[ends])                          # (K, 3)
        outer = np.einsum("ka,kb->kab", direction, direction) / self.settings.bone_sd_m**2
        for first, second, sign in ((starts, starts, 1.0), (ends, ends, 1.0), (starts, ends, -1.0), (ends, starts, -1.0)):
            np.add.at(system, (first, slice(None), second), sign * outer)  # type: ignore[arg-type]
        pull = direction * (lengths / self.settings.bone_sd_m**2)[:, None]
        np.add.at(rhs, starts, pull)
        np.add.at(rhs, ends, -pull)

    def _confidence(
        self, points: NDArray[np.float64], xy: NDArray[np.float64], view_weights: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """The confidence of the most confident view the fitted joint projects within ``agree_px`` of."""
        camera = np.einsum("cik,jk->cji", self.rotations, np.nan_to_num(points)) + self.translations[:, None, :]
        error_px = np.linalg.norm(camera[:, :, :2] / np.maximum(camera[:, :, 2:], 1e-3) - xy, axis=2) * self.focal_px[:, None]
        confidence = np.where(error_px <= self.agree_px[:, None], view_weights, 0.0).max(axis=0)
        confidence[~np.isfinite(points).all(axis=1)] = 0.0
        return confidence
