"""BVH files: reading them, and the rules our writer (:mod:`mocap.sinks.bvh`) follows.

Reading: the joint hierarchy, per-joint channels in their declared order, motion.

Rotation channels are applied in the order CHANNELS lists them, as intrinsic rotations
(``Zrotation Yrotation Xrotation`` is ``R = Rz Ry Rx``), in degrees. A joint's position
channels, when present, replace its OFFSET (as Blender and three.js read them). End Sites
become joints named ``<parent>_end`` without channels. A joint name of several words is joined
with ``_``, as Blender does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.errors import MocapError
from mocap.core.skeleton import Skeleton, chain_transforms


@dataclass(frozen=True)
class BvhJoint:
    name: str
    parent: int                         # index of the parent joint, -1 for the root
    offset: NDArray[np.float64]         # (3,) rest offset from the parent, file units
    channels: tuple[str, ...]           # e.g. ("Xposition", ..., "Zrotation", "Yrotation", "Xrotation")
    first_channel: int                  # column of its first channel in the motion table


@dataclass(frozen=True)
class BvhClip:
    joints: tuple[BvhJoint, ...]
    motion: NDArray[np.float64]         # (frames, channels)
    frame_time_s: float

    @property
    def names(self) -> list[str]:
        return [joint.name for joint in self.joints]

    def index(self, name: str) -> int:
        return self.names.index(name)

    def rest_positions(self) -> NDArray[np.float64]:
        """Joint positions (joints, 3) of the OFFSET pose (no rotation), file units."""
        positions = np.zeros((len(self.joints), 3))
        for j, joint in enumerate(self.joints):
            positions[j] = joint.offset + (positions[joint.parent] if joint.parent >= 0 else 0.0)
        return positions

    def local_transforms(self) -> tuple[Rotation, NDArray[np.float64]]:
        """Per frame and joint: local rotations (frames x joints, flattened row-major) and
        translations (frames, joints, 3), file units."""
        frames = len(self.motion)
        quats = np.tile(np.array([0.0, 0.0, 0.0, 1.0]), (frames, len(self.joints), 1))
        translations = np.tile(np.stack([j.offset for j in self.joints]), (frames, 1, 1))
        for j, joint in enumerate(self.joints):
            rotation_axes = "".join(c[0].upper() for c in joint.channels if c.lower().endswith("rotation"))
            if rotation_axes:
                columns = [joint.first_channel + k for k, c in enumerate(joint.channels) if c.lower().endswith("rotation")]
                quats[:, j] = Rotation.from_euler(rotation_axes, self.motion[:, columns], degrees=True).as_quat()
            for axis, name in enumerate(("xposition", "yposition", "zposition")):
                if name in (c.lower() for c in joint.channels):
                    column = joint.first_channel + [c.lower() for c in joint.channels].index(name)
                    translations[:, j, axis] = self.motion[:, column]
        return Rotation.from_quat(quats.reshape(-1, 4)), translations

    def forward_kinematics(self) -> tuple[NDArray[np.float64], Rotation]:
        """World positions (frames, joints, 3) in file units and world rotations (frames x joints)."""
        local, translations = self.local_transforms()
        frames, count = len(self.motion), len(self.joints)
        parents = [joint.parent for joint in self.joints]
        world, positions = chain_transforms(parents, local.as_matrix().reshape(frames, count, 3, 3), translations)
        return positions, Rotation.from_matrix(world.reshape(-1, 3, 3), assume_valid=True)   # products of rotations


_CHANNEL_NAMES = {f"{axis}{kind}" for axis in "xyz" for kind in ("position", "rotation")}


def _joint_name_joined(words: list[str]) -> list[str]:
    """A ``ROOT``/``JOINT`` line's words with a name of several words joined by ``_``, as
    Blender's importer joins them (``JOINT Left Up Leg`` names ``Left_Up_Leg``)."""
    if len(words) > 2 and words[0].upper() in ("ROOT", "JOINT"):
        return [words[0], "_".join(words[1:])]
    return words


def read_bvh(path: Path) -> BvhClip:
    """Parse a BVH file; problems raise :class:`MocapError` naming the line."""
    try:
        lines = [line.split() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    except OSError as error:
        raise MocapError(f"cannot read BVH file {path}: {error.strerror}") from None
    tokens = [token for words in lines for token in _joint_name_joined(words)]
    joints: list[BvhJoint] = []
    stack: list[int] = []
    position = 0
    channel_count = 0

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise MocapError(f"BVH file {path} ends early: the hierarchy or motion is incomplete")
        position += 1
        return tokens[position - 1]

    try:
        if take().upper() != "HIERARCHY":
            raise MocapError(f"{path} is not a BVH file: it does not start with HIERARCHY")
        pending_name: str | None = None
        while True:
            token = take()
            upper = token.upper()
            if upper in ("ROOT", "JOINT"):
                pending_name = take()
            elif upper == "END":
                take()  # "Site"
                if not stack:
                    raise MocapError(f"BVH file {path}: an End Site outside any joint")
                pending_name = f"{joints[stack[-1]].name}_end"
            elif token == "{":
                if pending_name is None:
                    raise MocapError(f"BVH file {path}: '{{' without a joint name")
                take()  # OFFSET
                offset = np.array([float(take()) for _ in range(3)])
                channels: tuple[str, ...] = ()
                if position < len(tokens) and tokens[position].upper() == "CHANNELS":
                    take()
                    channels = tuple(take() for _ in range(int(take())))
                    unknown = [c for c in channels if c.lower() not in _CHANNEL_NAMES]
                    if unknown:
                        raise MocapError(f"BVH file {path}: joint {pending_name} has an unknown channel '{unknown[0]}' "
                                         "(expected Xposition ... Zrotation)")
                joints.append(BvhJoint(pending_name, stack[-1] if stack else -1, offset, channels, channel_count))
                channel_count += len(channels)
                stack.append(len(joints) - 1)
                pending_name = None
            elif token == "}":
                if not stack:
                    raise MocapError(f"BVH file {path}: a '}}' closes no joint")
                stack.pop()
            elif upper == "MOTION":
                break
        if not joints or stack:
            raise MocapError(f"BVH file {path}: its hierarchy is empty or not closed before MOTION")
        take()  # Frames:
        frames = int(take())
        take(), take()  # Frame Time:
        frame_time_s = float(take())
        values = np.array(tokens[position:position + max(frames, 0) * channel_count], dtype=np.float64)
    except ValueError as error:
        raise MocapError(f"BVH file {path} has a malformed number ({error})") from None
    if frames < 0 or values.size != frames * channel_count:
        raise MocapError(f"BVH file {path} declares {frames} frames but holds {values.size // max(channel_count, 1)}")
    if not (np.isfinite(values).all() and all(np.isfinite(joint.offset).all() for joint in joints)):
        raise MocapError(f"BVH file {path} holds a value that is not a finite number (nan or inf)")
    if not (np.isfinite(frame_time_s) and frame_time_s > 0):
        raise MocapError(f"BVH file {path}: its Frame Time must be a positive number of seconds, not {frame_time_s}")
    return BvhClip(tuple(joints), values.reshape(frames, channel_count), frame_time_s)


# The rules the writer follows: units, channel names, Euler orders and continuity, End Sites.
UNITS_PER_METRE = {"cm": 100.0, "m": 1.0}
AXIS_CHANNEL = {"X": "Xrotation", "Y": "Yrotation", "Z": "Zrotation"}


def continuous_euler(rotations: Rotation, order: str, previous_deg: NDArray[np.float64] | None) -> NDArray[np.float64]:
    """Intrinsic Euler angles (degrees, one row per rotation) closest to ``previous_deg``.

    Each rotation has two Euler solutions, (a, b, c) and (a + 180, 180 - b, c + 180), and each
    angle is free up to multiples of 360; the pair nearest to the previous frame is chosen.
    """
    angles = rotations.as_euler(order.upper(), degrees=True)
    if previous_deg is None:
        return angles
    other = angles + np.array([180.0, 0.0, 180.0])
    other[:, 1] = 180.0 - angles[:, 1]
    candidates = []
    for candidate in (angles, other):
        unwrapped = candidate + 360.0 * np.round((previous_deg - candidate) / 360.0)
        candidates.append(unwrapped)
    distance = [np.abs(c - previous_deg).sum(axis=1) for c in candidates]
    return np.where((distance[0] <= distance[1])[:, None], candidates[0], candidates[1])


_ORDER_WITH_MIDDLE = {0: "ZXY", 1: "ZYX", 2: "XZY"}


def gimbal_safe_order(skeleton: Skeleton, bone: int, children: list[int]) -> str:
    """An Euler order whose middle axis is the bone's own direction (its twist, which rarely
    nears 90 degrees), so bending an arm, leg or spine never meets gimbal lock. The root turns
    freely about the vertical, so its order is YXZ: heading first, then pitch, then roll."""
    if skeleton.parents[bone] < 0:
        return "YXZ"
    direction = np.mean([skeleton.rest_offsets_m[child] for child in children], axis=0) if children else end_site_offset(skeleton, bone)
    return _ORDER_WITH_MIDDLE[int(np.argmax(np.abs(direction)))]


def end_site_offset(skeleton: Skeleton, bone: int) -> NDArray[np.float64]:
    """End Site offset of a leaf bone, metres: skull top, toe tip, or 8 cm along a hand."""
    name = skeleton.names[bone]
    if name == "Head":
        return np.array([0.0, 0.18, 0.0])
    if name.endswith("Toes"):
        return np.array([0.0, 0.0, 0.05])
    offset = skeleton.rest_offsets_m[bone]
    return offset / max(float(np.linalg.norm(offset)), 1e-9) * 0.08
