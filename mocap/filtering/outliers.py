"""Single-frame mistakes of the detector, caught before filtering.

- Left/right swaps: a monocular detector sometimes labels a limb pair the wrong way round for
  a frame or two. For the arms and for the legs separately, if the swapped labels fit the
  previous frame (body shape around the mid-hips) in under half the distance, they are
  swapped back; for ``max_swapped_s`` at most (MediaPipe mislabels a performer facing the
  camera with arms out for several frames in a row), after which the detector's labels are
  believed: nobody turns round between two frames, so labels mirrored for that long come from
  a cut in the video, a looped clip or the detection moving to another person, and a body is
  never kept mirrored for the rest of the take.
- Jumps: a landmark that moves faster than ``max_speed_m_s`` relative to the mid-hips is not
  trusted for that frame (its confidence is set to 0, so the filter holds it); after
  ``max_rejected`` frames in a row it is believed again, so a real fast move is only delayed.
  Relative to the hips (where MediaPipe centres its own world landmarks), because a whole
  body that moves (a jump, a flip, one camera's depth estimate jumping) is no landmark's
  mistake: the hips' path filter deals with it. Judged in the room instead, every landmark of
  a backflip or of a depth jump would be held for two frames.

A body seen again after more than ``NEW_APPEARANCE_AFTER_S`` out of view is not compared with
how it left: a performer who comes back turned round would otherwise have every frame's left
and right "swapped back" for the rest of the take.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mocap.core.conventions import HIP_LANDMARKS, LANDMARK_INDEX, NEW_APPEARANCE_AFTER_S
from mocap.core.frames import BodyPose

_GROUPS = {
    "arms": ("shoulder", "elbow", "wrist", "pinky", "index", "thumb"),
    "legs": ("hip", "knee", "ankle", "heel", "foot_index"),
}
_PAIRS = {
    group: (np.array([LANDMARK_INDEX[f"left_{p}"] for p in parts]), np.array([LANDMARK_INDEX[f"right_{p}"] for p in parts]))
    for group, parts in _GROUPS.items()
}


def _shape(joints: NDArray[np.float64]) -> NDArray[np.float64]:
    """Landmarks (33, 3) less the mid-hips: the body's shape, wherever it stands."""
    return joints - np.nanmean(joints[list(HIP_LANDMARKS)], axis=0)


class OutlierGuard:
    """Undoes left/right swaps and holds landmarks that jump (see the module docstring)."""

    def __init__(
        self, *, max_speed_m_s: float = 12.0, max_rejected: int = 2, swap_ratio: float = 0.5, max_swapped_s: float = 0.5
    ) -> None:
        self.max_speed_m_s = max_speed_m_s
        self.max_rejected = max_rejected
        self.swap_ratio = swap_ratio
        self.max_swapped_s = max_swapped_s
        self._previous_shape: NDArray[np.float64] | None = None   # (33, 3) landmarks less the mid-hips, metres
        self._time_s: float | None = None
        self._rejected = np.zeros(len(LANDMARK_INDEX), dtype=int)
        self._swapped_since: dict[str, float | None] = dict.fromkeys(_PAIRS)   # each limb pair's first swapped-back frame in a row
        self.swaps = 0     # left/right swaps undone
        self.held = 0      # landmark-frames not trusted because they jumped

    def __call__(self, body: BodyPose) -> BodyPose:
        if not body.detected:
            return body
        joints, confidence = body.joints_m.copy(), body.confidence.copy()
        if self._time_s is not None and body.timestamp_s - self._time_s > NEW_APPEARANCE_AFTER_S:
            self._previous_shape = None
            self._rejected[:] = 0
            self._swapped_since = dict.fromkeys(_PAIRS)
        if self._previous_shape is not None and self._time_s is not None:
            shape = self._undo_swaps(joints, confidence, body.timestamp_s)
            dt_s = max(body.timestamp_s - self._time_s, 1e-3)
            speed = np.linalg.norm(shape - self._previous_shape, axis=1) / dt_s
            jumped = (speed > self.max_speed_m_s) & (self._rejected < self.max_rejected)
            self._rejected = np.where(jumped, self._rejected + 1, 0)
            confidence[jumped] = 0.0
            self.held += int(np.count_nonzero(jumped))
            keep = ~jumped & np.isfinite(shape).all(axis=1)
            self._previous_shape = np.where(keep[:, None], shape, self._previous_shape)
        else:
            self._previous_shape = _shape(joints)
        self._time_s = body.timestamp_s
        return BodyPose(body.timestamp_s, joints, confidence, detected=True)

    def _undo_swaps(self, joints: NDArray[np.float64], confidence: NDArray[np.float64], time_s: float) -> NDArray[np.float64]:
        """Swaps ``joints`` and ``confidence`` back in place where a limb pair was swapped;
        returns the body's shape after that (a swap leaves the mid-hips where they were). A pair
        whose labels are believed after ``max_swapped_s`` is compared with itself from then on
        (its previous shape becomes this one), so it does not read as a jump."""
        assert self._previous_shape is not None
        shape, previous_shape = _shape(joints), self._previous_shape
        for group, (left, right) in _PAIRS.items():
            kept = np.nansum(np.linalg.norm(shape[left] - previous_shape[left], axis=1)
                             + np.linalg.norm(shape[right] - previous_shape[right], axis=1))
            swapped = np.nansum(np.linalg.norm(shape[right] - previous_shape[left], axis=1)
                                + np.linalg.norm(shape[left] - previous_shape[right], axis=1))
            since = self._swapped_since[group]
            if swapped >= self.swap_ratio * kept:
                self._swapped_since[group] = None
            elif since is None or time_s - since < self.max_swapped_s:
                joints[left], joints[right] = joints[right].copy(), joints[left].copy()
                confidence[left], confidence[right] = confidence[right].copy(), confidence[left].copy()
                shape[left], shape[right] = shape[right].copy(), shape[left].copy()
                self._swapped_since[group] = time_s if since is None else since
                self.swaps += 1
            else:
                self._swapped_since[group] = None
                pair = np.concatenate([left, right])
                previous_shape[pair] = shape[pair]
        return shape
