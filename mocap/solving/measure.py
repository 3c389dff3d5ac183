"""Measuring the performer's proportions from their landmarks."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from numpy.typing import NDArray

from mocap.core.conventions import LANDMARK_INDEX as L
from mocap.core.frames import BodyPose
from mocap.core.skeleton import BodyProportions


def _mid(joints: NDArray[np.float64], a: str, b: str) -> NDArray[np.float64]:
    return (joints[L[a]] + joints[L[b]]) / 2.0


def _segments(joints: NDArray[np.float64]) -> dict[str, tuple[float, list[str]]]:
    """Each proportion's value in this frame (metres) and the landmarks it needs."""

    def dist(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
        return float(np.linalg.norm(a - b))

    def both_sides(a: str, b: str) -> tuple[float, list[str]]:
        left = dist(joints[L["left_" + a]], joints[L["left_" + b]])
        right = dist(joints[L["right_" + a]], joints[L["right_" + b]])
        return (left + right) / 2.0, ["left_" + a, "left_" + b, "right_" + a, "right_" + b]

    hips = _mid(joints, "left_hip", "right_hip")
    shoulders = _mid(joints, "left_shoulder", "right_shoulder")
    ears = _mid(joints, "left_ear", "right_ear")
    hand_l = _mid(joints, "left_index", "left_pinky")
    hand_r = _mid(joints, "right_index", "right_pinky")
    ankle_height = np.mean([
        joints[L["left_ankle"], 1] - joints[L["left_heel"], 1],
        joints[L["right_ankle"], 1] - joints[L["right_heel"], 1],
    ])
    return {
        "hip_width_m": (dist(joints[L["left_hip"]], joints[L["right_hip"]]), ["left_hip", "right_hip"]),
        "shoulder_width_m": (
            dist(joints[L["left_shoulder"]], joints[L["right_shoulder"]]), ["left_shoulder", "right_shoulder"]),
        "torso_m": (dist(hips, shoulders), ["left_hip", "right_hip", "left_shoulder", "right_shoulder"]),
        "neck_m": (dist(shoulders, ears), ["left_shoulder", "right_shoulder", "left_ear", "right_ear"]),
        "upper_arm_m": both_sides("shoulder", "elbow"),
        "forearm_m": both_sides("elbow", "wrist"),
        "hand_m": (
            (dist(hand_l, joints[L["left_wrist"]]) + dist(hand_r, joints[L["right_wrist"]])) / 2.0,
            ["left_wrist", "left_index", "left_pinky", "right_wrist", "right_index", "right_pinky"],
        ),
        "thigh_m": both_sides("hip", "knee"),
        "shin_m": both_sides("knee", "ankle"),
        "ankle_height_m": (abs(float(ankle_height)), ["left_ankle", "left_heel", "right_ankle", "right_heel"]),
        "foot_m": both_sides("heel", "foot_index"),
    }


class BodyMeasurer:
    """Median segment lengths over the first ``samples_needed`` confident frames per segment.

    Until a segment has enough samples, the default adult value stands in. ``settled`` turns
    True once every segment is measured (or after ``give_up_after`` detected frames, for
    performers whose legs are never in view); from then on the proportions stay fixed.
    """

    def __init__(self, *, samples_needed: int = 30, min_confidence: float = 0.7, give_up_after: int = 300) -> None:
        self._samples_needed = samples_needed
        self._min_confidence = min_confidence
        self._give_up_after = give_up_after
        self._samples: dict[str, list[float]] = {f.name: [] for f in fields(BodyProportions)}
        self._frames_seen = 0
        self.settled = False
        self.proportions = BodyProportions()

    def add(self, body: BodyPose) -> None:
        if self.settled or not body.detected:
            return
        self._frames_seen += 1
        for name, (value, landmarks) in _segments(body.joints_m).items():
            samples = self._samples[name]
            if len(samples) < self._samples_needed and all(
                body.confidence[L[lm]] >= self._min_confidence for lm in landmarks
            ):
                samples.append(value)
        measured = {name: float(np.median(s)) for name, s in self._samples.items() if s}
        self.proportions = BodyProportions(**measured)
        complete = all(len(s) >= self._samples_needed for s in self._samples.values())
        self.settled = complete or self._frames_seen >= self._give_up_after
