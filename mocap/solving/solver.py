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
  Foot            heel -> toe tip                            / foot up (heel -> ankle)
  UpperArm        shoulder -> elbow                          / elbow hinge axis
  LowerArm        elbow -> wrist                             / thumb side of the hand (pinky -> index)
  Hand            wrist -> index/pinky midpoint              / thumb side of the hand
Hinge axes come from the bend of the limb; as the limb straightens and the bend plane
vanishes they blend toward an axis from the hand (arms) or the foot's sideways axis (legs:
the normal of the heel, ankle and toe tip, which pointing the foot does not turn). Knee hinges
that point clearly to the body's right are flipped (a backward bend is left to the joint limits).
Shoulders (clavicles) and toes have no landmarks of their own and follow their parents.
Everything is computed for all bones at once with array operations (well under 1 ms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.conventions import LANDMARK_INDEX, NUM_POSE_LANDMARKS
from mocap.core.frames import BodyPose
from mocap.core.skeleton import BONE_NAMES, humanoid_skeleton
from mocap.core.vectors import cross, norm, unit

HINGE_BLEND_BEND_DEG = 30.0  # below this bend a hinge axis leans on the hand/foot fallback

# Midpoints appended after the 33 landmarks, so bones can be aimed between them.
MIDPOINTS: dict[str, tuple[str, str]] = {
    "mid_hips": ("left_hip", "right_hip"),
    "mid_shoulders": ("left_shoulder", "right_shoulder"),
    "mid_ears": ("left_ear", "right_ear"),
    "mid_eyes": ("left_eye", "right_eye"),
    "mid_mouth": ("mouth_left", "mouth_right"),
    "left_knuckles": ("left_index", "left_pinky"),
    "right_knuckles": ("right_index", "right_pinky"),
}
POINT_INDEX = {**LANDMARK_INDEX, **{name: NUM_POSE_LANDMARKS + i for i, name in enumerate(MIDPOINTS)}}
_MID_A = np.array([LANDMARK_INDEX[a] for a, _ in MIDPOINTS.values()])
_MID_B = np.array([LANDMARK_INDEX[b] for _, b in MIDPOINTS.values()])

# Secondary directions, computed once per frame by _secondary_vectors in this order.
SECONDARY = ("hip_line", "shoulder_line", "spine_up", "torso_twist", "face_up",
             "left_thumb_side", "right_thumb_side", "left_elbow_hinge", "right_elbow_hinge",
             "left_knee_hinge", "right_knee_hinge", "left_foot_up", "right_foot_up")
_SECONDARY_INDEX = {name: i for i, name in enumerate(SECONDARY)}


@dataclass(frozen=True)
class BoneAim:
    """How one bone is aimed: primary = point ``to`` minus point ``start``; secondary by name."""

    bone: str
    start: str
    to: str
    secondary: str
    rest_primary: tuple[float, float, float]
    rest_secondary: tuple[float, float, float]
    landmarks: tuple[str, ...]   # all must be confident for the bone to count as tracked


def _aims() -> list[BoneAim]:
    torso = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
    aims = [
        BoneAim("Hips", "right_hip", "left_hip", "spine_up", (1, 0, 0), (0, 1, 0), torso),
        BoneAim("Spine", "mid_hips", "mid_shoulders", "torso_twist", (0, 1, 0), (1, 0, 0), torso),
        BoneAim("Chest", "mid_hips", "mid_shoulders", "shoulder_line", (0, 1, 0), (1, 0, 0), torso),
        BoneAim("Neck", "mid_shoulders", "mid_ears", "shoulder_line", (0, 1, 0), (1, 0, 0),
                ("left_shoulder", "right_shoulder", "left_ear", "right_ear")),
        BoneAim("Head", "right_ear", "left_ear", "face_up", (1, 0, 0), (0, 1, 0),
                ("left_ear", "right_ear", "left_eye", "right_eye", "mouth_left", "mouth_right")),
    ]
    for s in ("left", "right"):
        bone_side = s.capitalize()
        out_x = 1.0 if s == "left" else -1.0
        arm = (f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist")
        hand = arm + (f"{s}_index", f"{s}_pinky")
        leg = (f"{s}_hip", f"{s}_knee", f"{s}_ankle")
        foot = leg + (f"{s}_heel", f"{s}_foot_index")
        elbow_hinge_rest = (0.0, -out_x, 0.0)  # the forearm bends forward from the T-pose
        aims += [
            BoneAim(f"{bone_side}UpperArm", f"{s}_shoulder", f"{s}_elbow", f"{s}_elbow_hinge",
                    (out_x, 0, 0), elbow_hinge_rest, arm),
            BoneAim(f"{bone_side}LowerArm", f"{s}_elbow", f"{s}_wrist", f"{s}_thumb_side", (out_x, 0, 0), (0, 0, 1), hand),
            BoneAim(f"{bone_side}Hand", f"{s}_wrist", f"{s}_knuckles", f"{s}_thumb_side", (out_x, 0, 0), (0, 0, 1), hand),
            BoneAim(f"{bone_side}UpperLeg", f"{s}_hip", f"{s}_knee", f"{s}_knee_hinge", (0, -1, 0), (1, 0, 0), leg),
            BoneAim(f"{bone_side}LowerLeg", f"{s}_knee", f"{s}_ankle", f"{s}_knee_hinge", (0, -1, 0), (1, 0, 0), leg),
            BoneAim(f"{bone_side}Foot", f"{s}_heel", f"{s}_foot_index", f"{s}_foot_up", (0, 0, 1), (0, 1, 0), foot),
        ]
    return aims


BONE_AIMS: tuple[BoneAim, ...] = tuple(_aims())


def _blended_hinges(upper: NDArray[np.float64], lower: NDArray[np.float64], fallback: NDArray[np.float64]) -> NDArray[np.float64]:
    """Hinge axes (k, 3): the bend plane's normal, weighted by how bent each limb is, else the fallback."""
    bend_axis = cross(unit(upper), unit(lower))
    weight = np.minimum(norm(bend_axis) / np.sin(np.radians(HINGE_BLEND_BEND_DEG)), 1.0)
    return weight * unit(bend_axis) + (1.0 - weight) * unit(fallback)


def _points(joints: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.concatenate([joints, (joints[_MID_A] + joints[_MID_B]) / 2.0])


def _secondary_vectors(p: NDArray[np.float64]) -> NDArray[np.float64]:
    i = POINT_INDEX

    def sides(name: str) -> list[int]:
        return [i[f"left_{name}"], i[f"right_{name}"]]

    hip_line = p[i["left_hip"]] - p[i["right_hip"]]
    shoulder_line = p[i["left_shoulder"]] - p[i["right_shoulder"]]
    thumb_sides = p[sides("index")] - p[sides("pinky")]
    upper_arms = p[sides("elbow")] - p[sides("shoulder")]
    elbow_hinges = _blended_hinges(upper_arms, p[sides("wrist")] - p[sides("elbow")], cross(unit(upper_arms), unit(thumb_sides)))
    thighs = p[sides("knee")] - p[sides("hip")]
    toes = p[sides("foot_index")] - p[sides("heel")]
    foot_ups = p[sides("ankle")] - p[sides("heel")]
    knee_hinges = _blended_hinges(thighs, p[sides("ankle")] - p[sides("knee")], cross(unit(foot_ups), unit(toes)))
    # A knee bends one way: its hinge points to the body's left, give or take a turned-out leg.
    # One that points clearly right (over 120 degrees from the hip line) is a knee seen bent
    # backward; flipping the axis lets the joint limits straighten it instead of twisting the
    # whole leg round.
    facing_right = unit(knee_hinges) @ unit(hip_line) < -0.5
    knee_hinges *= np.where(facing_right, -1.0, 1.0)[:, None]
    return np.stack([
        hip_line,
        shoulder_line,
        p[i["mid_shoulders"]] - p[i["mid_hips"]],
        unit(hip_line) + unit(shoulder_line),
        p[i["mid_eyes"]] - p[i["mid_mouth"]],
        thumb_sides[0], thumb_sides[1],
        elbow_hinges[0], elbow_hinges[1],
        knee_hinges[0], knee_hinges[1],
        foot_ups[0], foot_ups[1],
    ])


def _frames(primary: NDArray[np.float64], secondary: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Orthonormal frames (n, 3, 3), columns = primary, secondary made orthogonal, their cross."""
    x = unit(primary)
    y = secondary - np.sum(secondary * x, axis=1, keepdims=True) * x
    y_norm = norm(y)[:, 0]
    valid = (norm(primary)[:, 0] > 1e-6) & (y_norm > 1e-3)
    y = unit(y)
    return np.stack([x, y, cross(x, y)], axis=2), valid


_AIM_START = np.array([POINT_INDEX[a.start] for a in BONE_AIMS])
_AIM_TO = np.array([POINT_INDEX[a.to] for a in BONE_AIMS])
_AIM_SECONDARY = np.array([_SECONDARY_INDEX[a.secondary] for a in BONE_AIMS])
_AIM_BONES = np.array([BONE_NAMES.index(a.bone) for a in BONE_AIMS])
_AIM_NEEDS = np.zeros((len(BONE_AIMS), NUM_POSE_LANDMARKS), dtype=bool)  # landmarks each aim needs confident
for _aim_number, _aim in enumerate(BONE_AIMS):
    _AIM_NEEDS[_aim_number, [LANDMARK_INDEX[name] for name in _aim.landmarks]] = True
_REST_FRAMES_T = np.transpose(_frames(
    np.array([a.rest_primary for a in BONE_AIMS], dtype=np.float64),
    np.array([a.rest_secondary for a in BONE_AIMS], dtype=np.float64),
)[0], (0, 2, 1))


@dataclass(frozen=True)
class SolvedRotations:
    local: Rotation                 # (bones,) in the parent's frame, from T-pose
    tracked: NDArray[np.bool_]      # (bones,) False where the landmarks were not trusted


class DirectionSolver:
    """Aims every bone of the canonical humanoid at the landmarks (see the module doc); bone
    order is :data:`mocap.core.skeleton.BONE_NAMES`.

    ``min_confidence``: a bone whose landmarks fall below it is reported untracked.
    """

    def __init__(self, *, min_confidence: float = 0.5) -> None:
        self.min_confidence = min_confidence
        self._skeleton = humanoid_skeleton()
        self._parents = self._skeleton.parents
        self._followers = [b for b in range(len(BONE_NAMES)) if b not in _AIM_BONES and self._parents[b] >= 0]

    def solve(self, body: BodyPose) -> SolvedRotations:
        count = len(BONE_NAMES)
        points = _points(body.joints_m)
        primary = points[_AIM_TO] - points[_AIM_START]
        secondary = _secondary_vectors(points)[_AIM_SECONDARY]
        finite = np.isfinite(primary).all(axis=1) & np.isfinite(secondary).all(axis=1)
        frames, valid = _frames(np.nan_to_num(primary), np.nan_to_num(secondary))
        confident = np.all((body.confidence >= self.min_confidence) | ~_AIM_NEEDS, axis=1)
        aimed = valid & confident & finite

        global_matrices = np.tile(np.eye(3), (count, 1, 1))
        tracked = np.zeros(count, dtype=bool)
        global_matrices[_AIM_BONES[aimed]] = (frames @ _REST_FRAMES_T)[aimed]
        tracked[_AIM_BONES[aimed]] = True
        for bone in self._followers:  # shoulders and toes
            global_matrices[bone] = global_matrices[self._parents[bone]]
            tracked[bone] = tracked[self._parents[bone]]
        # orthonormal frames by construction: skip scipy's re-orthogonalisation (about 0.12 ms)
        world = Rotation.from_matrix(global_matrices, assume_valid=True)
        return SolvedRotations(self._skeleton.local_rotations(world), tracked)
