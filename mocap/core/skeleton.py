"""The canonical output rig: a VRM0-normalised humanoid in T-pose.

Every rest local rotation is identity, so a bone's local rotation means "rotation from
T-pose in the parent's frame" and its rest offset is expressed in world axes (internal
frame: +Y up, facing +Z, left toward +X, metres). Proportions are the performer's, measured
from MediaPipe world landmarks by :class:`mocap.solving.measure.BodyMeasurer`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

# (bone, parent) in an order where every parent precedes its children. Unity HumanBodyBones
# names, as VMC sends them.
HUMANOID_BONES: tuple[tuple[str, str | None], ...] = (
    ("Hips", None),
    ("Spine", "Hips"),
    ("Chest", "Spine"),
    ("Neck", "Chest"),
    ("Head", "Neck"),
    ("LeftShoulder", "Chest"),
    ("LeftUpperArm", "LeftShoulder"),
    ("LeftLowerArm", "LeftUpperArm"),
    ("LeftHand", "LeftLowerArm"),
    ("RightShoulder", "Chest"),
    ("RightUpperArm", "RightShoulder"),
    ("RightLowerArm", "RightUpperArm"),
    ("RightHand", "RightLowerArm"),
    ("LeftUpperLeg", "Hips"),
    ("LeftLowerLeg", "LeftUpperLeg"),
    ("LeftFoot", "LeftLowerLeg"),
    ("LeftToes", "LeftFoot"),
    ("RightUpperLeg", "Hips"),
    ("RightLowerLeg", "RightUpperLeg"),
    ("RightFoot", "RightLowerLeg"),
    ("RightToes", "RightFoot"),
)
BONE_NAMES: tuple[str, ...] = tuple(name for name, _ in HUMANOID_BONES)
BONE_INDEX: dict[str, int] = {name: i for i, name in enumerate(BONE_NAMES)}

FINGERS = ("Thumb", "Index", "Middle", "Ring", "Little")
PHALANGES = ("Proximal", "Intermediate", "Distal")
# The 30 finger bones, appended after the body's when hands are tracked: the left hand's five
# fingers (thumb first), each proximal to distal, then the right hand's.
FINGER_BONES: tuple[tuple[str, str], ...] = tuple(
    (f"{side}{finger}{phalanx}", f"{side}Hand" if phalanx == "Proximal" else f"{side}{finger}{PHALANGES[i - 1]}")
    for side in ("Left", "Right") for finger in FINGERS for i, phalanx in enumerate(PHALANGES)
)
HAND_BONES: tuple[tuple[str, str | None], ...] = HUMANOID_BONES + FINGER_BONES
HAND_BONE_INDEX: dict[str, int] = {name: i for i, (name, _) in enumerate(HAND_BONES)}
EYE_BONES: tuple[tuple[str, str], ...] = (("LeftEye", "Head"), ("RightEye", "Head"))   # last, when the face is tracked
ALL_BONES: dict[str, str | None] = dict(HAND_BONES + EYE_BONES)   # every bone mocap may send -> its parent
EYE_FROM_HEAD_M = (0.032, 0.02, 0.085)   # the left eye from the head joint (between the ears), for a neck_m of 0.16

# A left hand in T-pose (metres, for a hand_m of 0.08): where each finger's proximal joint sits
# from the wrist, each phalanx's length, and the finger's direction (fingers along +X; the thumb
# 45 degrees forward, toward +Z, in the palm's plane). The right hand mirrors it.
FINGER_ROOTS_M = {"Thumb": (0.022, -0.008, 0.018), "Index": (0.078, 0.0, 0.024), "Middle": (0.080, 0.0, 0.0),
                  "Ring": (0.076, 0.0, -0.014), "Little": (0.070, 0.0, -0.030)}
PHALANX_LENGTHS_M = {"Thumb": (0.040, 0.032, 0.027), "Index": (0.042, 0.025, 0.021), "Middle": (0.046, 0.029, 0.022),
                     "Ring": (0.043, 0.027, 0.021), "Little": (0.034, 0.020, 0.019)}
THUMB_REST_TURN_DEG = 45.0


def finger_rest_direction(finger: str, side: str) -> NDArray[np.float64]:
    """A finger's direction in T-pose (unit, world axes) on the ``side`` ("Left"/"Right") hand."""
    x = 1.0 if side == "Left" else -1.0
    if finger != "Thumb":
        return np.array([x, 0.0, 0.0])
    turn = np.radians(THUMB_REST_TURN_DEG)
    return np.array([x * np.cos(turn), 0.0, np.sin(turn)])


@dataclass(frozen=True)
class BodyProportions:
    """Segment lengths of the performer, metres. Defaults: an adult of about 1.70 m."""

    hip_width_m: float = 0.20          # left hip joint to right hip joint
    shoulder_width_m: float = 0.36     # left shoulder joint to right shoulder joint
    torso_m: float = 0.50              # mid-hips to mid-shoulders
    neck_m: float = 0.16               # mid-shoulders to mid-ears
    upper_arm_m: float = 0.28
    forearm_m: float = 0.25
    hand_m: float = 0.08               # wrist to the index/pinky knuckles' midpoint
    thigh_m: float = 0.42
    shin_m: float = 0.40
    ankle_height_m: float = 0.07       # ankle joint above the floor
    foot_m: float = 0.22               # heel to toe tip

    @property
    def hip_height_m(self) -> float:
        """Height of the hip joints above the floor in rest pose, metres."""
        return self.thigh_m + self.shin_m + self.ankle_height_m


@dataclass(frozen=True)
class Skeleton:
    """A joint hierarchy with its rest pose: the canonical humanoid, a target rig's joints, the
    skeleton a BVH file is written with."""

    names: tuple[str, ...]
    parents: tuple[int, ...]            # -1 for the root; parents precede children
    rest_offsets_m: NDArray[np.float64]  # (joints, 3), from the parent's joint in its rest frame; root: its rest position
    rest_rotations: Rotation | None = None  # (joints,) local rest rotations (the root's: its world one); None: identity

    def forward_kinematics(
        self, local_rotations: Rotation, root_position_m: NDArray[np.float64]
    ) -> tuple[Rotation, NDArray[np.float64]]:
        """Global rotations and joint positions (joints, 3) for one pose (``local_rotations``:
        each joint's full local rotation, rest included)."""
        world, positions = self._world(local_rotations.as_matrix(), root_position_m, range(len(self.names)))
        return Rotation.from_matrix(world, assume_valid=True), positions   # products of rotations

    def rest_world(self) -> tuple[Rotation, NDArray[np.float64]]:
        """World rotations (joints,) and positions (joints, 3) of the rest pose, metres."""
        return self.forward_kinematics(self.rest_local_rotations(), self.rest_offsets_m[self.parents.index(-1)])

    def rest_local_rotations(self) -> Rotation:
        """Each joint's local rotation at rest (identity where :attr:`rest_rotations` is None)."""
        return self.rest_rotations if self.rest_rotations is not None else Rotation.identity(len(self.names))

    def local_rotations(self, world_rotations: Rotation) -> Rotation:
        """Each bone's rotation in its parent's frame (parent's world^-1 * its world): the
        inverse of :meth:`forward_kinematics`' rotations."""
        world = world_rotations.as_matrix()
        parent_world = np.concatenate([world, np.eye(3)[None]])[[p if p >= 0 else len(world) for p in self.parents]]
        return Rotation.from_matrix(np.transpose(parent_world, (0, 2, 1)) @ world, assume_valid=True)

    def joint_positions(
        self, local_rotations: Rotation, root_position_m: NDArray[np.float64], bones: list[int]
    ) -> NDArray[np.float64]:
        """Positions (bones, 3) of ``bones`` only (from :meth:`chain_to`); the other rows are zero."""
        return self._world(local_rotations.as_matrix(), root_position_m, bones)[1]

    def _world(
        self, local: NDArray[np.float64], root_position_m: NDArray[np.float64], bones: Iterable[int]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        offsets = self.rest_offsets_m.copy()
        offsets[[bone for bone, parent in enumerate(self.parents) if parent < 0]] = root_position_m
        return chain_transforms(self.parents, local, offsets, bones)

    def chain_to(self, targets: list[int]) -> list[int]:
        """The bones from the root to each of ``targets``, parents first (for ``forward_kinematics``)."""
        needed: set[int] = set()
        for bone in targets:
            while bone >= 0 and bone not in needed:
                needed.add(bone)
                bone = self.parents[bone]
        return sorted(needed)


def chain_transforms(
    parents: Sequence[int], local: NDArray[np.float64], offsets: NDArray[np.float64], joints: Iterable[int] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The one forward-kinematics walk of a joint hierarchy (parents before children; -1 for a root):
    world rotation matrices (..., joints, 3, 3) and positions (..., joints, 3) from local rotation
    matrices (..., joints, 3, 3) and offsets from the parent (..., joints, 3; a root's is its world
    position), for one pose or a stack of them (the leading axes). ``joints``: only these (a chain
    from a root, parents first); the others stay identity and zero."""
    local_first = np.moveaxis(local, -3, 0)            # (joints, ..., 3, 3): the joint axis first is the fastest to index
    offsets_first = np.moveaxis(offsets, -2, 0)[..., None]   # (joints, ..., 3, 1)
    world = np.broadcast_to(np.eye(3), local_first.shape).copy()
    positions = np.zeros(offsets_first.shape)
    for joint in range(len(parents)) if joints is None else joints:
        parent = parents[joint]
        if parent < 0:
            world[joint] = local_first[joint]
            positions[joint] = offsets_first[joint]
        else:
            world[joint] = world[parent] @ local_first[joint]
            positions[joint] = positions[parent] + world[parent] @ offsets_first[joint]
    return np.moveaxis(world, 0, -3), np.moveaxis(positions[..., 0], 0, -2)


def humanoid_skeleton(proportions: BodyProportions = BodyProportions(), *, fingers: bool = False,
                      eyes: bool = False) -> Skeleton:
    """The canonical humanoid in T-pose (arms along +-X, palms down) with these proportions;
    ``fingers``: with the 30 finger bones after the body's (:data:`HAND_BONES` order), sized by the
    hand; ``eyes``: with the two eye bones (:data:`EYE_BONES`) last."""
    p = proportions
    half_shoulders = p.shoulder_width_m / 2.0
    clavicle_start = 0.25 * half_shoulders
    offsets = {
        "Hips": (0.0, p.hip_height_m, 0.0),
        "Spine": (0.0, 0.15 * p.torso_m, 0.0),
        "Chest": (0.0, 0.35 * p.torso_m, 0.0),
        "Neck": (0.0, 0.50 * p.torso_m, 0.0),
        "Head": (0.0, 0.60 * p.neck_m, 0.0),
        "LeftShoulder": (clavicle_start, 0.45 * p.torso_m, 0.0),
        "LeftUpperArm": (half_shoulders - clavicle_start, 0.05 * p.torso_m, 0.0),
        "LeftLowerArm": (p.upper_arm_m, 0.0, 0.0),
        "LeftHand": (p.forearm_m, 0.0, 0.0),
        "LeftUpperLeg": (p.hip_width_m / 2.0, 0.0, 0.0),
        "LeftLowerLeg": (0.0, -p.thigh_m, 0.0),
        "LeftFoot": (0.0, -p.shin_m, 0.0),
        "LeftToes": (0.0, -p.ankle_height_m, 0.5 * p.foot_m),
    }
    for name in list(offsets):
        if name.startswith("Left"):
            x, y, z = offsets[name]
            offsets["Right" + name[4:]] = (-x, y, z)
    bones = (HAND_BONES if fingers else HUMANOID_BONES) + (EYE_BONES if eyes else ())
    offsets["LeftEye"] = tuple(p.neck_m / 0.16 * np.array(EYE_FROM_HEAD_M))
    offsets["RightEye"] = tuple(p.neck_m / 0.16 * np.array(EYE_FROM_HEAD_M) * [-1.0, 1.0, 1.0])
    if fingers:
        scale = p.hand_m / 0.08
        for side in ("Left", "Right"):
            mirror = np.array([1.0 if side == "Left" else -1.0, 1.0, 1.0])
            for finger in FINGERS:
                direction = finger_rest_direction(finger, side)
                lengths = PHALANX_LENGTHS_M[finger]
                offsets[f"{side}{finger}Proximal"] = tuple(scale * mirror * FINGER_ROOTS_M[finger])
                offsets[f"{side}{finger}Intermediate"] = tuple(scale * lengths[0] * direction)
                offsets[f"{side}{finger}Distal"] = tuple(scale * lengths[1] * direction)
    index = {name: i for i, (name, _) in enumerate(bones)}
    return Skeleton(
        names=tuple(name for name, _ in bones),
        parents=tuple(-1 if parent is None else index[parent] for _, parent in bones),
        rest_offsets_m=np.array([offsets[name] for name, _ in bones], dtype=np.float64),
    )
