"""Finger rotations from MediaPipe's 21 hand landmarks: curl and spread within anatomical limits.

Each hand is first turned into the canonical hand's own axes (:func:`hand_axes`: the palm from the
wrist and the index, middle and pinky knuckles), so the fingers' rotations do not depend on how the
hand or the camera is turned, nor on the landmarks' scale (pixels or metres). Each finger then has
two angles at its proximal joint (a curl toward the palm, then a spread out of that curling plane)
and a curl at each of the two joints after it (the thumb's across the palm); the thumb's first two
about its own rest direction (45 degrees forward of the fingers). Angles are clamped to :data:`FINGER_LIMITS_DEG`, so a finger never bends
backwards or sideways through its neighbour whatever the landmarks say. See docs/hands-and-face.md.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.conventions import HAND_FINGER_LANDMARKS, HAND_WRIST
from mocap.core.skeleton import FINGERS, THUMB_REST_TURN_DEG
from mocap.core.vectors import cross, unit

FINGER_LANDMARKS = np.array(HAND_FINGER_LANDMARKS)   # (5, 4): each finger's joints, knuckle to tip
INDEX_MCP, MIDDLE_MCP, PINKY_MCP = (HAND_FINGER_LANDMARKS[finger][0] for finger in (1, 2, 4))   # knuckles
# Per finger (thumb, index, middle, ring, little), degrees, (low, high) of: spread at the proximal
# joint (+ toward the thumb's side; the thumb's + away from the index), curl at the proximal,
# middle and distal joints (+ toward the palm).
FINGER_LIMITS_DEG = np.array([
    [(-40, 35), (-30, 70), (-20, 80), (-30, 90)],
    [(-15, 25), (-25, 90), (-5, 110), (-10, 85)],
    [(-15, 15), (-25, 90), (-5, 110), (-10, 85)],
    [(-20, 12), (-25, 90), (-5, 110), (-10, 85)],
    [(-35, 12), (-25, 90), (-5, 110), (-10, 85)],
], dtype=np.float64)


def side_sign(side: str) -> float:
    """+1 for the left hand (fingers along +X in T-pose), -1 for the right."""
    return 1.0 if side == "Left" else -1.0


def _rest_turns_rad(side: str) -> NDArray[np.float64]:
    """Each finger's rest direction as a turn about +Y from the hand's axis (the thumb's 45 degrees)."""
    turns = np.zeros(len(FINGERS))
    turns[0] = -side_sign(side) * np.radians(THUMB_REST_TURN_DEG)
    return turns


def hand_axes(landmarks: NDArray[np.float64], side: str) -> NDArray[np.float64] | None:
    """The rotation (3, 3) taking vectors between ``landmarks`` (21, 3; any right-handed axes, any
    unit) into the canonical ``side`` hand's axes in T-pose (fingers along +-X, palm toward -Y,
    thumb toward +Z); None if the palm's landmarks are missing or degenerate."""
    along = landmarks[MIDDLE_MCP] - landmarks[HAND_WRIST]
    across = landmarks[INDEX_MCP] - landmarks[PINKY_MCP]          # toward the thumb's side
    if not (np.isfinite(along).all() and np.isfinite(across).all()):
        return None
    length = np.linalg.norm(along)
    across = across - along * (across @ along) / max(length * length, 1e-12)
    if length < 1e-9 or np.linalg.norm(across) < 0.1 * length:
        return None
    along, across = unit(along), unit(across)
    s = side_sign(side)
    palm = s * cross(along, across)                           # the side the fingers curl toward
    observed = np.stack([along, across, palm], axis=1)           # columns: hand axes in the landmarks' frame
    canonical = np.array([[s, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])   # columns: +-X, +Z, -Y
    return np.asarray(canonical @ observed.T)


def _turns_about(axis: int, angles_rad: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rotation matrices (n, 3, 3) about the X (0), Y (1) or Z (2) axis by ``angles_rad`` (n,)
    (numpy directly: this runs for every hand in every frame, where scipy's per-call cost showed)."""
    cosine, sine = np.cos(angles_rad), np.sin(angles_rad)
    first, second = [(1, 2), (2, 0), (0, 1)][axis]
    matrices = np.zeros((len(angles_rad), 3, 3))
    matrices[:, axis, axis] = 1.0
    matrices[:, first, first] = matrices[:, second, second] = cosine
    matrices[:, first, second] = -sine
    matrices[:, second, first] = sine
    return matrices


def _proximal_matrices(turn_rad: NDArray[np.float64], spread_rad: NDArray[np.float64],
                       curl_rad: NDArray[np.float64], s: float) -> NDArray[np.float64]:
    """Local rotation matrices (fingers, 3, 3) of each proximal phalanx: a spread out of the
    finger's curling plane, then that plane turned by the curl toward the palm, about the finger's
    rest direction (``turn_rad`` from the hand's axis). Curl first: a finger curled 90 degrees
    keeps a spread that means something (spread first would turn it about its own length)."""
    return _turns_about(1, turn_rad) @ _turns_about(2, -s * curl_rad) @ _turns_about(1, -s * spread_rad - turn_rad)


def _hinge_matrices(curl_rad: NDArray[np.float64], s: float) -> NDArray[np.float64]:
    """Local rotation matrices (fingers, 3, 3) of the joints after the proximal one, each a curl
    about its hinge: a finger's folds it toward the palm (about -+Z), the thumb's across the palm
    toward the fingers (about +-Y, as a thumb's nail faces sideways)."""
    matrices = _turns_about(2, -s * curl_rad)
    matrices[0] = _turns_about(1, s * curl_rad[:1])[0]
    return matrices


def _clamped(angles_rad: NDArray[np.float64], column: int) -> NDArray[np.float64]:
    return np.clip(angles_rad, *np.radians(FINGER_LIMITS_DEG[:, column].T))


def finger_angles_deg(landmarks: NDArray[np.float64], side: str) -> NDArray[np.float64] | None:
    """Per finger (thumb to little, 5) its spread and its three curls (4), degrees, within
    :data:`FINGER_LIMITS_DEG`, from one hand's 21 landmarks (:func:`hand_axes`); None if the hand
    is not fully seen. Each joint is solved from its parent as clamped, so a bend one joint cannot
    take (a knuckle read past 90 degrees) passes to the next instead of bending it backwards."""
    axes = hand_axes(landmarks, side)
    if axes is None or not np.isfinite(landmarks).all():
        return None
    s = side_sign(side)
    turns = _rest_turns_rad(side)
    joints = landmarks[FINGER_LANDMARKS] @ axes.T                   # (5, 4, 3) in the hand's axes
    directions = unit(np.diff(joints, axis=1))                      # (5, 3, 3): each phalanx
    unturn = _turns_about(1, -turns)                                # (5, 3, 3)
    first = np.einsum("fij,fj->fi", unturn, directions[:, 0])
    spread = _clamped(np.arcsin(np.clip(first[:, 2], -1.0, 1.0)), 0)
    curls = [_clamped(np.arctan2(-first[:, 1], s * first[:, 0]), 1)]
    parent = _proximal_matrices(turns, spread, curls[0], s)
    thumb = np.arange(len(FINGERS)) == 0
    for phalanx in (1, 2):
        local = np.einsum("fij,fkj,fk->fi", unturn, parent, directions[:, phalanx])   # unturn @ parent^T @ d
        toward = np.where(thumb, -local[:, 2], -local[:, 1])      # toward the fingers (thumb), the palm (fingers)
        aside = np.where(thumb, local[:, 1], local[:, 2])
        bend = np.hypot(toward, aside) * np.where(toward < 0, -1.0, 1.0)   # all of the bend, signed by its direction
        curls.append(_clamped(np.arctan2(bend, s * local[:, 0]), phalanx + 1))
        parent = parent @ _hinge_matrices(curls[-1], s)
    return np.degrees(np.stack([spread, *curls], axis=1))


def finger_rotations(angles_deg: NDArray[np.float64], side: str) -> Rotation:
    """The 15 local rotations (thumb proximal, intermediate, distal, then index ...) of the
    canonical ``side`` hand for ``angles_deg`` (5, 4) as :func:`finger_angles_deg` gives them,
    clamped to :data:`FINGER_LIMITS_DEG`."""
    clamped = np.radians(np.clip(angles_deg, FINGER_LIMITS_DEG[:, :, 0], FINGER_LIMITS_DEG[:, :, 1]))
    s = side_sign(side)
    per_phalanx = [_proximal_matrices(_rest_turns_rad(side), clamped[:, 0], clamped[:, 1], s)]
    per_phalanx += [_hinge_matrices(clamped[:, joint], s) for joint in (2, 3)]
    return Rotation.from_matrix(np.stack(per_phalanx, axis=1).reshape(-1, 3, 3), assume_valid=True)   # products of rotations
