"""A window showing the camera image with the detected skeleton drawn over it."""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np

from mocap.core.conventions import FACE_IRIS_CENTRES, HAND_FINGER_LANDMARKS, HAND_WRIST, LANDMARK_INDEX, POSE_CONNECTIONS
from mocap.core.errors import note
from mocap.core.frames import Frame, PoseObservation

WINDOW_TITLE = "mocap preview (q or Esc to stop)"


HAND_COLOURS_BGR = ((240, 160, 40), (40, 200, 240))     # the performer's left hand, right hand
FACE_COLOUR_BGR = (200, 200, 200)
IRIS_COLOUR_BGR = (40, 240, 240)


def draw_hands_and_face(canvas: np.ndarray, observation: PoseObservation) -> None:
    """Draws the hands (each finger's chain) and the face mesh's points and irises onto ``canvas``."""
    if observation.hands_px is not None:
        for hand, colour in zip(observation.hands_px, HAND_COLOURS_BGR):
            if not np.isfinite(hand).all():
                continue
            chains = [hand[[HAND_WRIST, *finger], :2].astype(np.int32) for finger in HAND_FINGER_LANDMARKS]
            cv2.polylines(canvas, chains, isClosed=False, color=colour, thickness=2)
    face = observation.face_px
    if face is not None and np.isfinite(face).all():
        for x, y in face[:FACE_IRIS_CENTRES[0], :2].astype(np.int32):
            canvas[np.clip(y, 0, canvas.shape[0] - 1), np.clip(x, 0, canvas.shape[1] - 1)] = FACE_COLOUR_BGR
        for centre in FACE_IRIS_CENTRES:
            radius = max(int(np.linalg.norm(face[centre + 1, :2] - face[centre, :2])), 1)
            cv2.circle(canvas, tuple(map(int, face[centre, :2])), radius, IRIS_COLOUR_BGR, 1)


def draw_skeleton(image_bgr: np.ndarray, observation: PoseObservation, min_confidence: float = 0.5) -> np.ndarray:
    """The image with landmarks (dots) and bones (lines) of confident landmarks drawn on, and the
    hands and face when tracked."""
    canvas = image_bgr.copy()
    draw_hands_and_face(canvas, observation)
    points = observation.keypoints
    confident = np.nan_to_num(points[:, 2]) >= min_confidence
    for a, b in POSE_CONNECTIONS:
        i, j = LANDMARK_INDEX[a], LANDMARK_INDEX[b]
        if confident[i] and confident[j]:
            cv2.line(canvas, tuple(map(int, points[i, :2])), tuple(map(int, points[j, :2])), (80, 220, 80), 2)
    for x, y, _ in points[confident]:
        cv2.circle(canvas, (int(x), int(y)), 4, (40, 40, 240), -1)
    return canvas


def has_display() -> bool:
    """Whether a window can be opened (not on Linux without X or Wayland)."""
    return not sys.platform.startswith("linux") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class PreviewWindow:
    """Shows each frame; pressing q or Esc stops the capture as Ctrl-C would."""

    @classmethod
    def open_if_possible(cls) -> PreviewWindow | None:
        if not has_display():
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
