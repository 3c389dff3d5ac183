"""Planted feet that do not slide, and a floor the feet do not sink through.

Works on the solved skeleton (after the rotation filter), so what is locked is the foot the
avatar shows. The ground plane is the 5th percentile of the skeleton's lowest sole point over
the last ``floor_window_s`` seconds (the solved skeleton's proportions never match the
landmarks exactly); the avatar is moved so that plane is y = 0, and never below it. A foot
is planted when its lowest point (the toe joint, or the sole under the ankle) comes within
``contact_height_m`` of the ground while it moves slower than
``plant_speed_m_s`` horizontally; it lifts off when it rises above ``release_height_m`` or
moves faster than ``release_speed_m_s``. While a foot is planted its ankle is anchored where
it was planted: the root is shifted horizontally toward the anchors (with both feet planted,
the mean of their corrections), smoothed with time constant ``shift_smoothing_s`` so the legs'
own noise, magnified by their length, does not shake the whole body; then each planted leg is
bent by two-bone IK (hip and knee, knee kept in its bend plane, foot orientation kept) so its
ankle reaches its own anchor exactly. A foot further than ``max_pin_m`` from its anchor is
released instead. The shift is kept when feet lift (so the body never jumps) and eases back
toward the measured position with time constant ``return_s`` seconds. While nobody is in view
no foot is planted: a performer back in view plants their feet where they now stand.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.frames import SkeletonPose
from mocap.core.skeleton import BONE_INDEX, Skeleton, humanoid_skeleton

_FEET = {side: (BONE_INDEX[f"{side}Foot"], BONE_INDEX[f"{side}Toes"]) for side in ("Left", "Right")}
_LEGS = {side: (BONE_INDEX[f"{side}UpperLeg"], BONE_INDEX[f"{side}LowerLeg"], BONE_INDEX[f"{side}Foot"]) for side in _FEET}
_LEG_CHAIN = humanoid_skeleton().chain_to([bone for pair in _FEET.values() for bone in pair])  # hips to toes


@dataclass(frozen=True)
class ContactSettings:
    """Foot-contact thresholds, chosen on the CMU clips with benchmarks/retarget_accuracy.py."""

    lock_feet: bool = True             # plant and hold feet (False: only the floor is applied)
    contact_height_m: float = 0.05     # a foot this close to the floor may be planted, metres
    release_height_m: float = 0.08     # a planted foot higher than this has lifted, metres
    plant_speed_m_s: float = 0.8       # horizontal ankle speed below which a low foot plants, m/s
    release_speed_m_s: float = 1.5     # a planted foot faster than this has lifted, m/s
    max_pin_m: float = 0.05            # a planted ankle measured further than this from its anchor is released, metres
    shift_smoothing_s: float = 0.1     # time constant of the root shift following the planted feet, seconds
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
        if not pose.tracked:   # nobody in view: the avatar stays exactly where it was, and no foot stays planted
            self.planted = {side: False for side in _FEET}
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
                self.planted[side] = s.lock_feet and low <= s.contact_height_m and speed <= s.plant_speed_m_s
                if self.planted[side]:
                    self._anchor[side] = ankle_xz + self._offset_xz
            if self.planted[side]:
                corrections.append(self._anchor[side] - ankle_xz)
        if corrections:
            follow = 1.0 - math.exp(-dt_s / s.shift_smoothing_s) if dt_s > 0 else 1.0
            self._offset_xz = self._offset_xz + follow * (np.mean(corrections, axis=0) - self._offset_xz)
        if dt_s > 0:
            drift = self._offset_xz * (math.exp(-dt_s / s.return_s) - 1.0)
            self._offset_xz += drift
            for side in _FEET:   # anchors follow the drift back, so feet stay consistent with the root
                if self.planted[side]:
                    self._anchor[side] = self._anchor[side] + drift
        self._shift = np.array([self._offset_xz[0], max(-floor_y, -lowest), self._offset_xz[1]])
        root = pose.root_position_m + self._shift
        for side, (ankle, _) in _FEET.items():
            if self.planted[side] and np.linalg.norm(self._anchor[side] - joints[ankle, [0, 2]] - self._offset_xz) > s.max_pin_m:
                self.planted[side] = False
        if not any(self.planted.values()):
            return replace(pose, root_position_m=root)
        local = pose.local_rotations.as_matrix()
        for side in _FEET:
            if self.planted[side]:
                _pin_ankle(pose.skeleton, local, root, _LEGS[side], self._anchor[side])
        # turned by rotations only: skip scipy's re-orthogonalisation
        return replace(pose, root_position_m=root, local_rotations=Rotation.from_matrix(local, assume_valid=True))


def _between(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """The smallest rotation matrix taking direction ``a`` to direction ``b`` (the same as
    ``Rotation.align_vectors`` for one pair, at half its cost on this per-frame path)."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    axis = np.cross(a, b)
    sine, cosine = float(np.linalg.norm(axis)), float(np.dot(a, b))
    if sine < 1e-9:
        return np.eye(3)
    return Rotation.from_rotvec(axis / sine * math.atan2(sine, cosine)).as_matrix()


def _pin_ankle(
    skeleton: Skeleton, local: NDArray[np.float64], root_m: NDArray[np.float64], leg: tuple[int, int, int],
    anchor_xz: NDArray[np.float64],
) -> None:
    """Turns the hip and knee of ``leg`` (thigh, shin and foot bones, children of the root) in
    ``local`` (bones, 3, 3) so the ankle reaches ``anchor_xz`` at its own height: two-bone IK
    in the knee's current bend plane. The foot keeps its world orientation."""
    thigh, shin, foot = leg
    offsets = skeleton.rest_offsets_m
    hips_world = local[0]
    thigh_world = hips_world @ local[thigh]
    shin_world = thigh_world @ local[shin]
    foot_world = shin_world @ local[foot]
    hip = root_m + hips_world @ offsets[thigh]
    knee = hip + thigh_world @ offsets[shin]
    ankle = knee + shin_world @ offsets[foot]
    target = np.array([anchor_xz[0], ankle[1], anchor_xz[1]])
    thigh_m, shin_m = float(np.linalg.norm(offsets[shin])), float(np.linalg.norm(offsets[foot]))
    distance = float(np.linalg.norm(target - hip))
    reach = float(np.clip(distance, abs(thigh_m - shin_m) + 1e-6, thigh_m + shin_m - 1e-6))
    along = (target - hip) / max(distance, 1e-9)
    bend = knee - hip - np.dot(knee - hip, along) * along
    if np.linalg.norm(bend) < 1e-6:   # a straight leg bends its knee forward
        bend = thigh_world @ np.array([0.0, 0.0, 1.0])
        bend -= np.dot(bend, along) * along
        if np.linalg.norm(bend) < 1e-6:
            return
    bend /= np.linalg.norm(bend)
    cosine = (thigh_m**2 + reach**2 - shin_m**2) / (2.0 * thigh_m * reach)
    new_knee = hip + thigh_m * (cosine * along + math.sqrt(max(1.0 - cosine**2, 0.0)) * bend)
    new_ankle = hip + reach * along
    turn_thigh = _between(knee - hip, new_knee - hip)
    new_thigh_world = turn_thigh @ thigh_world
    new_shin_world = _between(turn_thigh @ (ankle - knee), new_ankle - new_knee) @ turn_thigh @ shin_world
    local[thigh] = hips_world.T @ new_thigh_world
    local[shin] = new_thigh_world.T @ new_shin_world
    local[foot] = new_shin_world.T @ foot_world
