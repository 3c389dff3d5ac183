"""Landmarks -> bone rotations on the canonical humanoid.

Each bone's global orientation is the rotation that takes two of its rest-pose directions
(a primary one, matched exactly, and a secondary one fixing the twist) onto the same two
directions measured from the landmarks. Local rotations follow as parent^-1 * child.

Directions per bone (rest values in the T-pose, internal frame: +X left, +Y up, +Z forward):
  Hips            hip line (right -> left hip)               / spine up
  Spine           spine up (mid-hips -> mid-shoulders)       / mean of hip and shoulder lines
  Chest           spine up                                   / shoulder line
  Neck            mid-shoulders -> mid-ears                  / shoulder line
  Head            ear line (right -> left ear)               / face up (mouth -> eyes)
  Upper/LowerLeg  hip -> knee, knee -> ankle                 / knee hinge axis
  Foot            heel -> toe tip                            / knee hinge axis
  UpperArm        shoulder -> elbow                          / elbow hinge axis
  LowerArm        elbow -> wrist                             / thumb side of the hand (pinky -> index)
  Hand            wrist -> index/pinky midpoint              / thumb side of the hand
Hinge axes come from the bend of the limb; as the limb straightens and the bend plane
vanishes they blend toward an axis from the hand (arms) or the foot (legs).
Shoulders (clavicles) and toes have no landmarks of their own and keep their rest pose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.conventions import LANDMARK_INDEX as L
from mocap.frames import BodyPose
from mocap.skeleton import BONE_NAMES, humanoid_skeleton

Vector = NDArray[np.float64]
Joints = NDArray[np.float64]

HINGE_BLEND_BEND_DEG = 30.0  # below this bend a hinge axis leans on the hand/foot fallback


def _unit(v: Vector) -> Vector:
    norm = np.linalg.norm(v)
    return v / norm if norm > 1e-9 else np.zeros(3)


def _mid(j: Joints, a: str, b: str) -> Vector:
    return (j[L[a]] + j[L[b]]) / 2.0


def _blended_hinge(bend_axis: Vector, fallback_axis: Vector) -> Vector:
    """The bend plane's normal, weighted by how bent the limb is, else the fallback."""
    weight = min(float(np.linalg.norm(bend_axis)) / np.sin(np.radians(HINGE_BLEND_BEND_DEG)), 1.0)
    return weight * _unit(bend_axis) + (1.0 - weight) * _unit(fallback_axis)


def _thumb_side(j: Joints, side: str) -> Vector:
    return j[L[f"{side}_index"]] - j[L[f"{side}_pinky"]]


def _arm_hinge(j: Joints, side: str) -> Vector:
    upper = _unit(j[L[f"{side}_elbow"]] - j[L[f"{side}_shoulder"]])
    fore = _unit(j[L[f"{side}_wrist"]] - j[L[f"{side}_elbow"]])
    return _blended_hinge(np.cross(upper, fore), np.cross(upper, _unit(_thumb_side(j, side))))


def _leg_hinge(j: Joints, side: str) -> Vector:
    thigh = _unit(j[L[f"{side}_knee"]] - j[L[f"{side}_hip"]])
    shin = _unit(j[L[f"{side}_ankle"]] - j[L[f"{side}_knee"]])
    toe = _unit(j[L[f"{side}_foot_index"]] - j[L[f"{side}_heel"]])
    return _blended_hinge(np.cross(thigh, shin), np.cross(toe, thigh))


@dataclass(frozen=True)
class BoneAim:
    """How one bone is aimed: two measured directions, their rest values, the landmarks used."""

    bone: str
    primary: Callable[[Joints], Vector]
    secondary: Callable[[Joints], Vector]
    rest_primary: tuple[float, float, float]
    rest_secondary: tuple[float, float, float]
    landmarks: tuple[str, ...]


def _torso_and_head_aims() -> list[BoneAim]:
    hip_line = lambda j: j[L["left_hip"]] - j[L["right_hip"]]  # noqa: E731
    shoulder_line = lambda j: j[L["left_shoulder"]] - j[L["right_shoulder"]]  # noqa: E731
    spine_up = lambda j: _mid(j, "left_shoulder", "right_shoulder") - _mid(j, "left_hip", "right_hip")  # noqa: E731
    torso = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
    return [
        BoneAim("Hips", hip_line, spine_up, (1, 0, 0), (0, 1, 0), torso),
        BoneAim("Spine", spine_up, lambda j: _unit(hip_line(j)) + _unit(shoulder_line(j)), (0, 1, 0), (1, 0, 0), torso),
        BoneAim("Chest", spine_up, shoulder_line, (0, 1, 0), (1, 0, 0), torso),
        BoneAim(
            "Neck",
            lambda j: _mid(j, "left_ear", "right_ear") - _mid(j, "left_shoulder", "right_shoulder"),
            shoulder_line, (0, 1, 0), (1, 0, 0),
            ("left_shoulder", "right_shoulder", "left_ear", "right_ear"),
        ),
        BoneAim(
            "Head",
            lambda j: j[L["left_ear"]] - j[L["right_ear"]],
            lambda j: _mid(j, "left_eye", "right_eye") - _mid(j, "mouth_left", "mouth_right"),
            (1, 0, 0), (0, 1, 0),
            ("left_ear", "right_ear", "left_eye", "right_eye", "mouth_left", "mouth_right"),
        ),
    ]


def _limb_aims(side: str) -> list[BoneAim]:
    s, bone_side = side, side.capitalize()
    out_x = 1.0 if side == "left" else -1.0
    arm = (f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist")
    hand = arm + (f"{s}_index", f"{s}_pinky")
    leg = (f"{s}_hip", f"{s}_knee", f"{s}_ankle")
    foot = leg + (f"{s}_heel", f"{s}_foot_index")
    elbow_hinge_rest = (0.0, -out_x, 0.0)  # forearm bending forward from the T-pose
    arm_hinge = lambda j: _arm_hinge(j, s)  # noqa: E731
    thumb_side = lambda j: _thumb_side(j, s)  # noqa: E731
    leg_hinge = lambda j: _leg_hinge(j, s)  # noqa: E731
    return [
        BoneAim(f"{bone_side}UpperArm", lambda j: j[L[f"{s}_elbow"]] - j[L[f"{s}_shoulder"]], arm_hinge,
                (out_x, 0, 0), elbow_hinge_rest, arm),
        BoneAim(f"{bone_side}LowerArm", lambda j: j[L[f"{s}_wrist"]] - j[L[f"{s}_elbow"]], thumb_side,
                (out_x, 0, 0), (0, 0, 1), hand),
        BoneAim(f"{bone_side}Hand", lambda j: _mid(j, f"{s}_index", f"{s}_pinky") - j[L[f"{s}_wrist"]], thumb_side,
                (out_x, 0, 0), (0, 0, 1), hand),
        BoneAim(f"{bone_side}UpperLeg", lambda j: j[L[f"{s}_knee"]] - j[L[f"{s}_hip"]], leg_hinge,
                (0, -1, 0), (1, 0, 0), leg),
        BoneAim(f"{bone_side}LowerLeg", lambda j: j[L[f"{s}_ankle"]] - j[L[f"{s}_knee"]], leg_hinge,
                (0, -1, 0), (1, 0, 0), leg),
        BoneAim(f"{bone_side}Foot", lambda j: j[L[f"{s}_foot_index"]] - j[L[f"{s}_heel"]], leg_hinge,
                (0, 0, 1), (1, 0, 0), foot),
    ]


BONE_AIMS: tuple[BoneAim, ...] = tuple(_torso_and_head_aims() + _limb_aims("left") + _limb_aims("right"))


def _frames(primary: NDArray[np.float64], secondary: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Orthonormal frames (n, 3, 3), columns = primary, secondary made orthogonal, their cross."""
    x = primary / np.maximum(np.linalg.norm(primary, axis=1, keepdims=True), 1e-12)
    y = secondary - np.sum(secondary * x, axis=1, keepdims=True) * x
    y_norm = np.linalg.norm(y, axis=1, keepdims=True)
    valid = (np.linalg.norm(primary, axis=1) > 1e-6) & (y_norm[:, 0] > 1e-3)
    y = y / np.maximum(y_norm, 1e-12)
    return np.stack([x, y, np.cross(x, y)], axis=2), valid


_REST_FRAMES, _ = _frames(
    np.array([a.rest_primary for a in BONE_AIMS], dtype=np.float64),
    np.array([a.rest_secondary for a in BONE_AIMS], dtype=np.float64),
)
_AIM_BONES = np.array([BONE_NAMES.index(a.bone) for a in BONE_AIMS])
_AIM_LANDMARKS = [np.array([L[name] for name in a.landmarks]) for a in BONE_AIMS]


@dataclass(frozen=True)
class SolvedRotations:
    local: Rotation                 # (bones,) in the parent's frame, from T-pose
    tracked: NDArray[np.bool_]      # (bones,) False where the landmarks were not trusted


class DirectionSolver:
    """Aims every bone of the canonical humanoid at the landmarks (see the module doc); bone
    order is :data:`mocap.skeleton.BONE_NAMES`.

    ``min_confidence``: a bone whose landmarks fall below it is reported untracked.
    """

    def __init__(self, *, min_confidence: float = 0.5) -> None:
        self.min_confidence = min_confidence
        self._parents = humanoid_skeleton().parents

    def solve(self, body: BodyPose) -> SolvedRotations:
        count = len(BONE_NAMES)
        joints = body.joints_m
        primary = np.array([a.primary(joints) for a in BONE_AIMS])
        secondary = np.array([a.secondary(joints) for a in BONE_AIMS])
        frames, valid = _frames(np.nan_to_num(primary), np.nan_to_num(secondary))
        confident = np.array([bool(np.all(body.confidence[idx] >= self.min_confidence)) for idx in _AIM_LANDMARKS])
        aimed = valid & confident & np.isfinite(primary).all(axis=1) & np.isfinite(secondary).all(axis=1)

        global_matrices = np.tile(np.eye(3), (count, 1, 1))
        tracked = np.zeros(count, dtype=bool)
        aim_matrices = frames @ np.transpose(_REST_FRAMES, (0, 2, 1))
        global_matrices[_AIM_BONES[aimed]] = aim_matrices[aimed]
        tracked[_AIM_BONES[aimed]] = True
        # Bones without landmarks of their own (shoulders, toes) follow their parent.
        parents = self._parents
        for bone in range(count):
            if bone not in _AIM_BONES and parents[bone] >= 0:
                global_matrices[bone] = global_matrices[parents[bone]]
                tracked[bone] = tracked[parents[bone]]
        global_rotations = Rotation.from_matrix(global_matrices)
        parent_rotations = Rotation.from_matrix(
            np.stack([global_matrices[p] if p >= 0 else np.eye(3) for p in parents])
        )
        return SolvedRotations(parent_rotations.inv() * global_rotations, tracked)
