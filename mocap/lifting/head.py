"""The head's orientation from the face mesh, for one camera.

MediaPipe Pose places the head from a handful of face points whose depth it guesses coarsely;
the face mesh's 478 points turn with the head far more faithfully. Both are in the camera's axes,
so the head frame the mesh shows (eye corners across, mouth to eyes up) replaces the one the pose's
same points show: the pose's face points are turned about the middle of the ears by the
difference, and the solver aims the head from them as before.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mocap.core.conventions import FACE_EYE_OUTER_CORNERS, FACE_MOUTH_CORNERS, LANDMARK_INDEX
from mocap.core.vectors import unit

# The same four anatomical points on the face mesh and in the pose's landmarks: the outer
# corners of the right and left eye, the right and left corners of the mouth.
MESH_POINTS = (*FACE_EYE_OUTER_CORNERS, *FACE_MOUTH_CORNERS)
POSE_POINTS = tuple(LANDMARK_INDEX[name] for name in ("right_eye_outer", "left_eye_outer", "mouth_right", "mouth_left"))
FACE_LANDMARKS = list(range(LANDMARK_INDEX["mouth_right"] + 1))     # nose, eyes, ears, mouth: BlazePose's first 11
EARS = [LANDMARK_INDEX["left_ear"], LANDMARK_INDEX["right_ear"]]


def face_frame(points: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Columns: across (right eye -> left eye), up (mouth -> eyes), forward, from the four
    points (right eye outer, left eye outer, mouth right, mouth left) in any right-handed axes;
    None if they are missing or degenerate."""
    if not np.isfinite(points).all():
        return None
    across = points[1] - points[0]
    up = (points[0] + points[1]) / 2.0 - (points[2] + points[3]) / 2.0
    up = up - across * (up @ across) / max(float(across @ across), 1e-12)
    if np.linalg.norm(across) < 1e-9 or np.linalg.norm(up) < 0.1 * np.linalg.norm(across):
        return None
    across, up = unit(across), unit(up)
    return np.stack([across, up, np.cross(across, up)], axis=1)


def turn_head_to_face(world_m: NDArray[np.float64], face_px: NDArray[np.float64] | None) -> NDArray[np.float64]:
    """``world_m`` (33, 3; camera axes) with its face points turned about the middle of the ears
    so the head faces as the face mesh ``face_px`` (478, 3; x, y, depth px) shows; unchanged
    without a face mesh."""
    if face_px is None:
        return world_m
    seen, posed = face_frame(face_px[list(MESH_POINTS)]), face_frame(world_m[list(POSE_POINTS)])
    if seen is None or posed is None:
        return world_m
    turn = seen @ posed.T
    centre = world_m[EARS].mean(axis=0)
    turned = world_m.copy()
    turned[FACE_LANDMARKS] = (world_m[FACE_LANDMARKS] - centre) @ turn.T + centre
    return turned
