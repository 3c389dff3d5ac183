"""Reading OpenPose JSON keypoints (``--write_json``) into BlazePose-33 order.

Joints OpenPose has and BlazePose names the same way are kept (the big toe stands for
BlazePose's foot index); the rest are missing (NaN). When a frame lists several people,
the one nearest the person chosen in the previous frame is kept (in the first frame, the
most confident one).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mocap.core.conventions import LANDMARK_INDEX, NUM_POSE_LANDMARKS
from mocap.core.errors import MocapError

# OpenPose keypoint index -> BlazePose landmark name
SKELETONS: dict[str, dict[int, str]] = {
    "body25": {
        0: "nose", 2: "right_shoulder", 3: "right_elbow", 4: "right_wrist", 5: "left_shoulder",
        6: "left_elbow", 7: "left_wrist", 9: "right_hip", 10: "right_knee", 11: "right_ankle",
        12: "left_hip", 13: "left_knee", 14: "left_ankle", 15: "right_eye", 16: "left_eye",
        17: "right_ear", 18: "left_ear", 19: "left_foot_index", 21: "left_heel",
        22: "right_foot_index", 24: "right_heel",
    },
    "body25b": {
        0: "nose", 1: "left_eye", 2: "right_eye", 3: "left_ear", 4: "right_ear", 5: "left_shoulder",
        6: "right_shoulder", 7: "left_elbow", 8: "right_elbow", 9: "left_wrist", 10: "right_wrist",
        11: "left_hip", 12: "right_hip", 13: "left_knee", 14: "right_knee", 15: "left_ankle",
        16: "right_ankle", 19: "left_foot_index", 21: "left_heel", 22: "right_foot_index", 24: "right_heel",
    },
}


def choose_person(people: list[NDArray[np.float64]], previous: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
    """(keypoints, 3) of the person to keep: nearest the previous choice, else the most confident."""
    if not people:
        return None
    if previous is None:
        return max(people, key=lambda p: float(np.sum(p[:, 2])))

    def distance(person: NDArray[np.float64]) -> float:
        both = (person[:, 2] > 0) & (previous[:, 2] > 0)
        return float(np.mean(np.linalg.norm(person[both, :2] - previous[both, :2], axis=1))) if both.any() else np.inf

    return min(people, key=distance)


def _people(path: Path) -> list[NDArray[np.float64]]:
    """Each person's (keypoints, 3) x, y, confidence in one OpenPose ``--write_json`` file."""
    try:
        people = json.loads(path.read_text(encoding="utf-8"))["people"]
        return [np.array(person["pose_keypoints_2d"], dtype=np.float64).reshape(-1, 3) for person in people]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise MocapError(f"OpenPose file {path} is not one OpenPose wrote ({type(error).__name__}: {error}); "
                         "expected {\"people\": [{\"pose_keypoints_2d\": [x, y, c, ...]}]}") from None


def read_camera(folder: Path, mapping: dict[int, str]) -> NDArray[np.float64]:
    """(frames, 33, 3) BlazePose-ordered keypoints from one folder of OpenPose JSON files."""
    frames = []
    previous = None
    needed = max(mapping) + 1   # keypoints a person's list must hold
    for path in sorted(folder.glob("*.json")):
        people = _people(path)
        short = [len(person) for person in people if len(person) < needed]
        if short:
            raise MocapError(f"OpenPose file {path} holds a person with {short[0]} keypoints where the chosen "
                             f"skeleton needs {needed}: choose the skeleton OpenPose was run with")
        person = choose_person(people, previous)
        keypoints = np.full((NUM_POSE_LANDMARKS, 3), np.nan)
        if person is not None:
            previous = person
            for source, name in mapping.items():
                if person[source, 2] > 0:
                    keypoints[LANDMARK_INDEX[name]] = person[source]
        frames.append(keypoints)
    if not frames:
        raise MocapError(f"no OpenPose .json files in {folder}")
    return np.stack(frames)
