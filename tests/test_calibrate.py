"""`mocap calibrate` on real board photos, checked against the published calibrations."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import assert_one_line_error, run_mocap, shared

from mocap.cameras.board_calibration import (
    CameraViews,
    calibrate_intrinsics,
    chain_extrinsics,
    fix_flips,
)
from mocap.cameras.boards import BoardSpec, Detection
from mocap.formats.calibration_file import load_calibration

CHARUCO = "calibration/charuco_opencv_contrib"
STEREO = "calibration/stereo_temugeb/frames_pair"
STEREO_BOARD = ["--board", "checkerboard", "--corners", "4x7", "--square-size", "0.0319"]


def test_charuco_intrinsics_match_opencvs_reference(tmp_path: Path) -> None:
    output = tmp_path / "charuco.toml"
    result = run_mocap(
        "calibrate", "--board", "charuco", "--squares", "5x7", "--square-size", "0.04", "--marker-size", "0.02",
        "--dictionary", "DICT_6X6_250", "--images", str(shared(CHARUCO) / "img_0*.jpg"), "--output", str(output),
        "--no-progress",
    )
    assert result.returncode == 0, result.stderr
    (camera,) = load_calibration(output)
    assert camera.image_size == (640, 480)
    assert camera.matrix[0, 0] == pytest.approx(452.51, rel=0.02)   # tutorial_camera_charuco.yml
    assert camera.matrix[1, 1] == pytest.approx(456.77, rel=0.02)
    rms = float(re.search(r"intrinsic RMS ([0-9.]+) px", result.stdout).group(1))
    assert rms <= 0.3


@pytest.fixture(scope="module")
def stereo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    output = tmp_path_factory.mktemp("stereo") / "stereo.toml"
    result = run_mocap(
        "calibrate", *STEREO_BOARD, "--images", str(shared(STEREO) / "camera0_*.png"),
        "--images", str(shared(STEREO) / "camera1_*.png"), "--name", "camera0", "--name", "camera1",
        "--floor", "board", "--output", str(output), "--no-progress",
    )
    return result, output


def test_stereo_pairs_give_the_authors_baseline(stereo: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, output = stereo
    assert result.returncode == 0, result.stderr
    first, second = load_calibration(output)
    baseline_cm = 100 * np.linalg.norm(first.position_m - second.position_m)
    assert baseline_cm == pytest.approx(np.linalg.norm([-30.118, 8.815, -1.028]), rel=0.02)  # camera1_rot_trans.dat
    mean_mm = float(re.search(r"mean error ([0-9.]+) mm", result.stdout).group(1))
    assert mean_mm < 1.0                       # neighbouring corners 31.9 mm apart when triangulated
    assert "RMS reprojection camera0" in result.stdout


def test_floor_from_the_board_puts_its_corners_at_height_zero(stereo: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, output = stereo
    first, second = load_calibration(output)
    gray = [cv2.imread(str(shared(STEREO) / f"camera{c}_0.png"), cv2.IMREAD_GRAYSCALE) for c in (0, 1)]
    corners = [cv2.cornerSubPix(g, cv2.findChessboardCorners(g, (4, 7))[1], (11, 11), (-1, -1),
                                (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.001)) for g in gray]
    projections = []
    for camera, found in zip((first, second), corners):
        rotation = camera.rotation.as_matrix()
        projections.append(np.hstack([rotation, camera.translation_m.reshape(3, 1)]))
        found[:] = cv2.undistortPoints(found, camera.matrix, camera.distortion)
    homogeneous = cv2.triangulatePoints(projections[0], projections[1], corners[0].reshape(-1, 2).T, corners[1].reshape(-1, 2).T)
    points = (homogeneous[:3] / homogeneous[3]).T
    assert np.abs(points[:, 1]).max() < 0.003                    # the board (view 0) is the floor: y = 0
    assert first.position_m[1] > 0.1                     # the cameras look at it from above


def _stereo_views() -> tuple[BoardSpec, list[CameraViews], list]:
    board = BoardSpec("checkerboard", 4, 7, 0.0319)
    views = []
    for c in (0, 1):
        detections = []
        for k in range(4):
            gray = cv2.imread(str(shared(STEREO) / f"camera{c}_{k}.png"), cv2.IMREAD_GRAYSCALE)
            found, corners = cv2.findChessboardCorners(gray, (4, 7))
            detections.append(Detection(np.arange(28), corners.reshape(-1, 2).astype(np.float64)))
        views.append(CameraViews(f"camera{c}", (1280, 720), detections))
    cameras = [calibrate_intrinsics(board, v)[0] for v in views]
    return board, views, cameras


def test_a_board_found_turned_round_is_reordered() -> None:
    board, views, cameras = _stereo_views()
    turned = views[1].detections[2]
    views[1].detections[2] = Detection(board.reversed_ids(turned.ids), turned.image_points)
    notes: list[str] = []
    repaired = fix_flips(board, cameras, views, notes.append)
    assert notes and "view 2, camera camera1" in notes[0]
    assert np.array_equal(repaired[1].detections[2].ids, turned.ids)
    baseline_m = np.linalg.norm(chain_extrinsics(board, cameras, repaired)[1].position_m)
    assert baseline_m == pytest.approx(0.314, rel=0.02)


def test_no_board_in_view(tmp_path: Path) -> None:
    result = run_mocap(
        "calibrate", *STEREO_BOARD, "--images", str(shared("video_images/stills")), "--output", str(tmp_path / "c.toml"),
    )
    assert_one_line_error(result, "the board was found in 0 of", "at least 3")


def test_wrong_board_size_finds_nothing(tmp_path: Path) -> None:
    result = run_mocap(
        "calibrate", "--board", "checkerboard", "--corners", "5x7", "--square-size", "0.0319",
        "--images", str(shared(STEREO) / "camera0_*.png"), "--output", str(tmp_path / "c.toml"),
    )
    assert_one_line_error(result, "found in 0 of 4 images", "--squares/--corners")


def test_charuco_board_needs_its_dictionary(tmp_path: Path) -> None:
    result = run_mocap(
        "calibrate", "--board", "charuco", "--squares", "5x7", "--square-size", "0.04", "--marker-size", "0.02",
        "--images", str(shared(CHARUCO)), "--output", str(tmp_path / "c.toml"),
    )
    assert_one_line_error(result, "--dictionary")


@pytest.mark.parametrize(("option", "value"), [("--every", "0"), ("--views", "1"), ("--interval", "0")])
def test_sampling_options_out_of_range(tmp_path: Path, option: str, value: str) -> None:
    """No views to take (every 0th frame, one view, no time between views) is refused up front."""
    output = tmp_path / "c.toml"
    result = run_mocap(
        "calibrate", "--board", "charuco", "--squares", "5x7", "--square-size", "0.04", "--marker-size", "0.02",
        "--dictionary", "DICT_6X6_250", "--images", str(shared(CHARUCO)), option, value, "--output", str(output),
    )
    assert result.returncode == 2
    assert f"Invalid value for '{option}'" in result.stderr
    assert not output.exists()


def test_views_can_come_from_a_video(tmp_path: Path) -> None:
    video = tmp_path / "board.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (640, 480))
    for path in sorted(shared(CHARUCO).glob("img_0*.jpg")):
        for _ in range(3):
            writer.write(cv2.imread(str(path)))
    writer.release()
    output = tmp_path / "video.toml"
    result = run_mocap(
        "calibrate", "--board", "charuco", "--squares", "5x7", "--square-size", "0.04", "--marker-size", "0.02",
        "--dictionary", "DICT_6X6_250", "--video", str(video), "--every", "3", "--output", str(output), "--no-progress",
    )
    assert result.returncode == 0, result.stderr
    assert "board in 4 of 4 views" in result.stdout
    assert load_calibration(output)[0].matrix[0, 0] == pytest.approx(452.51, rel=0.03)
