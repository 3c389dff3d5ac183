"""Calibration TOML: our own files round-trip; Pose2Sim's converted calibration reads."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_CALIBRATION, shared

from mocap.app.config import CaptureConfig
from mocap.app.session import calibrated_cameras, cameras_named_in
from mocap.cameras.camera_model import CameraModel
from mocap.core.errors import MocapError
from mocap.formats.calibration_file import load_calibration, save_calibration


def test_round_trip(tmp_path: Path) -> None:
    cameras = load_calibration(DEMO_CALIBRATION)
    save_calibration(tmp_path / "copy.toml", cameras)
    again = load_calibration(tmp_path / "copy.toml")
    assert [c.name for c in again] == [c.name for c in cameras]
    assert np.allclose(again[0].matrix, cameras[0].matrix) and np.allclose(again[0].distortion, cameras[0].distortion)
    assert np.degrees((again[0].rotation.inv() * cameras[0].rotation).magnitude()) < 1e-9
    assert np.allclose(again[0].translation_m, cameras[0].translation_m)


def test_any_camera_name_round_trips(tmp_path: Path) -> None:
    """Names with quotes, backslashes and non-ASCII letters (a webcam's own name) read back."""
    camera = replace(load_calibration(DEMO_CALIBRATION)[0], name='Logitech "Brio" \\ gauche é')
    save_calibration(tmp_path / "named.toml", [camera, replace(camera, name="cam[1]")])
    assert [c.name for c in load_calibration(tmp_path / "named.toml")] == ['Logitech "Brio" \\ gauche é', "cam[1]"]


def test_reads_pose2sim_calibration() -> None:
    cameras = load_calibration(shared("multiview_pose2sim/calibration/Calib_qualisys_converted.toml"))
    assert [c.name for c in cameras] == ["cam_01", "cam_02", "cam_03", "cam_04"]
    assert cameras[0].image_size == (1088, 1920)
    assert abs(cameras[0].matrix[0, 0] - 1681.24) < 0.01


def test_intrinsics_scale_with_resolution() -> None:
    camera = CameraModel.from_field_of_view((1280, 720), 60.0)
    half = camera.scaled_to((640, 360))
    assert np.isclose(half.matrix[0, 0], camera.matrix[0, 0] / 2) and np.isclose(half.matrix[1, 2], 180.0)


POSE2SIM_CALIB = "multiview_pose2sim/calibration/Calib_qualisys_converted.toml"


def _chosen_cameras(videos: list[str], calib_camera: list[str] | None = None) -> list[str]:
    config = CaptureConfig().with_overrides({
        "source": {"video": videos}, "optics": {"calib": str(shared(POSE2SIM_CALIB)), "calib_camera": calib_camera},
    })
    cameras = calibrated_cameras(config, len(videos))
    assert cameras is not None
    return [camera.name for camera in cameras]


def test_video_names_say_which_calibration_camera_they_are() -> None:
    assert _chosen_cameras(["videos/cam03.mp4", "videos/cam02.mp4"]) == ["cam_03", "cam_02"]
    assert _chosen_cameras(["take1_Cam4.avi", "take1_cam_1.mkv"]) == ["cam_04", "cam_01"]
    assert _chosen_cameras(["left.mp4", "right.mp4"], ["cam_02", "cam_03"]) == ["cam_02", "cam_03"]
    assert _chosen_cameras(["a.mp4", "b.mp4", "c.mp4", "d.mp4"]) == ["cam_01", "cam_02", "cam_03", "cam_04"]
    assert cameras_named_in(["cam01.mp4", "CAM_01.mp4"], ["cam_01", "cam_02"]) is None   # both name one camera
    assert cameras_named_in(["cam12.mp4"], ["cam_01", "cam_02"]) is None


def test_fewer_videos_than_calibration_cameras_are_never_paired_by_position() -> None:
    with pytest.raises(MocapError, match=r"holds 4 cameras \(cam_01, cam_02, cam_03, cam_04\) for 2 source.*--calib-camera"):
        _chosen_cameras(["left.mp4", "right.mp4"])
