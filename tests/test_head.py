"""The head turned as the face mesh shows: the pose's face points follow the mesh's turn, the
rest of the body stays."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import standing_body
from scipy.spatial.transform import Rotation

from mocap.core.conventions import LANDMARK_INDEX
from mocap.lifting.head import EARS, FACE_LANDMARKS, MESH_POINTS, POSE_POINTS, face_frame, turn_head_to_face

pytestmark = pytest.mark.unit

TO_CAMERA = np.diag([1.0, -1.0, -1.0])   # a performer facing the camera: left -> image right, up -> image up


def mesh_of(body_camera: np.ndarray, turn: Rotation) -> np.ndarray:
    """A face mesh (478, 3; px, only the four points the head frame uses) of the body's face
    turned by ``turn`` about the middle of its ears, 1000 px a metre, centred in a 1280x720 image."""
    centre = body_camera[EARS].mean(axis=0)
    mesh = np.full((478, 3), np.nan)
    mesh[list(MESH_POINTS)] = 1000.0 * turn.apply(body_camera[list(POSE_POINTS)] - centre) + [640.0, 360.0, 0.0]
    return mesh


@pytest.mark.parametrize("turn_deg", [(30.0, 0.0, 0.0), (0.0, 20.0, 0.0), (-25.0, -10.0, 8.0)])
def test_the_face_points_turn_as_the_mesh_shows_and_the_body_stays(turn_deg: tuple[float, float, float]) -> None:
    body = standing_body() @ TO_CAMERA.T + [0.0, 0.0, 3.0]
    turn = Rotation.from_euler("yxz", turn_deg, degrees=True)     # yaw, pitch, roll in the camera's axes
    turned = turn_head_to_face(body, mesh_of(body, turn))
    seen = face_frame(turned[list(POSE_POINTS)])
    expected = face_frame(turn.apply(body[list(POSE_POINTS)]))
    assert seen is not None and expected is not None
    np.testing.assert_allclose(seen, expected, atol=1e-9)
    ear_line = turned[LANDMARK_INDEX["left_ear"]] - turned[LANDMARK_INDEX["right_ear"]]
    before = body[LANDMARK_INDEX["left_ear"]] - body[LANDMARK_INDEX["right_ear"]]
    np.testing.assert_allclose(ear_line, turn.apply(before), atol=1e-9)
    others = [i for i in range(33) if i not in FACE_LANDMARKS]
    np.testing.assert_array_equal(turned[others], body[others])


def test_without_a_usable_face_mesh_the_head_is_the_poses() -> None:
    body = standing_body() @ TO_CAMERA.T
    assert turn_head_to_face(body, None) is body
    np.testing.assert_array_equal(turn_head_to_face(body, np.full((478, 3), np.nan)), body)
