"""Triangulation against known 3D points seen by calibrated cameras with lens distortion:
confidence weights, reprojection gating, a mirrored view and the one-camera fill."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
from conftest import standing_body

from mocap.cameras.camera_model import CameraModel
from mocap.core.conventions import LANDMARK_INDEX, mirrored_landmark_order
from mocap.lifting.triangulation import Triangulator

pytestmark = pytest.mark.unit

SIZE = (1280, 720)
DISTORTION = np.array([-0.12, 0.05, 0.001, -0.001, 0.0])


def camera_at(name: str, position_m: tuple[float, float, float], target_m: tuple[float, float, float] = (0.0, 1.0, 0.0)) -> CameraModel:
    """A 70-degree webcam with lens distortion at ``position_m`` looking at ``target_m``, level (world +Y up)."""
    lens = replace(CameraModel.from_field_of_view(SIZE, 70.0), distortion=DISTORTION)
    return lens.looking_at(name, np.asarray(position_m), np.asarray(target_m))


CAMERAS = [camera_at("front_left", (-1.5, 1.2, 3.5)), camera_at("front_right", (1.5, 1.1, 3.5)), camera_at("side", (3.5, 1.5, 0.5))]
BODY_M = standing_body() + [0.2, 0.0, -0.3]


def project(camera: CameraModel, points_m: np.ndarray) -> np.ndarray:
    """Pixels (J, 2) with the camera's lens distortion, as a detector sees them."""
    pixels, _ = cv2.projectPoints(points_m, camera.rotation.as_rotvec(), camera.translation_m, camera.matrix, camera.distortion)
    return pixels.reshape(-1, 2)


def keypoints(points_m: np.ndarray, confidence: float | np.ndarray = 1.0) -> np.ndarray:
    """(cameras, joints, 3): x px, y px, confidence."""
    return np.stack([np.column_stack([project(c, points_m), np.broadcast_to(confidence, len(points_m))]) for c in CAMERAS])


def world_landmarks(points_m: np.ndarray) -> np.ndarray:
    """Each camera's monocular world landmarks (cameras, joints, 3): camera axes, origin mid-hips."""
    hips = points_m[[LANDMARK_INDEX["left_hip"], LANDMARK_INDEX["right_hip"]]].mean(axis=0)
    return np.stack([c.rotation.apply(points_m - hips) for c in CAMERAS])


def test_a_camera_projects_as_opencv_does_and_knows_where_it_stands() -> None:
    camera = CAMERAS[0]
    np.testing.assert_allclose(camera.project(BODY_M), project(camera, BODY_M), atol=1e-9)
    np.testing.assert_allclose(camera.position_m, [-1.5, 1.2, 3.5], atol=1e-12)


def test_known_points_are_recovered_through_lens_distortion() -> None:
    result = Triangulator(CAMERAS).triangulate(keypoints(BODY_M))
    np.testing.assert_allclose(result.points_m, BODY_M, atol=1e-6)
    assert np.all(result.views == 3)
    assert np.all(result.reprojection_px < 1e-3)
    assert not result.swapped.any()


def test_a_low_confidence_view_counts_less() -> None:
    """The side camera sees every landmark 40 px off, at confidence 0.1 (the others 1.0)."""
    seen = keypoints(BODY_M)
    seen[2, :, :2] += [40.0, -25.0]
    seen[2, :, 2] = 0.1
    settings = {"min_confidence": 0.05, "max_reprojection_error": 1.0, "swap_check": False}   # the weights alone
    weighted = Triangulator(CAMERAS, **settings).triangulate(seen).points_m
    seen[2, :, 2] = 1.0
    unweighted = Triangulator(CAMERAS, **settings).triangulate(seen).points_m
    weighted_mm = 1000 * np.linalg.norm(weighted - BODY_M, axis=1).mean()
    unweighted_mm = 1000 * np.linalg.norm(unweighted - BODY_M, axis=1).mean()
    assert weighted_mm < 10.0 and unweighted_mm > 50.0, (weighted_mm, unweighted_mm)


def test_keypoints_below_the_confidence_floor_are_not_used() -> None:
    seen = keypoints(BODY_M)
    seen[2, :, :2] += 200.0
    seen[2, :, 2] = 0.2
    result = Triangulator(CAMERAS, min_confidence=0.3).triangulate(seen)
    np.testing.assert_allclose(result.points_m, BODY_M, atol=1e-6)
    assert np.all(result.views == 2)


def test_a_view_that_disagrees_is_dropped_for_that_joint() -> None:
    """The front-right camera sees the left wrist 60 px off at full confidence."""
    wrist = LANDMARK_INDEX["left_wrist"]
    seen = keypoints(BODY_M)
    seen[1, wrist, :2] += [60.0, 0.0]
    result = Triangulator(CAMERAS).triangulate(seen)
    np.testing.assert_allclose(result.points_m[wrist], BODY_M[wrist], atol=1e-6)
    assert result.views[wrist] == 2 and np.all(np.delete(result.views, wrist) == 3)
    ungated = Triangulator(CAMERAS, max_reprojection_error=1.0).triangulate(seen)
    assert np.linalg.norm(ungated.points_m[wrist] - BODY_M[wrist]) > 0.02


def test_a_joint_only_a_mirrored_view_sees_comes_from_its_landmarks_mirrored_back() -> None:
    """The front-left view labels the body mirrored (its keypoints and its world landmarks); the
    left wrist is hidden from the other two. It is filled from the front-left view's monocular
    landmarks, which must be mirrored back like its keypoints."""
    mirror = mirrored_landmark_order()
    wrist = LANDMARK_INDEX["left_wrist"]
    seen, world = keypoints(BODY_M, 0.8), world_landmarks(BODY_M)
    seen[0], world[0] = seen[0, mirror], world[0, mirror]
    seen[0, :, 2] = 1.0
    seen[1:, wrist, 2] = 0.0
    result = Triangulator(CAMERAS).triangulate(seen, world)
    assert list(result.swapped) == [True, False, False]
    assert result.views[wrist] == 0
    np.testing.assert_allclose(result.points_m, BODY_M, atol=1e-6)
    assert result.confidence[wrist] == 1.0     # the front-left view's own confidence


def test_a_body_only_one_camera_sees_stays_where_it_was_last_triangulated() -> None:
    """Then the body walks 30 cm to its left in that camera's picture, at the same distance."""
    triangulator = Triangulator(CAMERAS)
    triangulator.triangulate(keypoints(BODY_M), world_landmarks(BODY_M))
    hidden = keypoints(BODY_M)
    hidden[1:] = np.nan
    result = triangulator.triangulate(hidden, world_landmarks(BODY_M))
    # the hips' ray passes through the hips' pixels' midpoint, not the midpoint's pixel: 1 mm
    np.testing.assert_allclose(result.points_m, BODY_M, atol=2e-3)
    assert np.all(result.views == 0)
    camera = CAMERAS[0].position_m
    hips = list(LANDMARK_INDEX[n] for n in ("left_hip", "right_hip"))
    turn = cv2.Rodrigues(np.array([0.0, 0.3 / np.linalg.norm(BODY_M[hips].mean(axis=0) - camera), 0.0]))[0]
    moved_m = (BODY_M - camera) @ turn.T + camera     # round the camera: same distance, another ray
    moved = keypoints(moved_m)
    moved[1:] = np.nan
    result = triangulator.triangulate(moved, world_landmarks(moved_m))
    np.testing.assert_allclose(result.points_m, moved_m, atol=2e-3)


def test_nothing_seen_gives_nothing() -> None:
    result = Triangulator(CAMERAS).triangulate(np.full((3, 33, 3), np.nan))
    assert np.isnan(result.points_m).all() and np.all(result.views == 0) and np.all(result.confidence == 0.0)
    with pytest.raises(ValueError, match="at least two cameras"):
        Triangulator(CAMERAS[:1])


def test_each_joints_confidence_and_reprojection_come_from_the_views_used() -> None:
    """Confidences 0.9, 0.6 and 0.3 (all used): each joint's is their mean. The side view sees
    the left knee 4 px off: its reprojection error is the mean over the views of that offset,
    redistributed by the fit."""
    knee = LANDMARK_INDEX["left_knee"]
    seen = keypoints(BODY_M)
    seen[:, :, 2] = np.array([0.9, 0.6, 0.3])[:, None]
    seen[2, knee, 0] += 4.0
    result = Triangulator(CAMERAS, min_confidence=0.3).triangulate(seen)
    np.testing.assert_allclose(result.confidence, 0.6, atol=1e-12)
    assert np.all(np.delete(result.reprojection_px, knee) < 1e-3)
    reprojected = np.array([np.linalg.norm(project(c, result.points_m[knee:knee + 1])[0] - seen[v, knee, :2])
                            for v, c in enumerate(CAMERAS)])
    assert result.reprojection_px[knee] == pytest.approx(reprojected.mean(), rel=0.05)
    assert 0.3 < result.reprojection_px[knee] < 4.0


def test_a_take_first_seen_by_one_camera_is_placed_by_its_picture() -> None:
    """Nothing triangulated yet: the body comes from the one view's monocular landmarks, moved
    to where they project onto its keypoints."""
    seen = keypoints(BODY_M)
    seen[1:] = np.nan
    result = Triangulator(CAMERAS).triangulate(seen, world_landmarks(BODY_M))
    np.testing.assert_allclose(result.points_m, BODY_M, atol=2e-3)
    np.testing.assert_allclose(result.confidence, 1.0)


def test_two_views_swapped_one_after_the_other_keep_the_performers_sides() -> None:
    """Two cameras agree as well with either one swapped (mirrored); the labelling closest to
    the previous frame wins, whichever camera mislabels."""
    mirror = mirrored_landmark_order()
    triangulator = Triangulator(CAMERAS[:2])
    two = keypoints(BODY_M)[:2]
    assert not triangulator.triangulate(two).swapped.any()
    for view in (1, 0):
        mislabelled = two.copy()
        mislabelled[view] = two[view, mirror]
        result = triangulator.triangulate(mislabelled)
        assert list(result.swapped) == [view == 0, view == 1]
        np.testing.assert_allclose(result.points_m, BODY_M, atol=1e-6)


def test_the_fill_comes_from_a_view_that_has_world_landmarks() -> None:
    """The front-right view sees most but brought no world landmarks (another detector): the
    hidden wrist is filled from the side view's."""
    wrist = LANDMARK_INDEX["left_wrist"]
    seen, world = keypoints(BODY_M, 0.5), world_landmarks(BODY_M)
    seen[1, :, 2] = 1.0
    seen[:, wrist, 2] = [0.0, 0.9, 0.0]
    world[1] = np.nan
    result = Triangulator(CAMERAS).triangulate(seen, world)
    np.testing.assert_allclose(result.points_m[wrist], BODY_M[wrist], atol=1e-6)
    assert result.confidence[wrist] == 0.0      # the side view did not see it


def test_with_nobody_seen_the_world_landmarks_give_nothing_either() -> None:
    result = Triangulator(CAMERAS).triangulate(np.full((3, 33, 3), np.nan), world_landmarks(BODY_M))
    assert result.points_m.shape == (33, 3) and np.isnan(result.points_m).all()
    assert np.all(result.confidence == 0.0)


def test_a_body_one_camera_sees_keeps_its_last_triangulated_distance_whatever_its_monocular_size() -> None:
    """MediaPipe's monocular body is often 10% small; placed by its own picture it would stand
    10% nearer the camera. Once triangulated, the distance is the triangulated one."""
    triangulator = Triangulator(CAMERAS)
    triangulator.triangulate(keypoints(BODY_M), world_landmarks(BODY_M))
    hidden = keypoints(BODY_M)
    hidden[1:] = np.nan
    result = triangulator.triangulate(hidden, 0.9 * world_landmarks(BODY_M))
    hips = [LANDMARK_INDEX["left_hip"], LANDMARK_INDEX["right_hip"]]
    np.testing.assert_allclose(result.points_m[hips].mean(axis=0), BODY_M[hips].mean(axis=0), atol=2e-3)


def test_a_joint_two_views_disagree_on_is_not_triangulated_from_a_bad_pair() -> None:
    """The front-right and side views both see the right ankle off, each its own way: gating
    drops one, then the other, and the ankle is left to the monocular fill."""
    ankle = LANDMARK_INDEX["right_ankle"]
    seen = keypoints(BODY_M)
    seen[1, ankle, :2] += [0.0, 80.0]
    seen[2, ankle, :2] += [0.0, -90.0]
    result = Triangulator(CAMERAS).triangulate(seen, world_landmarks(BODY_M))
    assert result.views[ankle] == 0
    np.testing.assert_allclose(result.points_m[ankle], BODY_M[ankle], atol=1e-6)   # from the front-left's landmarks
