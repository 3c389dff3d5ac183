"""Fitting one frame's body to every camera at once (several calibrated cameras).

Per-joint triangulation turns pixel noise into depth noise: with two webcams 1.2 m apart and
4 m away, 2 px of noise moves a joint about 4 cm along the view. The fit instead finds all
joints together (X, (joints, 3) metres, calibration world frame) minimising

- reprojection: each view's distance in pixels between the joint's projection and its
  keypoint, weighted by confidence, under a Cauchy loss (scale ``robust_px``) so an outlier
  keypoint pulls little;
- shape: each camera's metric world landmarks (MediaPipe's, origin mid-hips) turned into the
  world, against the joints relative to the fitted mid-hips (``shape_sd_m``; also robust), so
  the body's shape comes from every view's model of the body and only its place from the rays;
- motion: each joint against where it was in the previous fit (``speed_m_s`` times the frame
  time as the standard deviation; dropped after a gap of ``max_gap_s``).

All three are linear in X once each view's depth is fixed, so each iteration is one weighted
linear least-squares solve of 3 x joints unknowns, with the depths and robust weights updated
between iterations (iteratively reweighted least squares), starting from the DLT triangulation.
A joint no view sees confidently is still placed by the shape and motion terms, from the rest
of the body; its confidence stays the views' (:mod:`mocap.lifting.dropouts` decides whether that
prediction is trusted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mocap.core.conventions import HIP_LANDMARKS, NUM_POSE_LANDMARKS
from mocap.core.vectors import cross


@dataclass(frozen=True)
class FitSettings:
    robust_px: float = 0.008        # Cauchy scale of the reprojection loss, as a fraction of the image height (6 px at 720p)
    shape_sd_m: float = 0.03        # how far a camera's world landmarks may stray from the body's shape, metres
    speed_m_s: float = 4.0          # a joint's fast speed: the motion term's standard deviation per second
    max_gap_s: float = 0.25         # no motion term after a gap this long
    iterations: int = 3
    start_disagreement_m: float = 0.15   # a triangulated joint this far from the body shape's starts from the shape


DEFAULT_FIT = FitSettings()


def _inverse_3x3(matrices: NDArray[np.float64]) -> NDArray[np.float64]:
    """Inverses of (n, 3, 3) matrices by their adjugates: columns r1 x r2, r2 x r0, r0 x r1 over
    the determinant (np.linalg.inv's per-call LAPACK cost is a millisecond for 31 of them here)."""
    r0, r1, r2 = matrices[:, 0], matrices[:, 1], matrices[:, 2]
    adjugate = np.stack([cross(r1, r2), cross(r2, r0), cross(r0, r1)], axis=2)
    determinant = np.einsum("ni,ni->n", r0, adjugate[:, :, 0])
    return adjugate / determinant[:, None, None]


def _cauchy(residual: NDArray[np.float64], scale: float | NDArray[np.float64]) -> NDArray[np.float64]:
    """IRLS weights of the Cauchy loss."""
    return 1.0 / (1.0 + (residual / scale) ** 2)


class BodyFit:
    """Fits joints to views (see the module docstring).

    ``rotations`` (C, 3, 3) and ``translations`` (C, 3) map world -> camera; ``focal_px`` (C,)
    and ``image_height_px`` (C,) scale normalised image errors to pixels; a view counts toward
    a joint's confidence where the fitted joint projects within ``agree_px`` (C,) of its keypoint."""

    def __init__(
        self,
        rotations: NDArray[np.float64],
        translations: NDArray[np.float64],
        focal_px: NDArray[np.float64],
        image_height_px: NDArray[np.float64],
        agree_px: NDArray[np.float64],
        settings: FitSettings = DEFAULT_FIT,
    ) -> None:
        self.rotations = rotations
        self.translations = translations
        self.focal_px = focal_px
        self.robust_px = settings.robust_px * image_height_px
        self.agree_px = agree_px
        self.settings = settings
        joints = NUM_POSE_LANDMARKS
        hips = np.zeros((joints, joints))
        hips[:, list(HIP_LANDMARKS)] = 0.5
        self._relative = np.eye(joints) - hips          # (J, J): row j gives X_j - mid-hips
        self._hips = np.array(HIP_LANDMARKS)
        self._others = np.array([j for j in range(joints) if j not in HIP_LANDMARKS])
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
        shape_targets, shape_weights = self._shape_prior(world_m, weights)
        motion_target, motion_weight = self._motion_prior(timestamp_s)
        points = self._start(start_m, shape_targets, shape_weights, motion_target)
        known = np.isfinite(points).all(axis=1)
        if not known[list(HIP_LANDMARKS)].all():
            return np.full((count, 3), np.nan), np.zeros(count)
        points = np.nan_to_num(points)
        view_weights = np.where(np.isfinite(normalised).all(axis=2), weights, 0.0)
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

    def _start(
        self, start_m: NDArray[np.float64], shape_targets: NDArray[np.float64], shape_weights: NDArray[np.float64],
        motion_target: NDArray[np.float64] | None,
    ) -> NDArray[np.float64]:
        """Where the iterations start: the triangulated joints, except where the cameras' body
        shape (placed at the triangulated mid-hips) puts a joint over ``start_disagreement_m``
        away (two nearly parallel views turn one view's outlier into a depth error that both
        views agree with, which no reprojection loss can see) or where nothing was triangulated;
        then the previous fit."""
        points = start_m.copy()
        hips = points[list(HIP_LANDMARKS)].mean(axis=0)
        if np.isfinite(hips).all():
            predicted = hips + shape_targets
            far = np.linalg.norm(points - predicted, axis=1) > self.settings.start_disagreement_m
            replace = (shape_weights > 0) & (far | ~np.isfinite(points).all(axis=1))
            points[replace] = predicted[replace]
        if motion_target is not None:
            unknown = ~np.isfinite(points).all(axis=1)
            points[unknown] = motion_target[unknown]
        return points

    def _shape_prior(
        self, world_m: NDArray[np.float64] | None, weights: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each joint's offset from mid-hips in world axes (J, 3), averaged over the views that
        give world landmarks, and its weight (J,), 1/m^2."""
        count = weights.shape[1]
        if world_m is None:
            return np.zeros((count, 3)), np.zeros(count)
        usable = np.isfinite(world_m).all(axis=2)                                   # (C, J)
        body = np.einsum("cji,cik->cjk", np.nan_to_num(world_m), self.rotations)   # R^T m per view: camera -> world axes
        body -= body[:, list(HIP_LANDMARKS)].mean(axis=1, keepdims=True)
        per_view = np.where(usable & usable[:, list(HIP_LANDMARKS)].all(axis=1, keepdims=True),
                            np.clip(weights, 0.2, 1.0), 0.0) / self.settings.shape_sd_m**2
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
        scale = self.robust_px[:, None]
        row_weights = view_weights * _cauchy(error_px, scale) * (self.focal_px[:, None] / (depth * scale)) ** 2
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
        return self._solve_arrowhead(shape, blocks, rhs)

    def _solve_arrowhead(
        self, shape: NDArray[np.float64], blocks: NDArray[np.float64], rhs: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Solves (shape kron I3 + blockdiag(blocks)) X = rhs for X (J, 3).

        The shape term ties each joint only to the two hips, so the other joints' equations are
        independent 3x3 systems once the hips are known: eliminating them (Schur complement)
        leaves a 6x6 system for the hips. Much faster than the dense 99x99 solve, whose LAPACK
        call alone costs about a millisecond here."""
        hips, others = self._hips, self._others
        coupling = shape[np.ix_(others, hips)]                                     # (O, 2) scalars times I3
        own = blocks[others] + shape[others, others][:, None, None] * np.eye(3)   # (O, 3, 3)
        own_inverse = _inverse_3x3(own)
        hip_system = np.zeros((2, 3, 2, 3))
        for a in range(2):
            hip_system[a, :, a, :] = blocks[hips[a]]
            for b in range(2):
                hip_system[a, :, b, :] += shape[hips[a], hips[b]] * np.eye(3)
        hip_system -= np.einsum("oa,ob,oxy->axby", coupling, coupling, own_inverse)
        solved_others = np.einsum("oxy,oy->ox", own_inverse, rhs[others])       # K^-1 g
        hip_rhs = rhs[hips] - np.einsum("oa,ox->ax", coupling, solved_others)
        hip_points = np.linalg.solve(hip_system.reshape(6, 6), hip_rhs.reshape(6)).reshape(2, 3)
        points = np.empty_like(rhs)
        points[hips] = hip_points
        points[others] = solved_others - np.einsum("oxy,oa,ay->ox", own_inverse, coupling, hip_points)
        return points

    def _confidence(
        self, points: NDArray[np.float64], xy: NDArray[np.float64], view_weights: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """The confidence of the most confident view the fitted joint projects within ``agree_px`` of."""
        camera = np.einsum("cik,jk->cji", self.rotations, np.nan_to_num(points)) + self.translations[:, None, :]
        error_px = np.linalg.norm(camera[:, :, :2] / np.maximum(camera[:, :, 2:], 1e-3) - xy, axis=2) * self.focal_px[:, None]
        confidence = np.where(error_px <= self.agree_px[:, None], view_weights, 0.0).max(axis=0)
        confidence[~np.isfinite(points).all(axis=1)] = 0.0
        return confidence
