"""The hands' stage of the pipeline: each frame's 30 finger rotations from the cameras' hand landmarks."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.conventions import HAND_WRIST
from mocap.core.frames import Observations
from mocap.core.skeleton import FINGER_BONES
from mocap.filtering.temporal import HoldThenRest, OneEuroSettings, RotationFilter
from mocap.solving.fingers import INDEX_MCP, PINKY_MCP, finger_angles_deg, finger_rotations

SIDES = ("Left", "Right")
BONES_PER_HAND = len(FINGER_BONES) // 2
FINGER_FILTER = OneEuroSettings(min_cutoff_hz=1.0, beta=0.2)   # beta: Hz per rad/s; tuned in docs/hands-and-face.md


def best_view(observations: Observations, hand: int) -> NDArray[np.float64] | None:
    """The landmarks (21, 3) of the performer's ``hand`` (0 left, 1 right) from the camera that
    sees it largest (its palm's span in pixels), or None if no camera sees all of it."""
    best, best_span = None, 0.0
    for observation in observations:
        if observation.hands_px is None or not np.isfinite(observation.hands_px[hand]).all():
            continue
        points = observation.hands_px[hand]
        span = float(np.linalg.norm(points[INDEX_MCP, :2] - points[HAND_WRIST, :2])
                     + np.linalg.norm(points[PINKY_MCP, :2] - points[HAND_WRIST, :2]))
        if span > best_span:
            best, best_span = points, span
    return best


class HandTracker:
    """Finger rotations (30 local rotations, :data:`mocap.core.skeleton.FINGER_BONES` order) for
    each frame: solved (:mod:`mocap.solving.fingers`); for a hand out of view, held for ``hold_s``
    seconds then eased to rest (open, straight fingers) with time constant ``ease_s``; then filtered
    (One Euro on each joint's rotation, ``filter_settings``). ``mirror``: a selfie view, as the
    body's (:class:`mocap.lifting.monocular.MonocularLifter`): each hand drives the other side."""

    def __init__(self, *, mirror: bool = False, filter_settings: OneEuroSettings = FINGER_FILTER,
                 hold_s: float = 0.3, ease_s: float = 0.4) -> None:
        self.mirror = mirror
        self._filter = RotationFilter(filter_settings)
        self._hold_then_rest = HoldThenRest(len(FINGER_BONES), hold_s=hold_s, ease_s=ease_s)

    def __call__(self, observations: Observations, timestamp_s: float) -> Rotation:
        rotations = Rotation.identity(len(FINGER_BONES)).as_quat()
        tracked = np.zeros(len(FINGER_BONES), dtype=bool)
        for hand, side in enumerate(SIDES):
            points = best_view(observations, 1 - hand if self.mirror else hand)
            if points is None:
                continue
            if self.mirror:
                points = points * [-1.0, 1.0, 1.0]
            angles = finger_angles_deg(points, side)
            if angles is None:
                continue
            bones = slice(hand * BONES_PER_HAND, (hand + 1) * BONES_PER_HAND)
            rotations[bones] = finger_rotations(angles, side).as_quat()
            tracked[bones] = True
        held = self._hold_then_rest(Rotation.from_quat(rotations), tracked, timestamp_s)
        return self._filter(held, timestamp_s)
