"""Anatomical joint limits on the canonical humanoid's local rotations.

Each local rotation is split into twist (about the bone's own rest direction) and swing (the
rest). Hinges (elbows, knees) bend only one way about their hinge axis and barely at all
about the other swing axis; other joints have a cone of swing. Angles in degrees; the
canonical frame is the T-pose (+X left, +Y up, +Z forward).

The twist of a swing-twist split is not the bone's axial rotation once the swing is large: a
thigh raised forward and then carried out to the side reads about 90 degrees of twist with
none about its own axis (Codman's paradox), and a dancer's turned-out leg raised to the side
reads 170-180. So the hip joints' twist limit widens with the swing, from ``twist_deg`` up to no limit
over ``twist_widens_deg`` (swing, degrees); below that range it stops a leg spinning round its
own axis when the landmarks are bad.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.skeleton import BONE_INDEX, BONE_NAMES


@dataclass(frozen=True)
class Limit:
    axis: tuple[float, float, float]           # the bone's rest direction (twist axis), parent frame
    twist_deg: float                           # |twist| at most this
    swing_deg: float                           # cone: |swing| at most this (hinges: about the off axis)
    hinge: tuple[float, float, float] | None = None   # hinge axis; bending allowed from 0 to hinge_max_deg
    hinge_max_deg: float = 0.0
    twist_widens_deg: tuple[float, float] | None = None  # swings over which the twist limit grows to 180


def _limits() -> dict[str, Limit]:
    table = {
        "Spine": Limit((0, 1, 0), 40, 45), "Chest": Limit((0, 1, 0), 40, 45),
        "Neck": Limit((0, 1, 0), 60, 50), "Head": Limit((0, 1, 0), 60, 50),
    }
    for side, x in (("Left", 1.0), ("Right", -1.0)):
        table[f"{side}Shoulder"] = Limit((x, 0, 0), 20, 40)
        table[f"{side}UpperArm"] = Limit((x, 0, 0), 110, 175)
        table[f"{side}LowerArm"] = Limit((x, 0, 0), 110, 15, hinge=(0, -x, 0), hinge_max_deg=160)
        table[f"{side}Hand"] = Limit((x, 0, 0), 40, 85)
        table[f"{side}UpperLeg"] = Limit((0, -1, 0), 90, 140, twist_widens_deg=(45, 90))
        table[f"{side}LowerLeg"] = Limit((0, -1, 0), 30, 10, hinge=(1, 0, 0), hinge_max_deg=160)
        table[f"{side}Foot"] = Limit((0, -1, 0), 40, 60)
        table[f"{side}Toes"] = Limit((0, 0, 1), 10, 60)
    return table


LIMITS: dict[str, Limit] = _limits()


def _clamp_norm(vectors: NDArray[np.float64], max_norm: NDArray[np.float64]) -> NDArray[np.float64]:
    norm = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors * np.minimum(1.0, max_norm[:, None] / np.maximum(norm, 1e-12))


class JointLimits:
    """Clamps local rotations (bones in :data:`mocap.core.skeleton.BONE_NAMES` order) to :data:`LIMITS`."""

    def __init__(self) -> None:
        table = _limits()
        names = [name for name in BONE_NAMES if name in table]
        self._bones = np.array([BONE_INDEX[name] for name in names])
        limits = [table[name] for name in names]
        self._axis = np.array([limit.axis for limit in limits], dtype=np.float64)
        self._twist = np.radians([limit.twist_deg for limit in limits])
        self._swing = np.radians([limit.swing_deg for limit in limits])
        self._is_hinge = np.array([limit.hinge is not None for limit in limits])
        self._hinge = np.array([limit.hinge if limit.hinge is not None else (0.0, 0.0, 0.0) for limit in limits], dtype=np.float64)
        self._hinge_max = np.radians([limit.hinge_max_deg for limit in limits])
        widening = np.array([limit.twist_widens_deg or (360.0, 361.0) for limit in limits])   # never reached: fixed limit
        self._widen_from, self._widen_to = np.radians(widening).T

    def __call__(self, local: Rotation) -> Rotation:
        quats = local.as_quat()
        q = quats[self._bones]
        # twist: the quaternion's vector part projected on the bone axis
        projection = np.sum(q[:, :3] * self._axis, axis=1)
        twist_quat = np.concatenate([projection[:, None] * self._axis, q[:, 3:]], axis=1)
        twist_norm = np.linalg.norm(twist_quat, axis=1, keepdims=True)
        twist_quat = np.where(twist_norm > 1e-9, twist_quat / np.maximum(twist_norm, 1e-12), [0.0, 0.0, 0.0, 1.0])
        twist = Rotation.from_quat(twist_quat)
        swing = (Rotation.from_quat(q) * twist.inv()).as_rotvec()
        twist_vector = twist.as_rotvec()
        twist_angle = np.sum(twist_vector * self._axis, axis=1)
        widened = np.clip((np.linalg.norm(swing, axis=1) - self._widen_from) / (self._widen_to - self._widen_from), 0.0, 1.0)
        max_twist = self._twist + widened * (np.pi - self._twist)
        twist_angle = np.clip(twist_angle, -max_twist, max_twist)
        # swing: a cone, or for hinges a one-way bend about the hinge axis plus a little off it
        bend = np.sum(swing * self._hinge, axis=1)
        off_axis = swing - bend[:, None] * self._hinge
        hinge_swing = np.clip(bend, 0.0, self._hinge_max)[:, None] * self._hinge + _clamp_norm(off_axis, self._swing)
        swing = np.where(self._is_hinge[:, None], hinge_swing, _clamp_norm(swing, self._swing))
        limited = Rotation.from_rotvec(swing) * Rotation.from_rotvec(twist_angle[:, None] * self._axis)
        quats[self._bones] = limited.as_quat()
        return Rotation.from_quat(quats)
