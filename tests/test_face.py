"""Face expressions from real face meshes: against MediaPipe's own blendshape model on the same
landmarks, on a real photo with open eyes and a closed mouth, and with the lids, lips and irises
moved where a wrong side or a fixed threshold would show."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import shared

from mocap.core.frames import NEUTRAL_FACE, FaceExpression, PoseObservation
from mocap.sinks.expressions import expression_weights
from mocap.solving.face import LEFT_EYE, RIGHT_EYE, FaceTracker, best_face, eye_rotations

# MediaPipe's blendshape test: 478 landmarks in, 52 scores out, compared there within 0.1.
BLENDSHAPE_TOLERANCE = 0.1


def blendshape_pair() -> tuple[np.ndarray, dict[str, float]]:
    """The blendshape graph's input landmarks (478, 3, pixels) and its expected scores by name."""
    data = json.loads(shared("face/mediapipe_tasks_testdata/expected_as_json.json").read_text())["blendshapes_from_landmarks"]
    width, height = data["image_size_wh"]
    points = np.array(data["input_landmarks_xyz"]) * [width, height, width]
    return points, {name: score for name, score in data["expected_blendshapes"]}


def business_person() -> np.ndarray:
    """MediaPipe's expected 478 landmarks (pixels) for a real photo: eyes open, mouth closed."""
    data = json.loads(shared("face/mediapipe_samples_ios/face_landmarker_ios_expected.json").read_text())
    width, height = data["image_size_wh"]
    return np.array(data["face_landmarks_xyz"]) * [width, height, width]


def settled(face: np.ndarray, frames: int = 60) -> FaceTracker:
    """A tracker that has watched ``face`` for ``frames`` frames at 30 frames/s."""
    tracker = FaceTracker()
    for frame in range(frames):
        tracker(face, frame / 30)
    return tracker


def close_eye(face: np.ndarray, eye: object, amount: float = 1.0) -> np.ndarray:
    """``face`` with ``eye``'s lids moved ``amount`` of the way to their midline."""
    moved = face.copy()
    upper, lower = list(eye.upper), list(eye.lower)   # type: ignore[attr-defined]
    middle = (face[upper] + face[lower]) / 2.0
    moved[upper] += amount * (middle - face[upper])
    moved[lower] += amount * (middle - face[lower])
    return moved


def test_blink_mouth_and_gaze_agree_with_mediapipes_blendshape_model() -> None:
    """MediaPipe's blendshape model names each side as the picture shows it (its eyeBlinkLeft is
    the eye on the image's left, the performer's right: only so do its eight eyeLook scores and
    the irises agree on where the eyes look); mocap names the performer's own sides, as ARKit and
    VRM avatars take them."""
    points, expected = blendshape_pair()
    face = FaceTracker()(points, 0.0)
    assert abs(face.blink_left - expected["eyeBlinkRight"]) < BLENDSHAPE_TOLERANCE
    assert abs(face.blink_right - expected["eyeBlinkLeft"]) < BLENDSHAPE_TOLERANCE
    assert abs(face.jaw_open - expected["jawOpen"]) < BLENDSHAPE_TOLERANCE
    look_down = (expected["eyeLookDownLeft"] + expected["eyeLookDownRight"]) / 2.0
    weights = expression_weights(face, "vrm0")
    assert weights["LookUp"] == 0.0 and abs(weights["LookDown"] - look_down) < BLENDSHAPE_TOLERANCE
    toward_image_left = expected["eyeLookOutLeft"] + expected["eyeLookInRight"]
    toward_image_right = expected["eyeLookInLeft"] + expected["eyeLookOutRight"]
    assert toward_image_left > toward_image_right and face.gaze_yaw_deg < 0.0   # both: toward the performer's right
    arkit = expression_weights(face, "arkit")
    for ours, theirs in (("Left", "Right"), ("Right", "Left")):
        for look in ("Up", "Down", "In", "Out"):
            got, model = arkit[f"eyeLook{look}{ours}"], expected[f"eyeLook{look}{theirs}"]
            assert abs(got - model) < BLENDSHAPE_TOLERANCE, (look, ours, got, model)


def test_a_real_face_with_open_eyes_and_a_closed_mouth_reads_neutral() -> None:
    face = FaceTracker()(business_person(), 0.0)
    assert face.blink_left < 0.05 and face.blink_right < 0.05
    assert face.jaw_open < 0.05 and max(face.vowels) < 0.05


def test_each_eye_blinks_on_its_own_side() -> None:
    """The performer's left eye (the image's right, facing the camera) closing is Blink_L."""
    points = business_person()
    assert points[LEFT_EYE.corners[1], 0] > points[RIGHT_EYE.corners[0], 0]   # the photo faces the camera
    tracker = settled(points)
    face = tracker(close_eye(points, LEFT_EYE), 2.0)
    for _ in range(3):   # a blink held for 100 ms
        face = tracker(close_eye(points, LEFT_EYE), 2.0 + (_ + 1) / 30)
    assert face.blink_left > 0.9 and face.blink_right < 0.1
    weights = expression_weights(face, "vrm0")
    assert weights["Blink_L"] > 0.9 and weights["Blink_R"] < 0.1 and weights["Blink"] < 0.1
    assert expression_weights(face, "arkit")["eyeBlinkLeft"] > 0.9
    mirrored = FaceTracker(mirror=True)
    for frame in range(60):
        mirrored(points, frame / 30)
    for frame in range(4):
        face = mirrored(close_eye(points, LEFT_EYE), 2.0 + frame / 30)
    assert face.blink_right > 0.9 and face.blink_left < 0.1


def test_narrow_eyes_are_open_once_the_performers_levels_are_learned() -> None:
    """A performer whose open eyes are 45% narrower than typical (or whose glasses hide part of the
    lids) reads as half blinking against fixed levels; after a few seconds, as open, and still
    blinks fully."""
    narrow = close_eye(close_eye(business_person(), LEFT_EYE, 0.45), RIGHT_EYE, 0.45)
    tracker = FaceTracker()
    first = tracker(narrow, 0.0)
    assert first.blink_left > 0.3                     # typical levels: half closed
    for frame in range(1, 90):
        face = tracker(narrow, frame / 30)
    assert face.blink_left < 0.1 and face.blink_right < 0.1
    for frame in range(4):
        face = tracker(close_eye(close_eye(narrow, LEFT_EYE), RIGHT_EYE), 3.0 + frame / 30)
    assert face.blink_left > 0.9 and face.blink_right > 0.9


def test_an_open_mouth_is_jaw_open_and_a_and_the_eyes_follow_the_irises() -> None:
    points = business_person()
    tracker = settled(points)
    eyes_apart = np.linalg.norm(points[263] - points[33])
    opened = points.copy()
    lower_face = points[:, 1] > points[14, 1]             # the chin, and below
    lower_face[14] = True                                  # the lower lip's inner edge (the upper's, 13, stays)
    opened[lower_face, 1] += 0.5 * eyes_apart
    for frame in range(6):
        face = tracker(opened, 2.0 + frame / 30)
    assert face.jaw_open > 0.6 and int(np.argmax(face.vowels)) == 0   # A
    assert expression_weights(face, "vrm0")["A"] > 0.5 and expression_weights(face, "vrm1")["aa"] > 0.5
    looking = points.copy()
    for eye in (LEFT_EYE, RIGHT_EYE):
        width = np.linalg.norm(points[eye.corners[1]] - points[eye.corners[0]])
        looking[eye.iris:eye.iris + 5, 0] += 0.12 * width   # toward the image's right: the performer's left
    for frame in range(6):
        face = tracker(looking, 2.5 + frame / 30)
    assert 10.0 < face.gaze_yaw_deg < 25.0 and abs(face.gaze_pitch_deg) < 5.0
    weights = expression_weights(face, "vrm0")
    assert weights["LookLeft"] > 0.5 and weights["LookRight"] == 0.0
    arkit = expression_weights(face, "arkit")
    assert arkit["eyeLookOutLeft"] > 0.5 and arkit["eyeLookInRight"] > 0.5 and arkit["eyeLookInLeft"] == 0.0


def test_the_face_is_read_from_the_camera_that_sees_it_largest() -> None:
    face = business_person()
    far = (face - face.mean(axis=0)) * 0.4 + face.mean(axis=0)
    unseen = np.full_like(face, np.nan)
    def seen_by(*faces: np.ndarray) -> tuple[PoseObservation, ...]:
        return tuple(PoseObservation(0.0, (958, 1358), np.full((33, 3), np.nan), None, None, one) for one in faces)
    assert best_face(seen_by(unseen, far, face)) is face
    assert best_face(seen_by(unseen, far)) is far
    assert best_face(seen_by(unseen)) is None


@pytest.mark.unit
def test_the_eye_bones_look_where_the_gaze_goes() -> None:
    face = replace(NEUTRAL_FACE, gaze_yaw_deg=20.0, gaze_pitch_deg=-10.0)   # toward the performer's left, down
    forward = eye_rotations(face).apply([0.0, 0.0, 1.0])                    # canonical: facing +Z, left +X, up +Y
    assert (forward[:, 0] > 0.3).all() and (forward[:, 1] < -0.15).all()
    np.testing.assert_allclose(np.degrees(np.arcsin(forward[:, 1])), -10.0)


@pytest.mark.unit
def test_vrm_blinks_split_into_both_eyes_and_each_eye_alone() -> None:
    face = FaceExpression(blink_left=0.9, blink_right=0.3, jaw_open=0.0, vowels=(0, 0, 0, 0, 0),
                          brow_up=0.0, brow_down=0.0, gaze_yaw_deg=0.0, gaze_pitch_deg=0.0)
    for scheme, (both, left, right) in {"vrm0": ("Blink", "Blink_L", "Blink_R"),
                                        "vrm1": ("blink", "blinkLeft", "blinkRight")}.items():
        weights = expression_weights(face, scheme)
        assert weights[both] == pytest.approx(0.3)
        assert weights[both] + weights[left] == pytest.approx(0.9) and weights[both] + weights[right] == pytest.approx(0.3)
    with pytest.raises(ValueError, match="vrm0, vrm1, arkit"):
        expression_weights(face, "vrm2")
