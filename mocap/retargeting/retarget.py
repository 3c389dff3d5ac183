"""Retargeting the canonical humanoid's pose onto another rig, honouring its rest pose.

The canonical solve gives each HumanBodyBones bone a global rotation from the T-pose
(facing +Z, left +X). A rig may face another way (VRM 0.x faces -Z), stand in an A-pose, or
carry non-identity rest rotations (glTF). Three rotations bridge that:

- ``facing``: turns the rig's rest pose so it faces +Z with +Y up (from its hips and head);
- ``alignment[b]``: for arm and leg bones, the smallest rotation taking the rig's rest bone
  direction (toward its next mapped descendant) onto the canonical T-pose direction, so an
  A-pose arm is first lifted to the T-pose; for feet the same about the vertical only; hands
  and toes take their parent's; the torso, neck, head and clavicles keep their rest shape;
- the rig's rest world rotation of the joint.

A mapped joint's world rotation is ``facing^-1 * G_b * alignment_b * facing * rest_world``. An
unmapped neck joint (a lower or upper neck that is no humanoid bone of the rig, so not an
UpperChest) whose parent and only child are mapped turns halfway between them, so the neck
bends along its length (doing the same in the spine added jitter from the noisier hips and
gained nothing); other unmapped joints keep their rest local rotation. Bones the rig lacks (no
neck, no shoulders) fold into their parents because only world rotations are imposed. Local rotations
follow as parent^-1 * child. The point between the rig's hip joints moves like the performer's,
scaled by the ratio of leg lengths (hip joints above the floor), so strides match and feet stay
on the floor; the rig's Hips joint keeps its rest offset from that point, turned with the pelvis.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.skeleton import (
    ALL_BONES,
    BONE_INDEX,
    FINGERS,
    Skeleton,
    humanoid_skeleton,
)
from mocap.retargeting.rigs import Rig

_PARENT: dict[str, str | None] = ALL_BONES
# The canonical child whose direction defines a bone's direction (the chain continues through it).
DIRECTION_CHILD = {
    "Hips": "Spine", "Spine": "Chest", "Chest": "Neck", "Neck": "Head",
    "LeftShoulder": "LeftUpperArm", "LeftUpperArm": "LeftLowerArm", "LeftLowerArm": "LeftHand",
    "RightShoulder": "RightUpperArm", "RightUpperArm": "RightLowerArm", "RightLowerArm": "RightHand",
    "LeftUpperLeg": "LeftLowerLeg", "LeftLowerLeg": "LeftFoot", "LeftFoot": "LeftToes",
    "RightUpperLeg": "RightLowerLeg", "RightLowerLeg": "RightFoot", "RightFoot": "RightToes",
} | {f"{side}{finger}{phalanx}": f"{side}{finger}{child}" for side in ("Left", "Right") for finger in FINGERS
     for phalanx, child in (("Proximal", "Intermediate"), ("Intermediate", "Distal"))}
_FEET = ("LeftFoot", "RightFoot", "LeftToes", "RightToes")
MIN_VMC_OFFSET_M = 0.01
_NECK_BONES = [BONE_INDEX[bone] for bone in ("Neck", "Head")]
# How each bone's rest pose is brought to the T-pose: limbs fully (an A-pose arm is lifted),
# feet only about the vertical (a rest foot is flat on the floor whatever its slope), hands and
# toes as their parent; hips, spine and chest by the lines the solver aims them along (hip
# joints, mid-hips -> mid-shoulders), so a rig's rest lean is its upright; the neck, head and
# clavicles keep the rig's own rest shape.
_ALIGNMENT = {"UpperArm": "full", "LowerArm": "full", "UpperLeg": "full", "LowerLeg": "full",
              "Foot": "yaw", "Hand": "parent", "Toes": "parent", "Hips": "torso", "Spine": "torso", "Chest": "torso"} | {
              f"{finger}{phalanx}": kind for finger in FINGERS
              for phalanx, kind in (("Proximal", "full"), ("Intermediate", "full"), ("Distal", "parent"))}


def rig_facing(rig: Rig) -> Rotation:
    """The turn about +Y (rig files are Y-up) that makes the rig's rest pose face +Z, its left
    hip toward +X."""
    _, positions = rig.skeleton.rest_world()
    left = positions[rig.humanoid["LeftUpperLeg"]] - positions[rig.humanoid["RightUpperLeg"]]
    return Rotation.from_euler("y", -np.arctan2(-left[2], left[0]))


def _floor_y(rig: Rig, facing: Rotation) -> float:
    _, positions = rig.skeleton.rest_world()
    feet = [rig.humanoid[b] for b in _FEET if b in rig.humanoid]
    return float(facing.apply(positions[feet])[:, 1].min())


class Retargeter:
    """Maps canonical poses (local rotations on :func:`mocap.core.skeleton.humanoid_skeleton`,
    with the finger bones when ``fingers``, the eyes when ``eyes``) onto ``rig``."""

    def __init__(self, rig: Rig, *, fingers: bool = False, eyes: bool = False) -> None:
        self.rig = rig
        self.fingers = fingers
        self.eyes = eyes
        self.facing = rig_facing(rig)
        rest_rotations, rest_positions = rig.skeleton.rest_world()
        self._rest_world = self.facing.as_matrix() @ rest_rotations.as_matrix()       # (joints, 3, 3)
        faced = self.facing.apply(rest_positions)
        canonical = humanoid_skeleton(fingers=fingers, eyes=eyes)
        canonical_index = {name: i for i, name in enumerate(canonical.names)}
        alignment: dict[str, NDArray[np.float64]] = {}
        for bone in canonical.names:   # parents first
            if bone not in rig.humanoid:
                continue
            kind = _ALIGNMENT.get(bone.removeprefix("Left").removeprefix("Right"), "none")
            target = self._mapped_descendant(bone, faced) if kind in ("full", "yaw") else None
            if kind == "torso":
                alignment[bone] = self._torso_alignment(bone, faced)
            elif target is not None:
                descendant, chain = target
                canonical_direction = canonical.rest_offsets_m[[canonical_index[b] for b in chain]].sum(axis=0)
                rig_direction = faced[rig.humanoid[descendant]] - faced[rig.humanoid[bone]]
                if kind == "yaw":
                    canonical_direction, rig_direction = canonical_direction * [1, 0, 1], rig_direction * [1, 0, 1]
                rotation, _ = Rotation.align_vectors([canonical_direction], [rig_direction])
                alignment[bone] = rotation.as_matrix()
            elif kind == "parent":
                parent = _PARENT[bone]
                alignment[bone] = alignment.get(parent, np.eye(3)) if parent is not None else np.eye(3)
            else:
                alignment[bone] = np.eye(3)
        self._mapped_bone = np.full(len(rig.skeleton.names), -1)
        self._alignment = np.tile(np.eye(3), (len(rig.skeleton.names), 1, 1))
        for bone, joint in rig.humanoid.items():
            if bone in canonical_index:
                self._mapped_bone[joint] = canonical_index[bone]
                self._alignment[joint] = alignment[bone]
        self._rest_local = rig.skeleton.rest_local_rotations().as_matrix()
        self._facing_inverse = self.facing.inv().as_matrix()
        self._aligned_rest = self._alignment @ self._rest_world          # alignment_b * facing * rest_world
        self._mapped_joints = np.flatnonzero(self._mapped_bone >= 0)
        unmapped = [j for j in range(len(rig.skeleton.names)) if self._mapped_bone[j] < 0]
        children = {j: [c for c, parent in enumerate(rig.skeleton.parents) if parent == j] for j in unmapped}
        # Extra neck joints (a lower or upper neck): no humanoid bone of the rig (an UpperChest is
        # spine), between a mapped parent and one mapped neck or head.
        humanoid_joints = set(rig.humanoid.values())
        between = [j for j in unmapped if j not in humanoid_joints and rig.skeleton.parents[j] >= 0
                   and self._mapped_bone[rig.skeleton.parents[j]] >= 0
                   and len(children[j]) == 1 and self._mapped_bone[children[j][0]] in _NECK_BONES]
        self._between_joints = np.array(between, dtype=int)
        self._between_children = np.array([children[j][0] for j in between], dtype=int)
        self._unmapped_joints = [j for j in unmapped if j not in between]
        self._parent_or_root = np.array([max(parent, 0) for parent in rig.skeleton.parents])
        self._canonical_parents = canonical.parents
        hips = rig.humanoid["Hips"]
        self._floor_y = _floor_y(rig, self.facing)
        hip_joints = (faced[rig.humanoid["LeftUpperLeg"]] + faced[rig.humanoid["RightUpperLeg"]]) / 2.0
        self.hip_height_m = float(hip_joints[1] - self._floor_y)   # hip joints above the floor: the leg length
        self._hip_joints_xz = hip_joints[[0, 2]]
        self._hips_from_hip_joints = faced[hips] - hip_joints   # rest offset of the Hips joint, faced frame

    def _torso_alignment(self, bone: str, positions: NDArray[np.float64]) -> NDArray[np.float64]:
        """Rotation taking the rig's rest hip line and mid-hips -> mid-shoulders line to the
        canonical ones, with the solver's choice of primary direction for ``bone``."""
        h = self.rig.humanoid
        hip_line = positions[h["LeftUpperLeg"]] - positions[h["RightUpperLeg"]]
        shoulder_line = positions[h["LeftUpperArm"]] - positions[h["RightUpperArm"]]
        spine_up = (positions[h["LeftUpperArm"]] + positions[h["RightUpperArm"]]) / 2 - (
            positions[h["LeftUpperLeg"]] + positions[h["RightUpperLeg"]]) / 2
        x_axis, y_axis = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]
        if bone == "Hips":
            rotation, _ = Rotation.align_vectors([x_axis, y_axis], [hip_line, spine_up], weights=[np.inf, 1.0])
        else:
            rotation, _ = Rotation.align_vectors([y_axis, x_axis], [spine_up, shoulder_line], weights=[np.inf, 1.0])
        return rotation.as_matrix()

    def _mapped_descendant(self, bone: str, positions: NDArray[np.float64]) -> tuple[str, list[str]] | None:
        """The first descendant along the bone's direction chain that the rig has at a distinct
        position (``positions``: rest joint positions), and the chain to it."""
        chain: list[str] = []
        current = bone
        start = positions[self.rig.humanoid[bone]]
        while current in DIRECTION_CHILD:
            current = DIRECTION_CHILD[current]
            chain.append(current)
            if current in self.rig.humanoid and np.linalg.norm(positions[self.rig.humanoid[current]] - start) > 1e-4:
                return current, chain
        return None

    def _turn_between_joints(self, world: NDArray[np.float64]) -> None:
        """World rotations of the extra neck joints, halfway along the shortest arc between
        keeping their rest pose to the parent and to the child, so a bend spreads over both
        joints instead of folding at one."""
        joints, children = self._between_joints, self._between_children
        from_parent = world[self._parent_or_root[joints]] @ self._rest_local[joints]
        from_child = world[children] @ np.transpose(self._rest_local[children], (0, 2, 1))
        # The rotation part (polar factor) of the sum of two rotations is their geodesic midpoint.
        u, _, vt = np.linalg.svd(from_parent + from_child)
        world[joints] = u @ vt

    def canonical_skeleton(self) -> Skeleton:
        """The canonical humanoid with this rig's proportions, in its T-pose (metres), for VMC:
        each bone's offset is the rig's, measured after bringing the rig to the T-pose. Bones the
        rig lacks sit at the canonical offset from their parent, scaled by the hip heights; an
        offset under 1 cm becomes 1 cm along the canonical direction."""
        canonical = humanoid_skeleton(fingers=self.fingers, eyes=self.eyes)
        identity = Rotation.from_quat(np.tile([0.0, 0.0, 0.0, 1.0], (len(canonical.names), 1)))
        local, root = self.retarget(identity, np.zeros(3), self.hip_height_m)
        _, positions = self.rig.skeleton.forward_kinematics(local, root)
        faced = self.facing.apply(positions)
        scale = self.hip_height_m / canonical.rest_offsets_m[0, 1]
        bone_positions = np.zeros((len(canonical.names), 3))
        for bone, parent in enumerate(canonical.parents):
            name = canonical.names[bone]
            if name in self.rig.humanoid:
                bone_positions[bone] = faced[self.rig.humanoid[name]]
            else:
                bone_positions[bone] = bone_positions[parent] + scale * canonical.rest_offsets_m[bone]
        offsets_m = np.array([
            bone_positions[bone] - (bone_positions[parent] if parent >= 0 else 0.0)
            for bone, parent in enumerate(canonical.parents)
        ])
        offsets_m[0] = (0.0, self.hip_height_m, 0.0)
        # Never a zero offset (VMC receivers apply them; a rig's spine may start at its hips).
        short = np.linalg.norm(offsets_m, axis=1) < MIN_VMC_OFFSET_M
        directions = canonical.rest_offsets_m[short] / np.linalg.norm(canonical.rest_offsets_m[short], axis=1, keepdims=True)
        offsets_m[short] = MIN_VMC_OFFSET_M * directions
        return Skeleton(canonical.names, canonical.parents, offsets_m)

    def skeleton(self) -> Skeleton:
        """The rig's skeleton for writing BVH: its root offset at the origin, and no rest rotations
        (a BVH's rest is every rotation zero; :meth:`retarget`'s local rotations include the rig's)."""
        offsets = self.rig.skeleton.rest_offsets_m.copy()
        offsets[0] = 0.0
        return replace(self.rig.skeleton, rest_offsets_m=offsets, rest_rotations=None)

    def retarget(
        self, canonical_local: Rotation, root_position_m: NDArray[np.float64], performer_hip_height_m: float
    ) -> tuple[Rotation, NDArray[np.float64]]:
        """The rig's local rotations (joints,) and root (hips) position in its own frame, metres."""
        local = canonical_local.as_matrix()
        canonical_global = np.empty_like(local)
        for bone, parent in enumerate(self._canonical_parents):
            canonical_global[bone] = local[bone] if parent < 0 else canonical_global[parent] @ local[bone]
        world = np.empty((len(self.rig.skeleton.names), 3, 3))
        mapped = self._mapped_joints
        world[mapped] = self._facing_inverse @ canonical_global[self._mapped_bone[mapped]] @ self._aligned_rest[mapped]
        if len(self._between_joints):
            self._turn_between_joints(world)
        for joint in self._unmapped_joints:   # parents first
            world[joint] = world[self.rig.skeleton.parents[joint]] @ self._rest_local[joint]
        rig_local = np.transpose(world[self._parent_or_root], (0, 2, 1)) @ world
        rig_local[0] = world[0]
        scale = self.hip_height_m / max(performer_hip_height_m, 1e-6)
        hips_turn = canonical_global[0] @ self._alignment[self.rig.humanoid["Hips"]]
        root_faced = np.asarray(root_position_m, dtype=np.float64) * scale + hips_turn @ self._hips_from_hip_joints
        root_faced += np.array([self._hip_joints_xz[0], self._floor_y, self._hip_joints_xz[1]])
        # products of rotation matrices (and polar factors): skip scipy's re-orthogonalisation
        return Rotation.from_matrix(rig_local, assume_valid=True), self.facing.inv().apply(root_faced)
