"""Shared conventions: landmark schema, bone names and the one conversion to Unity/VMC axes.

Internal world frame: right-handed, +Y up, metres. A rig in rest pose faces +Z and its
left hand points toward +X (glTF / VRM 1.0). Quaternions are (x, y, z, w) as in
scipy.spatial.transform.Rotation.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

# BlazePose 33, in MediaPipe's index order, named as MediaPipe spells them in lower case.
POSE_LANDMARK_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer", "left_ear", "right_ear",
    "mouth_left", "mouth_right", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
LANDMARK_INDEX: dict[str, int] = {name: i for i, name in enumerate(POSE_LANDMARK_NAMES)}
NUM_POSE_LANDMARKS = len(POSE_LANDMARK_NAMES)
NUM_HAND_LANDMARKS = 21     # MediaPipe Hands: wrist, then thumb to little finger, knuckle to tip
NUM_FACE_LANDMARKS = 478    # MediaPipe Face Mesh with irises (refined): 468 mesh points, then 5 per iris
# MediaPipe hand landmarks: the wrist, and each finger's joints from its knuckle (the thumb's: its
# base) to its tip, thumb first.
HAND_WRIST = 0
HAND_FINGER_LANDMARKS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
# Face mesh points more than one stage uses: the outer corners of the performer's right and left
# eye, the right and left corners of the mouth, and the centres of the right and left iris.
FACE_EYE_OUTER_CORNERS = (33, 263)
FACE_MOUTH_CORNERS = (61, 291)
FACE_IRIS_CENTRES = (468, 473)
HIP_LANDMARKS: tuple[int, int] = (LANDMARK_INDEX["left_hip"], LANDMARK_INDEX["right_hip"])

# A body seen again after more than this many seconds out of view is a new appearance: the
# outlier guard and the filters start afresh instead of comparing with how it left.
NEW_APPEARANCE_AFTER_S = 0.5


def mirrored_landmark_order() -> NDArray[np.int_]:
    """Index permutation that swaps every left landmark with its right twin (``left_*`` and
    ``right_*``, ``mouth_left`` and ``mouth_right``)."""
    twin = {"left": "right", "right": "left"}
    order = []
    for name in POSE_LANDMARK_NAMES:
        first, _, rest = name.partition("_")
        head, _, last = name.rpartition("_")
        if first in twin:
            name = f"{twin[first]}_{rest}"
        elif last in twin:
            name = f"{head}_{twin[last]}"
        order.append(LANDMARK_INDEX[name])
    return np.array(order)


# Line segments drawn by the preview window (landmark name pairs).
POSE_CONNECTIONS: tuple[tuple[str, str], ...] = (
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
    ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_wrist", "left_index"), ("left_wrist", "left_pinky"),
    ("right_wrist", "right_index"), ("right_wrist", "right_pinky"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
    ("left_ankle", "left_heel"), ("left_heel", "left_foot_index"),
    ("right_ankle", "right_heel"), ("right_heel", "right_foot_index"),
    ("left_ear", "right_ear"), ("nose", "left_eye"), ("nose", "right_eye"),
)

# Rotation taking MediaPipe's camera-aligned axes (x right, y down, z away from the camera)
# to the internal frame for a level camera: a person facing the camera faces +Z, their
# left hand (image right in a non-mirrored view) is +X, up is +Y. A 180 degree turn about X.
CAMERA_TO_WORLD_LEVEL = Rotation.from_euler("x", 180.0, degrees=True)


def camera_to_world(camera_pitch_deg: float = 0.0) -> Rotation:
    """Camera axes -> internal world for a camera tilted down by ``camera_pitch_deg`` degrees."""
    return Rotation.from_euler("x", -camera_pitch_deg, degrees=True) * CAMERA_TO_WORLD_LEVEL


def positions_to_unity(positions_m: NDArray[np.float64]) -> NDArray[np.float64]:
    """Internal right-handed positions (..., 3) -> Unity/VMC left-handed: mirror X."""
    unity = np.array(positions_m, dtype=np.float64, copy=True)
    unity[..., 0] *= -1.0
    return unity


def quaternions_to_unity(quaternions_xyzw: NDArray[np.float64]) -> NDArray[np.float64]:
    """Internal quaternions (..., 4) as (x, y, z, w) -> Unity/VMC: (x, -y, -z, w)."""
    unity = np.array(quaternions_xyzw, dtype=np.float64, copy=True)
    unity[..., 1] *= -1.0
    unity[..., 2] *= -1.0
    return unity


# The axes of each engine a plain-OSC receiver runs in, as the matrix taking internal vectors to
# the engine's (engine = M @ internal): Unity is left-handed, Y up, facing +Z (X mirrored, as
# for VMC); Godot is right-handed, Y up, and faces a glTF model +Z, as the internal frame does;
# Unreal is left-handed, Z up, X forward, Y to the right.
ENGINE_AXES: dict[str, NDArray[np.float64]] = {
    "unity": np.diag([-1.0, 1.0, 1.0]),
    "godot": np.eye(3),
    "unreal": np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
}


def to_engine_axes(
    positions_m: NDArray[np.float64], rotations: Rotation, engine: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Internal positions (..., 3) and rotations -> the ``engine``'s (see :data:`ENGINE_AXES`):
    positions M p, and rotations M R M^T as (x, y, z, w) quaternions in the engine's own axes."""
    axes = ENGINE_AXES[engine]
    matrices = axes @ rotations.as_matrix() @ axes.T
    return np.asarray(positions_m) @ axes.T, Rotation.from_matrix(matrices, assume_valid=True).as_quat()


def continuous_quaternions(quaternions: NDArray[np.float64], previous: NDArray[np.float64] | None) -> NDArray[np.float64]:
    """Quaternions (n, 4), each negated where needed to lie on the same side as its ``previous``
    one (q . q_previous >= 0): the same rotations, without the sign flips that upset receivers
    interpolating component by component."""
    if previous is None:
        return quaternions
    return quaternions * np.where(np.sum(quaternions * previous, axis=-1) < 0.0, -1.0, 1.0)[:, None]
