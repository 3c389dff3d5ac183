"""Offline zero-phase smoothing of a whole recording's lifted joints.

A Butterworth low-pass run forward and backward (``scipy.signal.filtfilt``): no lag at all,
which a live filter cannot offer, for offline work: ``mocap solve``, ``mocap batch`` and
``mocap capture`` from files with no live output (``--smooth HZ`` chooses the cutoff).
Gaps (frames where a joint was not seen) are bridged by linear interpolation for the filter
and left as gaps in the result.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mocap.core.frames import BodyPose

ORDER = 2


def smooth_trajectories(joints_m: NDArray[np.float64], timestamps_s: NDArray[np.float64], cutoff_hz: float) -> NDArray[np.float64]:
    """(frames, joints, 3) positions low-passed at ``cutoff_hz`` with zero phase; NaN stays NaN."""
    from scipy.signal import butter, filtfilt  # a second to import: only offline work pays it

    frames = len(joints_m)
    rate_hz = 1.0 / float(np.median(np.diff(timestamps_s)))
    if frames <= 3 * (ORDER + 1) or cutoff_hz >= rate_hz / 2.0:
        return joints_m.copy()
    b, a = butter(ORDER, cutoff_hz / (rate_hz / 2.0))
    flat = joints_m.reshape(frames, -1)
    smoothed = np.full_like(flat, np.nan)
    index = np.arange(frames)
    for column in range(flat.shape[1]):
        seen = np.isfinite(flat[:, column])
        if seen.sum() <= 3 * (ORDER + 1):
            smoothed[:, column] = flat[:, column]
            continue
        filled = np.interp(index, index[seen], flat[seen, column])
        smoothed[:, column] = np.where(seen, filtfilt(b, a, filled), np.nan)
    return smoothed.reshape(joints_m.shape)


def smooth_bodies(bodies: list[BodyPose], cutoff_hz: float) -> list[BodyPose]:
    """The same bodies with every joint's path smoothed (frames without a person stay empty)."""
    detected = [body for body in bodies if body.detected]
    if not detected:
        return bodies
    joints = np.stack([body.joints_m for body in detected])
    timestamps = np.array([body.timestamp_s for body in detected])
    smoothed = iter(smooth_trajectories(joints, timestamps, cutoff_hz))
    return [
        BodyPose(body.timestamp_s, next(smoothed), body.confidence, detected=True) if body.detected else body
        for body in bodies
    ]
