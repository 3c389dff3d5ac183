"""Hands and face models on real photos against MediaPipe's expected landmarks, and the finger
solve against real hands: InterHand2.6M's triangulated joints and ManipNet's captured finger motion."""

from __future__ import annotations

import json

import cv2
import numpy as np
from conftest import shared

from mocap.core.frames import Frame
from mocap.estimation.mediapipe_pose import MediaPipePoseEstimator
from mocap.evaluation.hands import interhand_hands, joint_bends_deg, manipnet_landmarks, mediapipe_hands
from mocap.solving.fingers import finger_angles_deg

# MediaPipe's own tests compare landmarks within 0.03 of the image size.
LANDMARK_TOLERANCE = 0.03


def rgb(path: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(shared(path)), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def test_face_mesh_on_a_real_photo_matches_mediapipes_expected_landmarks() -> None:
    """Both ways mocap runs the face (Face Mesh beside Pose; Holistic with the hands) find the 478
    landmarks MediaPipe's face landmarker test expects on its photo."""
    expected = json.loads(shared("face/mediapipe_samples_ios/face_landmarker_ios_expected.json").read_text())
    image = rgb("face/mediapipe_samples_ios/business-person.png")
    height, width = image.shape[:2]
    for hands in (False, True):
        with MediaPipePoseEstimator(static_image_mode=True, face=True, hands=hands) as estimator:
            observation = estimator.estimate(Frame(image, 0.0, 0))
        assert observation.face_px is not None and observation.face_px.shape == (478, 3)
        error = np.abs(observation.face_px[:, :2] / [width, height] - np.array(expected["face_landmarks_xyz"])[:, :2])
        assert error.max() < LANDMARK_TOLERANCE and error.mean() < 0.01, (hands, error.max())


def test_the_hand_model_reads_a_real_thumbs_up_as_one() -> None:
    """MediaPipe's hand model on its test photo finds the expected landmarks; solved as the
    performer's right hand they are a thumbs-up: the thumb straight, the four fingers curled."""
    expected = json.loads(shared("hands/mediapipe_samples/mediapipe_samples_hand_expected.json").read_text())["thumbs-up.png"]
    image = rgb("hands/mediapipe_samples/thumbs-up.png")   # RGBA with a transparent background: black
    [(side, landmarks)] = mediapipe_hands(image)
    height, width = image.shape[:2]
    error = np.abs(landmarks[:, :2] / [width, height] - np.array(expected["landmarks_xyz"])[:, :2])
    assert side == "Right" and error.max() < 0.05 and error.mean() < 0.01
    angles = finger_angles_deg(landmarks, side)
    assert angles is not None
    assert np.abs(angles[0, 1:]).max() < 30          # the thumb's three joints nearly straight
    assert (angles[1:, 2] > 90).all()                # each finger folded at its middle joint


def test_finger_curls_from_a_real_photo_against_triangulated_truth() -> None:
    """InterHand2.6M's praying hands (the one of its four photos MediaPipe finds a hand in): each
    finger joint's curl from MediaPipe's landmarks against the curl of the true 3D joints."""
    truths = [hand for hand in interhand_hands(shared("hands/interhand26m_mmpose")) if hand.image.name == "image44669.jpg"]
    found = dict(mediapipe_hands(rgb("hands/interhand26m_mmpose/image44669.jpg")))
    compared = [(finger_angles_deg(found[t.side], t.side), finger_angles_deg(t.joints_mm, t.side))
                for t in truths if t.side in found]
    assert compared
    for ours, truth in compared:
        assert ours is not None and truth is not None
        assert np.abs(ours - truth)[:, 1:].mean() < 12.0    # measured 7.5 degrees (docs/hands-and-face.md)


def test_real_finger_motion_comes_back_from_its_landmarks() -> None:
    """ManipNet's captured hand (33 s of grasping a cup): the bend the solve gives each finger's
    middle and last joint against the bend the capture holds."""
    landmarks, _ = manipnet_landmarks(shared("hands/mocap_manipnet/manipnet_cup1_rightHand.bvh"))
    sample = landmarks[::20]
    truth = joint_bends_deg(sample)
    ours = np.array([finger_angles_deg(frame, "Right")[:, 2:] for frame in sample])
    error = np.abs(np.abs(ours) - truth)
    assert np.median(error[:, 1:]) < 1.0                         # fingers: hinges, exact where planar
    assert error[:, 1:].mean() < 5.0 and error[:, 0].mean() < 10.0   # the thumb folds across the palm
    assert truth[:, 1:, 0].max() > 60                             # the fingers really curl in this take
