"""The shared conventions with known answers: camera axes to the world, Unity's axes, the
left/right landmark mirror and quaternion sign continuity."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mocap.core.conventions import (
    LANDMARK_INDEX,
    POSE_LANDMARK_NAMES,
    camera_to_world,
    continuous_quaternions,
    mirrored_landmark_order,
    positions_to_unity,
    quaternions_to_unity,
    to_engine_axes,
)

pytestmark = pytest.mark.unit


def test_a_level_cameras_axes_in_the_world() -> None:
    """Image right is the performer's left (+X), image down is -Y, away from the camera is -Z
    (the performer faces the camera, and +Z)."""
    np.testing.assert_allclose(camera_to_world().apply(np.eye(3)), [[1, 0, 0], [0, -1, 0], [0, 0, -1]], atol=1e-12)


def test_a_camera_tilted_down_looks_down() -> None:
    axis = camera_to_world(30.0).apply([0.0, 0.0, 1.0])
    np.testing.assert_allclose(axis, [0.0, -0.5, -np.sqrt(0.75)], atol=1e-12)


def test_unity_axes_mirror_x_and_keep_what_a_rotation_does() -> None:
    """A rotation converted to Unity's axes turns Unity-converted vectors as the original turns
    the original vectors: the forward kinematics of a receiver agree with ours, mirrored."""
    rng = np.random.default_rng(0)
    rotations = Rotation.random(20, random_state=1)
    vectors = rng.normal(size=(20, 3))
    unity_rotations = Rotation.from_quat(quaternions_to_unity(rotations.as_quat()))
    np.testing.assert_allclose(unity_rotations.apply(positions_to_unity(vectors)),
                               positions_to_unity(rotations.apply(vectors)), atol=1e-12)
    np.testing.assert_allclose(positions_to_unity(np.array([0.3, 1.2, -0.5])), [-0.3, 1.2, -0.5])
    quats, positions = rotations.as_quat(), vectors.copy()
    quaternions_to_unity(quats), positions_to_unity(positions)
    assert np.array_equal(quats, rotations.as_quat()) and np.array_equal(positions, vectors)   # inputs untouched


def test_the_mirror_swaps_every_left_with_its_right_and_keeps_the_nose() -> None:
    order = mirrored_landmark_order()
    assert order[LANDMARK_INDEX["left_wrist"]] == LANDMARK_INDEX["right_wrist"]
    assert order[LANDMARK_INDEX["right_foot_index"]] == LANDMARK_INDEX["left_foot_index"]
    assert order[LANDMARK_INDEX["mouth_left"]] == LANDMARK_INDEX["mouth_right"]
    assert order[LANDMARK_INDEX["nose"]] == LANDMARK_INDEX["nose"]
    assert np.array_equal(order[order], np.arange(len(POSE_LANDMARK_NAMES)))
    assert sum(order != np.arange(len(order))) == len(POSE_LANDMARK_NAMES) - 1


def test_quaternions_keep_the_side_of_the_previous_ones() -> None:
    previous = Rotation.from_euler("y", np.array([[10.0], [170.0], [-90.0]]), degrees=True).as_quat()
    now = Rotation.from_euler("y", np.array([[20.0], [190.0], [-80.0]]), degrees=True).as_quat()
    now[0] *= -1.0
    kept = continuous_quaternions(now, previous)
    assert np.all(np.sum(kept * previous, axis=1) > 0.0)
    np.testing.assert_allclose(np.abs(kept), np.abs(now))
    assert continuous_quaternions(now, None) is now


# Each engine's own directions for the performer's left, up and facing (docs/osc.md).
ENGINE_DIRECTIONS = {
    "unity": ((-1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "godot": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "unreal": ((0, -1, 0), (0, 0, 1), (1, 0, 0)),
}


@pytest.mark.parametrize("engine", sorted(ENGINE_DIRECTIONS))
def test_engine_axes_put_left_up_and_facing_where_each_engine_has_them(engine: str) -> None:
    """Points on the performer's left, above and in front land on the engine's own left, up and
    forward; a quarter turn to the performer's left (facing -> left) turns the engine's forward
    to the engine's left, whatever the engine's handedness."""
    left, up, forward = (np.array(v, dtype=float) for v in ENGINE_DIRECTIONS[engine])
    internal = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])   # left, up, facing
    turn_left = Rotation.align_vectors([[1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0]])[0]   # facing -> left, about up
    positions, quats = to_engine_axes(2.0 * internal, Rotation.concatenate([turn_left, Rotation.identity()]), engine)
    np.testing.assert_allclose(positions, 2.0 * np.stack([left, up, forward]), atol=1e-12)
    np.testing.assert_allclose(Rotation.from_quat(quats[0]).apply(forward), left, atol=1e-12)
    np.testing.assert_allclose(Rotation.from_quat(quats[0]).apply(up), up, atol=1e-12)
    np.testing.assert_allclose(np.abs(quats[1]), [0.0, 0.0, 0.0, 1.0], atol=1e-12)
