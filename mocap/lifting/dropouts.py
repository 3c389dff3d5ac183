"""Landmarks the detector loses for a moment stay tracked, where the lifter predicts them.

A detector drops single landmarks for a frame or two (confidence 0, NaN, or a low score for a
briefly covered joint) while the rest of the body is seen. Treated as unknown, the landmark's
bones are held where they were relative to the hips, so a planted foot slides with the hips.
Yet the lifter still places it from the rest of the body: one camera's world landmarks are a
whole body, and the multi-camera fit places it from each camera's body shape, the views that
still see it and the previous frame (:mod:`mocap.lifting.body_fit`). For up to ``max_gap_s``
after a landmark was last seen confidently, its predicted position is trusted at
``min_confidence``; a landmark lost for longer (legs out of the picture) is unknown as before.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mocap.core.conventions import NUM_POSE_LANDMARKS


class DropoutBridge:
    """Raises the confidence of briefly lost landmarks that have a predicted position."""

    def __init__(self, *, min_confidence: float = 0.5, max_gap_s: float = 0.3) -> None:
        self.min_confidence = min_confidence
        self.max_gap_s = max_gap_s
        self._last_seen_s = np.full(NUM_POSE_LANDMARKS, -np.inf)

    def __call__(self, joints_m: NDArray[np.float64], confidence: NDArray[np.float64], timestamp_s: float) -> NDArray[np.float64]:
        """The confidence (33,) to report for ``joints_m`` (33, 3; NaN where unplaced)."""
        seen = confidence >= self.min_confidence
        self._last_seen_s[seen] = timestamp_s
        bridged = ~seen & np.isfinite(joints_m).all(axis=1) & (timestamp_s - self._last_seen_s <= self.max_gap_s)
        return np.where(bridged, self.min_confidence, confidence)
