"""A window showing the camera image with the detected skeleton drawn over it."""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np

from mocap.core.conventions import LANDMARK_INDEX, POSE_CONNECTIONS
from mocap.core.errors import note
from mocap.core.frames import Frame, PoseObservation

WINDOW_TITLE = "mocap preview (q or Esc to stop)"


def draw_skeleton(image_bgr: np.ndarray, observation: PoseObservation, min_confidence: float = 0.5) -> np.ndarray:
    """The image with landmarks (dots) and bones (lines) of confident landmarks drawn on."""
    canvas = image_bgr.copy()
    points = observation.keypoints
    confident = np.nan_to_num(points[:, 2]) >= min_confidence
    for a, b in POSE_CONNECTIONS:
        i, j = LANDMARK_INDEX[a], LANDMARK_INDEX[b]
        if confident[i] and confident[j]:
            cv2.line(canvas, tuple(map(int, points[i, :2])), tuple(map(int, points[j, :2])), (80, 220, 80), 2)
    for x, y, _ in points[confident]:
        cv2.circle(canvas, (int(x), int(y)), 4, (40, 40, 240), -1)
    return canvas


class PreviewWindow:
    """Shows each frame; pressing q or Esc stops the capture as Ctrl-C would."""

    @classmethod
    def open_if_possible(cls) -> PreviewWindow | None:
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            note("no display found; running without --preview")
            return None
        return cls()

    def show(self, frame: Frame, observation: PoseObservation) -> None:
        image = draw_skeleton(cv2.cvtColor(frame.image_rgb, cv2.COLOR_RGB2BGR), observation)
        cv2.imshow(WINDOW_TITLE, image)
        if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
            raise KeyboardInterrupt

    def close(self) -> None:
        cv2.destroyAllWindows()
