"""Hands with known finger poses, for judging the finger solve: landmarks of a posed canonical
hand, InterHand2.6M's triangulated hands, and a real finger-motion BVH (ManipNet)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.conventions import NUM_HAND_LANDMARKS
from mocap.core.skeleton import (
    FINGERS,
    HAND_BONE_INDEX,
    PHALANGES,
    PHALANX_LENGTHS_M,
    Skeleton,
    finger_rest_direction,
    humanoid_skeleton,
)
from mocap.estimation.mediapipe_pose import landmarks_px
from mocap.formats.bvh import read_bvh
from mocap.solving.fingers import FINGER_LANDMARKS, finger_rotations

# Per finger (thumb, index, middle, ring, little): spread, then the curls at the three joints, degrees.
FIST = [[-20, 30, 50, 60], [0, 80, 100, 70], [0, 85, 105, 70], [0, 85, 100, 70], [-5, 80, 95, 65]]
OPEN_HAND = [[25, -10, 0, 5], [15, 0, 5, 0], [0, 0, 0, 0], [-10, 0, 5, 0], [-25, 0, 5, 0]]
POINT = [[-20, 30, 50, 60], [5, 5, 5, 5], [0, 85, 105, 70], [0, 85, 100, 70], [-5, 80, 95, 65]]
THUMBS_UP = [[15, -15, 0, 0], [0, 80, 100, 70], [0, 85, 105, 70], [0, 85, 100, 70], [-5, 80, 95, 65]]
GESTURES = {"fist": FIST, "open hand": OPEN_HAND, "point": POINT, "thumbs-up": THUMBS_UP}
HAND_SKELETON = humanoid_skeleton(fingers=True)


def posed_hand_landmarks(
    skeleton: Skeleton, local_rotations: Rotation, root_position_m: NDArray[np.float64], side: str
) -> NDArray[np.float64]:
    """MediaPipe's 21 landmarks (wrist, then each finger's joints and tip, thumb first; metres,
    world axes) of the ``side`` hand of ``skeleton`` (with fingers) posed by ``local_rotations``."""
    world, positions = skeleton.forward_kinematics(local_rotations, root_position_m)
    index = {name: i for i, name in enumerate(skeleton.names)}
    scale = np.linalg.norm(skeleton.rest_offsets_m[index[f"{side}IndexIntermediate"]]) / PHALANX_LENGTHS_M["Index"][0]
    points = [positions[index[f"{side}Hand"]]]
    for finger in FINGERS:
        bones = [index[f"{side}{finger}{phalanx}"] for phalanx in PHALANGES]
        tip = world[bones[2]].apply(scale * PHALANX_LENGTHS_M[finger][2] * finger_rest_direction(finger, side))
        points += [positions[bone] for bone in bones] + [positions[bones[2]] + tip]
    return np.array(points)


def gesture_landmarks(angles_deg: list[list[float]], side: str, hand_turn: Rotation,
                      px_per_m: float = 700.0) -> NDArray[np.float64]:
    """The 21 landmarks of the canonical ``side`` hand with these finger angles (as
    :func:`mocap.solving.fingers.finger_angles_deg` gives them), the hand turned by ``hand_turn``,
    seen by a camera (x right, y down, z away) at ``px_per_m`` pixels a metre."""
    local = Rotation.identity(len(HAND_SKELETON.names)).as_quat()
    first = HAND_BONE_INDEX[f"{side}ThumbProximal"]
    local[first:first + 15] = finger_rotations(np.array(angles_deg, dtype=float), side).as_quat()
    local[HAND_BONE_INDEX[f"{side}Hand"]] = hand_turn.as_quat()
    world = posed_hand_landmarks(HAND_SKELETON, Rotation.from_quat(local), np.array([0.0, 1.0, 0.0]), side)
    return px_per_m * world * [1.0, -1.0, -1.0] + [640.0, 360.0, 0.0]


def mediapipe_hands(image_rgb: NDArray[np.uint8]) -> list[tuple[str, NDArray[np.float64]]]:
    """MediaPipe Hands (the hand landmark model Holistic runs) on a photo: (the performer's side,
    landmarks (21, 3) in pixels) per hand. MediaPipe labels hands as in a mirrored selfie."""
    import mediapipe as mp

    height, width = image_rgb.shape[:2]
    with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2, min_detection_confidence=0.3) as hands:
        result = hands.process(image_rgb)
    found = []
    for landmarks, handedness in zip(result.multi_hand_landmarks or [], result.multi_handedness or []):
        side = "Right" if handedness.classification[0].label == "Left" else "Left"
        found.append((side, landmarks_px(landmarks, width, height, NUM_HAND_LANDMARKS)))
    return found


@dataclass(frozen=True)
class TruthHand:
    """One hand of a photo with its true 21 joints in MediaPipe's order, camera axes (x right,
    y down, z away), millimetres."""

    image: Path
    side: str                     # the performer's "Left" or "Right"
    joints_mm: NDArray[np.float64]


# InterHand2.6M's joint order within a hand (tip to root per finger, then the wrist) -> MediaPipe's.
INTERHAND_TO_MEDIAPIPE = [20, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 19, 18, 17, 16]


def interhand_hands(folder: Path) -> list[TruthHand]:
    """Every fully annotated hand of the InterHand2.6M sample in ``folder`` (its mmpose test files)."""
    data = json.loads((folder / "test_interhand2.6m_data.json").read_text())
    joints = json.loads((folder / "test_interhand2.6m_joint_3d.json").read_text())
    cameras = json.loads((folder / "test_interhand2.6m_camera.json").read_text())
    hands = []
    for image in data["images"]:
        frame = joints[str(image["capture"])][str(image["frame_idx"])]
        world = np.array(frame["world_coord"])
        valid = np.array(frame["joint_valid"]).ravel() > 0
        camera = cameras[str(image["capture"])]
        rotation = np.array(camera["camrot"][image["camera"]])
        position = np.array(camera["campos"][image["camera"]])
        for offset, side in ((0, "Right"), (21, "Left")):
            rows = [index + offset for index in INTERHAND_TO_MEDIAPIPE]
            if valid[rows].all():
                hands.append(TruthHand(folder / image["file_name"], side, (world[rows] - position) @ rotation.T))
    return hands


def manipnet_landmarks(path: Path, tip_fraction: float = 0.8) -> tuple[NDArray[np.float64], float]:
    """The 21 landmarks (frames, 21, 3; right-handed axes, the file's units) of ManipNet's
    right-hand BVH, and its frame time (s). The file is in Unity's left-handed axes (x is
    mirrored here); its fingertips are zero-length end sites, so each tip is placed along its
    last joint's rest direction at ``tip_fraction`` of that joint's offset."""
    clip = read_bvh(path)
    index = {joint.name: i for i, joint in enumerate(clip.joints)}
    positions, world = clip.forward_kinematics()
    matrices = world.as_matrix().reshape(len(clip.motion), len(clip.joints), 3, 3)
    chains = [["THUMB_CMC_FE", "THUMB_MCP_FE", "THUMB_IP_FE"]] + [
        [f"{finger}_MCP", f"{finger}_PIP_FE", f"{finger}_DIP_FE"] for finger in ("INDEX", "MIDDLE", "RING", "PINKY")]
    points = [positions[:, index["WRIST"]]]
    for chain in chains:
        last = index[chain[-1]]
        tip = positions[:, last] + matrices[:, last] @ (tip_fraction * clip.joints[last].offset)
        points += [positions[:, index[name]] for name in chain] + [tip]
    return np.stack(points, axis=1) * [-1.0, 1.0, 1.0], clip.frame_time_s


def joint_bends_deg(landmarks: NDArray[np.float64]) -> NDArray[np.float64]:
    """The unsigned angle (degrees) between the two phalanges at each finger's middle and last
    joint (5, 2) of landmarks (..., 21, 3): the truth a hinge's curl is judged against."""
    chains = landmarks[..., FINGER_LANDMARKS, :]                       # (..., 5, 4, 3)
    segments = np.diff(chains, axis=-2)
    segments /= np.linalg.norm(segments, axis=-1, keepdims=True)
    cosines = np.sum(segments[..., :-1, :] * segments[..., 1:, :], axis=-1)   # at joints 2 and 3
    return np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0)))
