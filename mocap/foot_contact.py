"""Planted feet that do not slide, and a floor the feet do not sink through.

Works on the solved skeleton (after the rotation filter), so what is locked is the foot the
avatar shows. The ground plane is the 5th percentile of the skeleton's lowest sole point over
the last ``floor_window_s`` seconds (the solved skeleton's proportions never match the
landmarks exactly); the avatar is moved so that plane is y = 0, and never below it. A foot
is planted when its lowest point (the toe joint, or the sole under the ankle) comes within
``contact_height_m`` of the ground while it moves slower than
``plant_speed_m_s`` horizontally; it lifts off when it rises above ``release_height_m`` or
moves faster than ``release_speed_m_s``. While a foot is planted its ankle is anchored where
it was planted and the root is shifted horizontally to keep it there (with both feet planted,
the mean of their corrections). The shift is kept when feet lift (so the body never jumps)
and eases back toward the measured position with time constant ``return_s`` seconds.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from mocap.frames import SkeletonPose
from mocap.skeleton import BONE_INDEX, humanoid_skeleton

_FEET = {side: (BONE_INDEX[f"{side}Foot"], BONE_INDEX[f"{side}Toes"]) for side in ("Left", "Right")}
_LEG_CHAIN = humanoid_skeleton().chain_to([bone for pair in _FEET.values() for bone in pair])  # hips to toes


@dataclass(frozen=True)
class ContactSettings:
    """Foot-contact thresholds, chosen on the CMU clips with benchmarks/retarget_accuracy.py."""

    contact_height_m: float = 0.05     # a foot this close to the floor may be planted, metres
    release_height_m: float = 0.08     # a planted foot higher than this has lifted, metres
    plant_speed_m_s: float = 0.8       # horizontal ankle speed below which a low foot plants, m/s
    release_speed_m_s: float = 1.5     # a planted foot faster than this has lifted, m/s
    return_s: float = 2.0              # time constant of the drift back to the measured position, seconds
    floor_window_s: float = 10.0       # the ground plane is learned over this many recent seconds


class FootContact:
    """Applies foot locking and the floor to each solved pose in turn (world frame, floor y = 0)."""

    def __init__(self, settings: ContactSettings = ContactSettings()) -> None:
        self.settings = settings
        self.planted = {side: False for side in _FEET}
        self._anchor: dict[str, NDArray[np.float64]] = {}
        self._offset_xz = np.zeros(2)
        self._previous_ankle: dict[str, NDArray[np.float64]] = {}
        self._time_s: float | None = None
        self._lows: deque[tuple[float, float]] = deque()
        self._shift = np.zeros(3)

    def __call__(self, pose: SkeletonPose) -> SkeletonPose:
        if not pose.tracked:   # nobody in view: the avatar stays exactly where it was
            return replace(pose, root_position_m=pose.root_position_m + self._shift)
        s = self.settings
        dt_s = 0.0 if self._time_s is None else max(pose.timestamp_s - self._time_s, 1e-3)
        self._time_s = pose.timestamp_s
        joints = pose.skeleton.joint_positions(pose.local_rotations, pose.root_position_m, _LEG_CHAIN)
        sole_below_ankle_m = -pose.skeleton.rest_offsets_m[_FEET["Left"][1], 1]
        soles = {side: min(float(joints[toes, 1]), float(joints[ankle, 1]) - sole_below_ankle_m)
                 for side, (ankle, toes) in _FEET.items()}
        lowest = min(soles.values())
        self._lows.append((pose.timestamp_s, lowest))
        while self._lows[0][0] < pose.timestamp_s - s.floor_window_s:
            self._lows.popleft()
        floor_y = float(np.percentile([low for _, low in self._lows], 5))
        corrections = []
        for side, (ankle, _) in _FEET.items():
            ankle_xz = joints[ankle, [0, 2]]
            low = soles[side] - floor_y
            previous = self._previous_ankle.get(side)
            speed = float(np.linalg.norm(ankle_xz - previous)) / dt_s if previous is not None and dt_s > 0 else 0.0
            self._previous_ankle[side] = ankle_xz
            if self.planted[side]:
                self.planted[side] = low <= s.release_height_m and speed <= s.release_speed_m_s
            else:
                self.planted[side] = low <= s.contact_height_m and speed <= s.plant_speed_m_s
                if self.planted[side]:
                    self._anchor[side] = ankle_xz + self._offset_xz
            if self.planted[side]:
                corrections.append(self._anchor[side] - ankle_xz)
        if corrections:
            self._offset_xz = np.mean(corrections, axis=0)
        if dt_s > 0:
            self._offset_xz *= math.exp(-dt_s / s.return_s)
            for side, (ankle, _) in _FEET.items():   # anchors follow the drift back, so feet stay consistent
                if self.planted[side]:
                    self._anchor[side] = joints[ankle, [0, 2]] + self._offset_xz
        self._shift = np.array([self._offset_xz[0], max(-floor_y, -lowest), self._offset_xz[1]])
        return replace(pose, root_position_m=pose.root_position_m + self._shift)
