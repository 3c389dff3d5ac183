"""Triangulating one frame's landmarks from two or more calibrated cameras.

For each joint, a confidence-weighted linear (DLT) triangulation on undistorted points:
each view adds two rows ``w (x P3 - P1)`` and ``w (y P3 - P2)`` where ``P`` is the view's
3x4 world -> normalised-camera matrix and ``w`` the landmark's confidence; the point is
their least-squares solution. Then:

- left/right swap check: a 2D detector sometimes labels a whole body mirrored in one view
  (a performer seen from behind). Each view's labels are tried swapped; the swap is kept
  when it more than halves the mean reprojection error.
- reprojection gating: a view whose reprojection error for a joint exceeds the limit is
  dropped and the joint re-triangulated from the others; a joint left with fewer than two
  views is not triangulated.
- monocular fallback: joints no two views agree on take the monocular world landmarks of
  the camera that sees the body best, rotated into the world and translated onto the
  triangulated joints.
- one camera alone: in a frame only one view sees the body (the performer stepped out of
  the other's picture, or something covers it), the whole body comes from that view's
  monocular world landmarks, its hips on the view's ray through the detected hips, as far
  from that camera as the last triangulated hips were. The body keeps following the picture
  across it; its distance from that camera holds until two views see it again. Before any
  frame was triangulated, the distance is the monocular path's instead (the translation that
  projects the monocular body onto its detections), 8-22 cm off on Pose2Sim's demo.

Points are in the calibration's world frame, metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from mocap.cameras.camera_model import CameraModel
from mocap.core.conventions import HIP_LANDMARKS, mirrored_landmark_order
from mocap.lifting.monocular import solve_camera_translation


@dataclass(frozen=True)
class Triangulation:
    """One frame's joints in the calibration world frame."""

    points_m: NDArray[np.float64]          # (joints, 3) metres; NaN where nothing was seen
    views: NDArray[np.int_]                # (joints,) views used; 0 = monocular fallback or missing
    reprojection_px: NDArray[np.float64]   # (joints,) mean reprojection error of the views used, pixels
    confidence: NDArray[np.float64]        # (joints,) mean confidence of the views used (fallback: that view's); 0 if missing
    swapped: NDArray[np.bool_]             # (cameras,) views whose left/right labels were swapped
    view_points: NDArray[np.float64]       # (cameras, joints, 2) undistorted normalised keypoints, swaps undone
    view_weights: NDArray[np.float64]      # (cameras, joints) their confidences before gating; 0 = unusable


def _rotation_matrices(cameras: list[CameraModel]) -> NDArray[np.float64]:
    return np.stack([c.rotation.as_matrix() for c in cameras])


class Triangulator:
    """Triangulates (cameras, joints, 3) keypoints: x px, y px, confidence.

    ``min_confidence``: keypoints below it (0..1) are not used.
    ``max_reprojection_error``: a view disagreeing with the others by more than this fraction
    of its image height (0.02 = 22 px on 1080p) is dropped for that joint.
    ``swap_check``: try each view's left/right labels swapped (see the module docstring).
    """

    def __init__(
        self,
        cameras: list[CameraModel],
        *,
        min_confidence: float = 0.3,
        max_reprojection_error: float = 0.02,
        swap_check: bool = True,
    ) -> None:
        if len(cameras) < 2:
            raise ValueError("triangulation needs at least two cameras")
        self.cameras = cameras
        self.rotations = _rotation_matrices(cameras)                                   # (C, 3, 3)
        translations = np.stack([np.asarray(c.translation_m, dtype=np.float64) for c in cameras])
        self.projections = np.concatenate([self.rotations, translations[:, :, None]], axis=2)  # (C, 3, 4)
        self.focal_px = np.array([float(np.mean(np.diag(c.matrix)[:2])) for c in cameras])
        self.max_error_px = max_reprojection_error * np.array([float(c.image_size[1]) for c in cameras])
        self.min_confidence = min_confidence
        self.swap_check = swap_check
        self._mirror = mirrored_landmark_order()
        self._previous: NDArray[np.float64] | None = None

    def normalised(self, keypoints: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Undistorted normalised image coordinates (C, J, 2) and weights (C, J), 0 where unusable."""
        points = np.full(keypoints.shape[:2] + (2,), np.nan)
        confidence = np.nan_to_num(keypoints[:, :, 2], nan=0.0)
        usable = (confidence >= self.min_confidence) & np.isfinite(keypoints[:, :, :2]).all(axis=2)
        for view, camera in enumerate(self.cameras):
            seen = usable[view]
            if seen.any():
                src = keypoints[view, seen, :2].reshape(-1, 1, 2).astype(np.float64)
                points[view, seen] = cv2.undistortPoints(src, camera.matrix, camera.distortion).reshape(-1, 2)
        return points, np.where(usable, confidence, 0.0)

    def _solve(self, points: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
        """Weighted DLT for every joint at once: (C, J, 2), (C, J) -> (J, 3); NaN under two views.

        The rows ``w (x P3 - P1)``, ``w (y P3 - P2)`` act on (X, Y, Z, 1); their least-squares
        solution comes from the 3x3 normal equations, batched over joints (the homogeneous SVD
        gives the same point and costs several times more)."""
        xy = np.nan_to_num(points)
        rows_x = xy[:, :, 0, None] * self.projections[:, None, 2] - self.projections[:, None, 0]  # (C, J, 4)
        rows_y = xy[:, :, 1, None] * self.projections[:, None, 2] - self.projections[:, None, 1]
        system = np.concatenate([rows_x, rows_y], axis=0) * np.concatenate([weights, weights])[:, :, None]
        normal = np.einsum("rja,rjb->jab", system, system)                                         # (J, 4, 4)
        enough = (weights > 0).sum(axis=0) >= 2
        result = np.full((normal.shape[0], 3), np.nan)
        if enough.any():
            result[enough] = np.linalg.solve(normal[enough, :3, :3], -normal[enough, :3, 3:])[:, :, 0]
        return result

    def reprojection_px(self, points_m: NDArray[np.float64], normalised: NDArray[np.float64]) -> NDArray[np.float64]:
        """Distance (C, J) in pixels between each view's point and the projected 3D point."""
        camera_points = np.einsum("cij,nj->cni", self.rotations, points_m) + self.projections[:, None, :, 3]
        projected = camera_points[:, :, :2] / camera_points[:, :, 2:]
        return np.linalg.norm(projected - normalised, axis=2) * self.focal_px[:, None]

    def _mean_error(
        self, normalised: NDArray[np.float64], weights: NDArray[np.float64]
    ) -> tuple[float, NDArray[np.float64]]:
        """Mean reprojection error (in units of the gating limit) and the points it came from."""
        points = self._solve(normalised, weights)
        errors = self.reprojection_px(points, normalised) / self.max_error_px[:, None]
        used = (weights > 0) & np.isfinite(errors)
        return (float(np.mean(errors[used])) if used.any() else np.inf), points

    def _undo_swaps(
        self, normalised: NDArray[np.float64], weights: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64]]:
        """The labelling (none or one view swapped) that the views agree on best: its points,
        weights, swapped views and triangulated joints.

        With two views, swapping either one gives the same agreement, mirrored; the
        candidate closest to the previous frame's joints wins, so labels stay put."""
        candidates = [(normalised, weights, -1)]
        for view in range(len(self.cameras)):
            trial_points, trial_weights = normalised.copy(), weights.copy()
            trial_points[view] = normalised[view, self._mirror]
            trial_weights[view] = weights[view, self._mirror]
            candidates.append((trial_points, trial_weights, view))
        scored = [(*self._mean_error(p, w), p, w, view) for p, w, view in candidates]
        best_error = min(error for error, *_ in scored)
        if scored[0][0] <= 2.0 * best_error:
            chosen = scored[0]
        else:
            close = [entry for entry in scored[1:] if entry[0] <= 1.25 * best_error]
            chosen = min(close, key=lambda entry: (self._distance_to_previous(entry[1]), -entry[4]))
        swapped = np.zeros(len(self.cameras), dtype=bool)
        if chosen[4] >= 0:
            swapped[chosen[4]] = True
        return chosen[2], chosen[3], swapped, chosen[1]

    def _distance_to_previous(self, points: NDArray[np.float64]) -> float:
        if self._previous is None:
            return 0.0
        distances = np.linalg.norm(points - self._previous, axis=1)
        return float(np.nanmean(distances)) if np.isfinite(distances).any() else 0.0

    def triangulate(
        self, keypoints: NDArray[np.float64], world_m: NDArray[np.float64] | None = None
    ) -> Triangulation:
        """``keypoints`` (C, J, 3) pixels + confidence; ``world_m`` (C, J, 3) optional monocular
        world landmarks per view (camera axes, metres) for the fallback."""
        normalised, weights = self.normalised(keypoints)
        seen = weights.copy()
        if self.swap_check:
            normalised, weights, swapped, points = self._undo_swaps(normalised, weights)
        else:
            swapped = np.zeros(len(self.cameras), dtype=bool)
            points = self._solve(normalised, weights)
        ungated = weights.copy()
        for _ in range(len(self.cameras) - 1):
            errors = self.reprojection_px(points, normalised)
            # a view that disagrees with a triangulated point; a joint too few views see has no
            # point to disagree with, and keeps its view's weight for the monocular fill
            ratio = np.nan_to_num(np.where(weights > 0, errors / self.max_error_px[:, None], 0.0), nan=0.0)
            worst_view = np.argmax(ratio, axis=0)
            joints = np.flatnonzero(ratio[worst_view, np.arange(ratio.shape[1])] > 1.0)
            if joints.size == 0:
                break
            weights[worst_view[joints], joints] = 0.0
            points[joints] = self._solve(normalised[:, joints], weights[:, joints])
        views = (weights > 0).sum(axis=0)
        views[~np.isfinite(points).all(axis=1)] = 0
        errors = np.where(weights > 0, self.reprojection_px(points, normalised), 0.0)
        with np.errstate(invalid="ignore"):
            mean_error = np.where(views > 0, errors.sum(axis=0) / np.maximum(views, 1), np.nan)
        confidence = np.where(views > 0, weights.sum(axis=0) / np.maximum(views, 1), 0.0)
        if views.sum() > 0:
            self._previous = points.copy()
        if world_m is not None:
            if views.sum() == 0:
                points, confidence = self._from_one_view(normalised, seen, world_m)
            else:
                points, confidence = self._fill_from_monocular(points, confidence, views, weights, world_m, swapped)
        return Triangulation(points, views, mean_error, confidence, swapped, normalised, ungated)

    def unswapped_world(self, world_m: NDArray[np.float64], swapped: NDArray[np.bool_]) -> NDArray[np.float64]:
        """Each view's world landmarks (C, J, 3) with the views whose labels were swapped mirrored back."""
        world = world_m.copy()
        world[swapped] = world_m[swapped][:, self._mirror]
        return world

    def _monocular_body(self, view: int, world_m: NDArray[np.float64], swapped: bool = False) -> NDArray[np.float64]:
        """One view's monocular world landmarks (J, 3) turned into the calibration's world axes."""
        body_camera = world_m[view, self._mirror] if swapped else world_m[view]
        return body_camera @ self.rotations[view]          # R^T v for every row: camera -> world axes

    def _from_one_view(
        self, normalised: NDArray[np.float64], seen: NDArray[np.float64], world_m: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The body of the one view that sees both hips (``seen``: per-view weights before
        gating), hips placed on that view's ray at the last triangulated hips' distance, or
        before any, where the monocular path puts them (see the module docstring); NaN when no
        view or several do."""
        hips = list(HIP_LANDMARKS)
        seeing = np.flatnonzero((seen[:, hips] > 0).all(axis=1) & np.isfinite(world_m).all(axis=(1, 2)))
        if len(seeing) != 1:
            return np.full((seen.shape[1], 3), np.nan), np.zeros(seen.shape[1])
        view = int(seeing[0])
        rotation, translation = self.rotations[view], self.projections[view, :, 3]
        if self._previous is None or not np.isfinite(self._previous[hips]).all():
            used = seen[view] > 0     # normalised image coordinates: the camera matrix is the identity
            placement = solve_camera_translation(world_m[view, used], normalised[view, used], seen[view, used], np.eye(3))
            hips_m = (world_m[view, hips].mean(axis=0) + placement - translation) @ rotation   # camera -> world: R^T (p - t)
        else:
            centre = -rotation.T @ translation
            ray = rotation.T @ np.append(normalised[view, hips].mean(axis=0), 1.0)
            distance_m = float(np.linalg.norm(self._previous[hips].mean(axis=0) - centre))
            hips_m = centre + ray / np.linalg.norm(ray) * distance_m
        body = self._monocular_body(view, world_m)
        return body - body[hips].mean(axis=0) + hips_m, seen[view]

    def _fill_from_monocular(
        self,
        points: NDArray[np.float64],
        confidence: NDArray[np.float64],
        views: NDArray[np.int_],
        weights: NDArray[np.float64],
        world_m: NDArray[np.float64],
        swapped: NDArray[np.bool_],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Joints seen by fewer than two views, from the best view's monocular landmarks
        (``weights`` are per view, after any swap), translated onto the triangulated joints."""
        missing = views < 2
        has_world = np.isfinite(world_m).all(axis=(1, 2))
        if not missing.any() or missing.all() or not has_world.any():
            return points, confidence
        best = int(np.argmax(np.where(has_world, weights.sum(axis=1), -1.0)))
        body_world = self._monocular_body(best, world_m, bool(swapped[best]))
        offset = np.mean(points[~missing] - body_world[~missing], axis=0)
        filled, filled_confidence = points.copy(), confidence.copy()
        filled[missing] = body_world[missing] + offset
        filled_confidence[missing] = weights[best, missing]
        return filled, filled_confidence
