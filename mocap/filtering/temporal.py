"""Temporal filters: One Euro on landmark positions and on bone rotations.

One Euro (Casiez, Roussel and Vogel, CHI 2012): a low-pass filter whose cutoff rises with
speed, so slow movement is smoothed hard (no jitter) and fast movement passes with little lag.
``cutoff_hz = min_cutoff_hz + beta * speed``; speed is itself low-passed at ``d_cutoff_hz``.

Both filters take the frame timestamps (seconds), so they behave the same at any frame rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.conventions import (
    HIP_LANDMARKS,
    NEW_APPEARANCE_AFTER_S,
    continuous_quaternions,
)
from mocap.core.frames import BodyPose


@dataclass(frozen=True)
class OneEuroSettings:
    """One Euro parameters. Lower ``min_cutoff_hz``: smoother at rest, more lag.
    Higher ``beta``: less lag in fast moves, more jitter let through."""

    min_cutoff_hz: float
    beta: float            # Hz of extra cutoff per unit of speed (per m/s for positions, per rad/s for rotations)
    d_cutoff_hz: float = 1.0


def _smoothing_factor(cutoff_hz: NDArray[np.float64] | float, dt_s: float) -> NDArray[np.float64]:
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff_hz))
    return 1.0 / (1.0 + tau / dt_s)


class _PointFilterState:
    """What both point filters keep: the filtered points, their speed and the last time."""

    def __init__(self, settings: OneEuroSettings) -> None:
        self.settings = settings
        self._value: NDArray[np.float64] | None = None
        self._speed: NDArray[np.float64] | None = None
        self._time_s: float | None = None

    def _advance(
        self, points: NDArray[np.float64], timestamp_s: float, update_mask: NDArray[np.bool_] | None
    ) -> tuple[NDArray[np.float64], float, NDArray[np.bool_], NDArray[np.bool_]] | None:
        """(points, dt_s, first_seen, update) for this frame, or None on the first frame, whose
        measured points become the value. ``first_seen``: measured now but never before;
        ``update``: measured now and before; the rest hold."""
        points = np.asarray(points, dtype=np.float64)
        mask = np.isfinite(points).all(axis=-1)
        if update_mask is not None:
            mask &= update_mask
        if self._value is None or self._time_s is None:
            self._value = np.where(mask[:, None], points, np.nan)
            self._speed = np.zeros(len(points))
            self._time_s = timestamp_s
            return None
        dt_s = max(timestamp_s - self._time_s, 1e-3)
        self._time_s = timestamp_s
        first_seen = mask & ~np.isfinite(self._value).all(axis=-1)
        return points, dt_s, first_seen, mask & ~first_seen


class PointFilter(_PointFilterState):
    """One Euro on N 3D points at once; speed is each point's speed in m/s.

    ``update_mask`` gates points by confidence: a point left out keeps its last filtered value
    (and speed) instead of following a low-confidence measurement.
    """

    def __call__(
        self, points: NDArray[np.float64], timestamp_s: float, update_mask: NDArray[np.bool_] | None = None
    ) -> NDArray[np.float64]:
        step = self._advance(points, timestamp_s, update_mask)
        assert self._value is not None and self._speed is not None
        if step is None:
            return self._value.copy()
        points, dt_s, first_seen, update = step
        previous = self._value
        raw_speed = np.linalg.norm(points - previous, axis=-1) / dt_s
        alpha_d = _smoothing_factor(self.settings.d_cutoff_hz, dt_s)
        speed = np.where(update, self._speed + alpha_d * (np.nan_to_num(raw_speed) - self._speed), self._speed)
        alpha = _smoothing_factor(self.settings.min_cutoff_hz + self.settings.beta * speed, dt_s)
        filtered = previous + alpha[:, None] * (points - previous)
        value = np.where(update[:, None], filtered, previous)
        value = np.where(first_seen[:, None], points, value)
        self._value = value
        self._speed = np.where(first_seen, 0.0, speed)
        return value.copy()


class TrendPointFilter(_PointFilterState):
    """One Euro made to follow steady motion without lag: an alpha-beta filter on N 3D points.

    Each frame predicts ``value + velocity * dt``, then corrects toward the measurement by
    ``alpha`` (from the One Euro cutoff, ``min_cutoff_hz + beta * speed``, speed being the
    low-passed length of the filter's own velocity, m/s) and corrects the velocity by
    ``alpha**2 / (2 - alpha)`` of the residual (the critically damped alpha-beta gain). A plain
    One Euro trails a point moving at constant speed by ``speed / (2 pi cutoff)``; this one does
    not, so a lower cutoff (less jitter) costs no extra lag. ``update_mask`` holds points as in
    :class:`PointFilter` (their velocity dies away).

    With ``warm_start``, a point's first samples are not taken as those of a point at rest: the
    n-th is weighted as in a least-squares line fit over all n so far (the growing-memory gains
    ``2 (2n - 1) / (n (n + 1))`` and ``6 / (n (n + 1))``) until the One Euro gains are the larger,
    after about 0.7 s at 1 Hz and 30 frames/s. A point first seen moving is then followed from
    its first frames instead of trailing by a start-up lag.
    """

    def __init__(self, settings: OneEuroSettings, *, warm_start: bool = False) -> None:
        super().__init__(settings)
        self.warm_start = warm_start
        self._velocity: NDArray[np.float64] | None = None
        self._samples: NDArray[np.int64] | None = None   # per point, measurements taken since first seen

    def __call__(
        self, points: NDArray[np.float64], timestamp_s: float, update_mask: NDArray[np.bool_] | None = None
    ) -> NDArray[np.float64]:
        step = self._advance(points, timestamp_s, update_mask)
        assert self._value is not None and self._speed is not None
        if step is None or self._velocity is None or self._samples is None:
            self._velocity = np.zeros_like(self._value)
            self._samples = np.isfinite(self._value).all(axis=-1).astype(np.int64)
            return self._value.copy()
        points, dt_s, first_seen, update = step
        predicted = self._value + self._velocity * dt_s
        residual = np.where(update[:, None], np.nan_to_num(points - predicted), 0.0)
        alpha_d = _smoothing_factor(self.settings.d_cutoff_hz, dt_s)
        self._speed = self._speed + alpha_d * (np.linalg.norm(self._velocity, axis=-1) - self._speed)
        alpha = _smoothing_factor(self.settings.min_cutoff_hz + self.settings.beta * self._speed, dt_s)
        gain = alpha * alpha / (2.0 - alpha)
        self._samples = np.where(first_seen, 1, self._samples + update)
        if self.warm_start:
            n = np.maximum(self._samples, 1).astype(np.float64)   # a point never seen yet is not updated
            alpha = np.maximum(alpha, 2.0 * (2.0 * n - 1.0) / (n * (n + 1.0)))
            gain = np.maximum(gain, 6.0 / (n * (n + 1.0)))
        value = np.where(update[:, None], predicted + alpha[:, None] * residual, self._value)
        self._value = np.where(first_seen[:, None], points, value)
        velocity = np.where(update[:, None], self._velocity + (gain / dt_s)[:, None] * residual, 0.9 * self._velocity)
        self._velocity = np.where(first_seen[:, None], 0.0, velocity)
        return self._value.copy()


class RotationFilter:
    """One Euro on a stack of rotations, as slerp steps along the shortest arc.

    Speed is angular speed in rad/s. Output quaternions keep the sign of the previous
    output (q . q_prev >= 0). The capture filters each bone's rotation in the world (from
    :meth:`mocap.core.skeleton.Skeleton.forward_kinematics`): filtered as local rotations, a
    forearm's direction would lag by the upper arm's filter and its own together.
    """

    def __init__(self, settings: OneEuroSettings) -> None:
        self.settings = settings
        self._value: Rotation | None = None
        self._speed: NDArray[np.float64] | None = None
        self._time_s: float | None = None

    def __call__(self, rotations: Rotation, timestamp_s: float) -> Rotation:
        if self._value is None or self._time_s is None:
            self._value = rotations
            self._speed = np.zeros(len(rotations))
            self._time_s = timestamp_s
            return rotations
        dt_s = max(timestamp_s - self._time_s, 1e-3)
        self._time_s = timestamp_s
        step = (self._value.inv() * rotations).as_rotvec()      # shortest arc, |step| <= pi
        raw_speed = np.linalg.norm(step, axis=-1) / dt_s
        alpha_d = _smoothing_factor(self.settings.d_cutoff_hz, dt_s)
        self._speed = self._speed + alpha_d * (raw_speed - self._speed)
        alpha = _smoothing_factor(self.settings.min_cutoff_hz + self.settings.beta * self._speed, dt_s)
        quat = (self._value * Rotation.from_rotvec(alpha[:, None] * step)).as_quat()
        self._value = Rotation.from_quat(continuous_quaternions(quat, self._value.as_quat()))
        return self._value


class HoldThenRest:
    """What untracked bones do: hold their last tracked rotation for ``hold_s`` seconds, then
    ease to rest (identity, T-pose) with time constant ``ease_s`` seconds. Never a snap."""

    def __init__(self, bone_count: int, *, hold_s: float = 0.5, ease_s: float = 0.7) -> None:
        self.hold_s = hold_s
        self.ease_s = ease_s
        self._last = Rotation.identity(bone_count)
        self._last_seen_s = np.full(bone_count, -np.inf)
        self._time_s: float | None = None

    def __call__(self, rotations: Rotation, tracked: NDArray[np.bool_], timestamp_s: float) -> Rotation:
        dt_s = 0.0 if self._time_s is None else max(timestamp_s - self._time_s, 0.0)
        self._time_s = timestamp_s
        easing = (~tracked) & (timestamp_s - self._last_seen_s > self.hold_s)
        toward_rest = self._last.as_rotvec() * math.exp(-dt_s / self.ease_s)
        held = np.where(easing[:, None], toward_rest, self._last.as_rotvec())
        output = np.where(tracked[:, None], rotations.as_rotvec(), held)
        self._last_seen_s = np.where(tracked, timestamp_s, self._last_seen_s)
        self._last = Rotation.from_rotvec(output)
        return self._last


class BodyFilter:
    """Filters a lifted body with :class:`TrendPointFilter`: the hips' path and the body around
    the hips separately, since monocular depth makes the first much noisier than the second.
    Landmarks whose confidence is below ``min_confidence`` hold their last filtered position.

    The hips' path is not filtered from the two hip landmarks alone. Every landmark trusted this
    frame, less its filtered offset from the hips, is a measurement of where the hips are, and
    the mean of those measurements is what the root filter follows. With independent landmark
    noise (triangulated cameras, the accuracy benchmark) the filtered hips shake about three
    times less than with the hip landmarks' midpoint, so the root filter can be lighter and lag
    less. Noise that every landmark shares (monocular depth) it leaves as it was.

    A body seen again after more than ``NEW_APPEARANCE_AFTER_S`` out of view starts both filters
    afresh, as when first seen: the velocities they kept from before (a performer who walked out
    of view) say nothing of how the performer comes back.
    """

    def __init__(self, *, body: OneEuroSettings, root: OneEuroSettings, min_confidence: float = 0.5) -> None:
        self._body_settings, self._root_settings = body, root
        self._min_confidence = min_confidence
        self._last_seen_s: float | None = None
        self._start_filters()

    def _start_filters(self) -> None:
        self._body = TrendPointFilter(self._body_settings)
        self._root = TrendPointFilter(self._root_settings, warm_start=True)

    def __call__(self, pose: BodyPose) -> BodyPose:
        if not pose.detected:
            return pose
        if self._last_seen_s is not None and pose.timestamp_s - self._last_seen_s > NEW_APPEARANCE_AFTER_S:
            self._start_filters()
        self._last_seen_s = pose.timestamp_s
        hips = pose.joints_m[list(HIP_LANDMARKS)].mean(axis=0, keepdims=True)
        trusted = pose.confidence >= self._min_confidence
        relative = self._body(pose.joints_m - hips, pose.timestamp_s, trusted)
        hips_measured = pose.joints_m - relative   # (33, 3): one measurement of the hips per landmark
        usable = trusted & np.isfinite(hips_measured).all(axis=1)
        if usable.any():
            hips = hips_measured[usable].mean(axis=0, keepdims=True)
        root = self._root(hips, pose.timestamp_s)
        return BodyPose(pose.timestamp_s, relative + root, pose.confidence, detected=True)
