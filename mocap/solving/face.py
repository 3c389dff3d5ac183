"""Face expressions from the face mesh (478 landmarks with irises): blinks, mouth, gaze, brows.

Every measure is a ratio of distances between landmarks in 3D (MediaPipe's depth is scaled like
x), so it does not depend on the face's size in the image nor much on how the head is turned.
Each is judged against the performer's own levels (:class:`AdaptiveLevels`): open eyes are the
eye opening held most of the time, a closed mouth the smallest opening seen, so a performer with
narrow eyes or glasses blinks as fully as anyone. Until about a second has been seen, typical
levels stand in. See docs/hands-and-face.md.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.conventions import FACE_EYE_OUTER_CORNERS, FACE_IRIS_CENTRES, FACE_MOUTH_CORNERS
from mocap.core.frames import NEUTRAL_FACE, FaceExpression, Observations
from mocap.core.vectors import unit
from mocap.filtering.temporal import OneEuroSettings, PointFilter


@dataclass(frozen=True)
class Eye:
    """One eye's face mesh landmarks."""

    corners: tuple[int, int]        # toward the performer's right, then left
    upper: tuple[int, int, int]     # upper lid, matching ``lower`` point by point
    lower: tuple[int, int, int]
    iris: int                       # the iris centre
    brow: int                       # the brow's middle


RIGHT_EYE = Eye(corners=(33, 133), upper=(160, 159, 158), lower=(144, 145, 153), iris=FACE_IRIS_CENTRES[0], brow=105)
LEFT_EYE = Eye(corners=(362, 263), upper=(385, 386, 387), lower=(380, 374, 373), iris=FACE_IRIS_CENTRES[1], brow=334)
LIPS_INNER = (13, 14)         # upper, lower lip's inner edge, mid-line
FOREHEAD, CHIN = 10, 152

EYE_RADIUS_PER_WIDTH = 0.4    # an eyeball's radius over the eye's corner-to-corner width
HISTORY_S = 10.0              # how far back the performer's own levels look
WARM_UP_SAMPLES = 30          # samples before the performer's own levels replace the typical ones
REFRESH_SAMPLES = 10
# The levels kept of each measure (face_measures' order: eye openings right and left, mouth gap and
# width, brow heights right and left, gaze across and up): eyes open (most of the time), eyes
# closed, mouth closed, and the usual value.
PERCENTILES = (80.0, 2.0, 5.0, 50.0)
OPEN, CLOSED, MOUTH_CLOSED, USUAL = range(4)
# Typical levels until the performer's own are known (eyes: gap over width; mouth and brows: over
# the distance between the eyes' outer corners; gaze: over the eye's width; the iris sits above
# the line between the eye's corners).
TYPICAL_LEVELS = np.array([
    [0.30, 0.30, 0.0, 0.62, 0.19, 0.19, 0.0, 0.10],
    [0.05, 0.05, 0.0, 0.62, 0.19, 0.19, 0.0, 0.10],
    [0.30, 0.30, 0.0, 0.62, 0.19, 0.19, 0.0, 0.10],
    [0.30, 0.30, 0.0, 0.62, 0.19, 0.19, 0.0, 0.10],
])
FACE_FILTER = OneEuroSettings(min_cutoff_hz=4.0, beta=5.0)   # beta: Hz per measure unit per second


class AdaptiveLevels:
    """Percentiles (:data:`PERCENTILES`) of each face measure over the last :data:`HISTORY_S`
    seconds: the performer's own levels (``typical`` (percentiles, measures) until
    :data:`WARM_UP_SAMPLES` samples are in; recomputed every :data:`REFRESH_SAMPLES` samples, as
    they change slowly)."""

    def __init__(self, typical: NDArray[np.float64]) -> None:
        self._samples: deque[tuple[float, NDArray[np.float64]]] = deque()
        self._levels = typical
        self._since_refresh = 0

    def update(self, measures: NDArray[np.float64], timestamp_s: float) -> NDArray[np.float64]:
        """The levels (percentiles, measures) after adding this frame's ``measures``."""
        self._samples.append((timestamp_s, measures))
        while self._samples[0][0] < timestamp_s - HISTORY_S:
            self._samples.popleft()
        self._since_refresh += 1
        if len(self._samples) >= WARM_UP_SAMPLES and self._since_refresh >= REFRESH_SAMPLES:
            self._levels = np.percentile(np.array([m for _, m in self._samples]), PERCENTILES, axis=0)
            self._since_refresh = 0
        return self._levels


def _distance(points: NDArray[np.float64], a: int, b: int) -> float:
    return float(np.linalg.norm(points[a] - points[b]))


def eye_opening(points: NDArray[np.float64], eye: Eye) -> float:
    """Lid gap over the eye's width (about 0.3 open, under 0.1 closed)."""
    gaps = [_distance(points, upper, lower) for upper, lower in zip(eye.upper, eye.lower)]
    return float(np.mean(gaps)) / _distance(points, *eye.corners)


def eye_gaze(points: NDArray[np.float64], eye: Eye, up: NDArray[np.float64]) -> tuple[float, float]:
    """The iris centre from the middle of the eye's corners, over the eye's width: (toward the
    performer's left, up)."""
    right_corner, left_corner = points[eye.corners[0]], points[eye.corners[1]]
    width = float(np.linalg.norm(left_corner - right_corner))
    across = (left_corner - right_corner) / width
    offset = points[eye.iris] - (left_corner + right_corner) / 2.0
    return float(offset @ across) / width, float(offset @ up) / width


def face_measures(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """The raw measures of one face (478, 3): eye openings (right, left), mouth gap and width and
    brow heights (right, left) over the distance between the eyes' outer corners, and gaze across
    and up (mean of both eyes, over the eye's width)."""
    eyes_apart = _distance(points, *FACE_EYE_OUTER_CORNERS)
    across = points[FACE_EYE_OUTER_CORNERS[1]] - points[FACE_EYE_OUTER_CORNERS[0]]
    up = points[FOREHEAD] - points[CHIN]
    up = unit(up - across * (up @ across) / (across @ across))
    gazes = np.array([eye_gaze(points, eye, up) for eye in (RIGHT_EYE, LEFT_EYE)]).mean(axis=0)
    brows = [abs(float((points[eye.brow] - points[eye.upper[1]]) @ up)) / eyes_apart for eye in (RIGHT_EYE, LEFT_EYE)]
    return np.array([
        eye_opening(points, RIGHT_EYE), eye_opening(points, LEFT_EYE),
        _distance(points, *LIPS_INNER) / eyes_apart, _distance(points, *FACE_MOUTH_CORNERS) / eyes_apart,
        *brows, *gazes,
    ])


def best_face(observations: Observations) -> NDArray[np.float64] | None:
    """The face mesh (478, 3) from the camera that sees the face largest (the distance between the
    eyes' outer corners in pixels), or None if no camera sees all of it."""
    seen = [o.face_px for o in observations if o.face_px is not None and np.isfinite(o.face_px).all()]
    if not seen:
        return None
    return max(seen, key=lambda face: float(np.linalg.norm(face[FACE_EYE_OUTER_CORNERS[1], :2] - face[FACE_EYE_OUTER_CORNERS[0], :2])))


def _ramp(value: float, start: float, end: float) -> float:
    """0 at ``start``, 1 at ``end``, linear between, clamped."""
    return float(np.clip((value - start) / (end - start), 0.0, 1.0))


class FaceTracker:
    """Face expressions from each frame's face mesh, against the performer's own levels, lightly
    filtered (One Euro on the raw measures: ``filter_settings``, speed in measure units per
    second; light enough that a 100 ms blink closes the eyes). ``mirror``: a selfie view, as the
    body's: each eye drives the other side, and the gaze turns the other way. A face out of view is
    neutral."""

    def __init__(self, filter_settings: OneEuroSettings = FACE_FILTER, *, mirror: bool = False) -> None:
        self.mirror = mirror
        self._filter = PointFilter(filter_settings)
        self._levels = AdaptiveLevels(TYPICAL_LEVELS)

    def __call__(self, face_px: NDArray[np.float64] | None, timestamp_s: float) -> FaceExpression:
        """The expression of ``face_px`` (478, 3: x, y, depth px; None or NaN: no face seen, neutral)."""
        if face_px is None or not np.isfinite(face_px).all():
            return NEUTRAL_FACE
        raw = face_measures(face_px)
        m = self._filter(raw[:, None], timestamp_s)[:, 0]
        levels = self._levels.update(raw, timestamp_s)
        blinks = []
        for side in (0, 1):
            opened = levels[OPEN, side]
            closed = min(levels[CLOSED, side], 0.4 * opened)
            blinks.append(_ramp(m[side], opened - 0.1 * (opened - closed), closed))
        jaw_open = _ramp(m[2], levels[MOUTH_CLOSED, 2] + 0.02, levels[MOUTH_CLOSED, 2] + 0.72)
        width = m[3] / levels[USUAL, 3]
        brow = float(m[4:6].mean() / levels[USUAL, 4:6].mean())
        gaze = m[6:8] - levels[USUAL, 6:8]
        yaw, pitch = np.degrees(np.arcsin(np.clip(gaze / EYE_RADIUS_PER_WIDTH, -1.0, 1.0)))
        if self.mirror:
            blinks, yaw = blinks[::-1], -yaw
        return FaceExpression(
            blink_left=blinks[1], blink_right=blinks[0], jaw_open=jaw_open,
            vowels=mouth_vowels(jaw_open, width),
            brow_up=_ramp(brow, 1.05, 1.3), brow_down=_ramp(brow, 0.95, 0.75),
            gaze_yaw_deg=float(yaw), gaze_pitch_deg=float(pitch),
        )


def mouth_vowels(jaw_open: float, width: float) -> tuple[float, float, float, float, float]:
    """A, I, U, E, O weights from the mouth's opening (0..1) and its width over the performer's
    usual width: wide mouths make I (nearly closed) and E (open), narrow ones U and O, open ones of
    usual width A."""
    wide, narrow = _ramp(width, 1.0, 1.15), _ramp(width, 1.0, 0.85)
    slightly_open = min(jaw_open / 0.15, 1.0) * (1.0 - jaw_open)
    a = jaw_open * (1.0 - max(wide, narrow))
    return (a, wide * slightly_open, narrow * slightly_open, wide * jaw_open, narrow * jaw_open)


def eye_rotations(face: FaceExpression) -> Rotation:
    """The left and right eye bones' local rotations (2,) for the face's gaze: a turn toward the
    performer's left about +Y, then up (canonical axes: facing +Z, up +Y)."""
    return Rotation.from_euler("YX", [[face.gaze_yaw_deg, -face.gaze_pitch_deg]] * 2, degrees=True)
