"""Every mistake a user can make gets one clear line, a non-zero exit and no traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import DEMO_VIDEO, REPO, assert_one_line_error, run_mocap


def test_missing_video(tmp_path: Path) -> None:
    assert_one_line_error(run_mocap("capture", "--video", str(tmp_path / "nope.mp4")), "video file not found", "nope.mp4")


def test_unreadable_video(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video")
    assert_one_line_error(run_mocap("capture", "--video", str(fake)), "cannot decode video", "convert")


def test_camera_that_does_not_open() -> None:
    assert_one_line_error(run_mocap("capture", "--camera", "9"), "camera 9 did not open", "--camera")


def test_image_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no images here")
    assert_one_line_error(run_mocap("capture", "--images", str(tmp_path)), "no images in", ".jpg")


def test_missing_image_folder(tmp_path: Path) -> None:
    assert_one_line_error(run_mocap("capture", "--images", str(tmp_path / "missing")), "image folder not found")


def test_unwritable_bvh_path(tmp_path: Path) -> None:
    target = tmp_path / "no_such_folder" / "take.bvh"
    assert_one_line_error(run_mocap("capture", "--video", str(DEMO_VIDEO), "--bvh", str(target)), "cannot write BVH file")


@pytest.mark.parametrize(("address", "needle"), [("127.0.0.1:notaport", "HOST:PORT"), ("127.0.0.1:70000", "from 1 to 65535"),
                                                ("127.0.0.1:", "HOST:PORT")])
def test_malformed_vmc_address(address: str, needle: str) -> None:
    assert_one_line_error(run_mocap("capture", "--video", str(DEMO_VIDEO), "--vmc", address), needle)


def test_no_source_chosen() -> None:
    assert_one_line_error(run_mocap("capture"), "choose one kind of source")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[vmc\naddress = 1", "not valid TOML"),
        ("[vmc]\nadress = '127.0.0.1:39539'", "unknown key 'adress' in [vmc]"),
        ("[filter]\nbody_beta = 'fast'", "body_beta has a value of the wrong type"),
        ("[nonsense]\nx = 1", "unknown section or key 'nonsense'"),
        # A cutoff of 0 Hz would freeze the body where it was first seen.
        ("[filter]\nbody_min_cutoff_hz = 0", "[filter] body_min_cutoff_hz must be above 0, not 0"),
        ("[multiview]\nroot_min_cutoff_hz = -1.0", "[multiview] root_min_cutoff_hz must be above 0"),
        ("[filter]\nmin_confidence = 1.5", "[filter] min_confidence must be at least 0 and at most 1"),
        ("[estimator]\nmodel_complexity = 3", "[estimator] model_complexity must be at least 0 and at most 2"),
    ],
)
def test_malformed_config(tmp_path: Path, text: str, needle: str) -> None:
    config = tmp_path / "mocap.toml"
    config.write_text(text)
    bvh = tmp_path / "take.bvh"
    result = run_mocap("capture", "--video", str(DEMO_VIDEO), "--config", str(config), "--bvh", str(bvh))
    assert_one_line_error(result, needle)
    assert not bvh.exists()


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["--fov", "0"], "--fov / [optics] horizontal_fov_deg must be at least 1 and at most 179, not 0.0"),
        (["--fov", "200"], "horizontal_fov_deg must be at least 1 and at most 179"),
        (["--camera-pitch", "120"], "--camera-pitch / [optics] pitch_deg must be at least -90 and at most 90"),
        (["--vmc-rate", "-5", "--vmc", "127.0.0.1:39539"], "--vmc-rate / [vmc] rate_hz must be at least 0"),
        (["--max-skew", "0"], "--max-skew / [multiview] max_skew_s must be above 0"),
        (["--fps", "-1"], "--fps / [source] fps must be above 0"),
    ],
)
def test_settings_out_of_range(options: list[str], needle: str) -> None:
    """Numbers no capture can use stop it with one line naming the option, not a traceback
    (a field of view of 0 divided by zero) or a silently wrong take."""
    assert_one_line_error(run_mocap("capture", "--video", str(DEMO_VIDEO), *options), needle)


def test_smoothing_asked_for_with_the_live_filters(tmp_path: Path) -> None:
    assert_one_line_error(run_mocap("solve", str(tmp_path / "take.npz"), "--bvh", str(tmp_path / "take.bvh"),
                                    "--live", "--smooth", "5"), "--smooth and --live contradict each other")


def test_missing_config(tmp_path: Path) -> None:
    assert_one_line_error(run_mocap("capture", "--config", str(tmp_path / "none.toml")), "config file not found")


def test_bad_calibration_file(tmp_path: Path) -> None:
    calib = tmp_path / "calib.toml"
    calib.write_text("[cam_0]\nname = 'c'\nmatrix = 'oops'\n")
    assert_one_line_error(run_mocap("capture", "--video", str(DEMO_VIDEO), "--calib", str(calib)), "calib.toml")


@pytest.mark.parametrize(("launcher", "stop_signal", "presses"), [
    ([], signal.SIGINT, 1),
    (["bash", "-c", 'trap "" INT; exec "$@"', "mocap"], signal.SIGINT, 1),
    ([], signal.SIGINT, 2),
    ([], signal.SIGTERM, 1),
    ([], signal.SIGHUP, 1),
], ids=["Ctrl-C from a terminal", "Ctrl-C from a script that ignores SIGINT", "Ctrl-C pressed twice",
        "SIGTERM from a service manager", "SIGHUP from a closed terminal"])
def test_a_stopped_capture_keeps_its_recordings(tmp_path: Path, launcher: list[str], stop_signal: int, presses: int) -> None:
    """Stopping a capture (SIGINT, SIGTERM, SIGHUP) leaves a complete, readable BVH and a
    finished landmarks file of what was captured, also when it was started by a program that
    ignores SIGINT, as a shell script does for what it starts in the background, and when Ctrl-C
    is pressed again while it stops."""
    from mocap.formats.landmarks_file import journal_path, load_landmarks

    bvh, landmarks = tmp_path / "take.bvh", tmp_path / "take.npz"
    process = subprocess.Popen(
        [*launcher, sys.executable, "-m", "mocap", "capture", "--video", str(DEMO_VIDEO), "--bvh", str(bvh),
         "--record-landmarks", str(landmarks), "--live", "--no-progress"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not bvh.exists() or "MOTION" not in bvh.read_text()):
        time.sleep(0.1)
    time.sleep(0.5)
    for _ in range(presses):   # a second press comes while the first is still stopping the capture
        process.send_signal(stop_signal)
        time.sleep(0.2)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + stop_signal, stdout + stderr
    assert stderr.splitlines() == [f"mocap: stopped by {signal.Signals(stop_signal).name}; BVH saved to {bvh}; "
                                   f"landmarks saved to {landmarks}"]
    text = bvh.read_text()
    motion = text.split("MOTION\n", 1)[1].splitlines()
    declared = int(motion[0].split(":")[1])
    rows = [line for line in motion[2:] if line.strip()]
    assert 0 < declared == len(rows) < 187
    channels = sum(int(line.split()[1]) for line in text.splitlines() if line.strip().startswith("CHANNELS"))
    assert all(len(row.split()) == channels for row in rows)
    assert not journal_path(landmarks).exists()
    assert declared <= load_landmarks(landmarks).frame_count < 187


def test_an_offline_capture_stopped_solves_what_it_captured(tmp_path: Path) -> None:
    """Offline work (a BVH from a file, nothing live) records first and solves after; stopped
    while recording, it still solves and writes every frame it recorded."""
    from mocap.formats.bvh import read_bvh
    from mocap.formats.landmarks_file import journal_path, load_landmarks

    bvh, landmarks = tmp_path / "take.bvh", tmp_path / "take.npz"
    process = subprocess.Popen(
        [sys.executable, "-m", "mocap", "capture", "--video", str(DEMO_VIDEO), "--bvh", str(bvh),
         "--record-landmarks", str(landmarks), "--no-progress"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not journal_path(landmarks).exists():
        time.sleep(0.1)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stdout + stderr
    assert stderr.splitlines() == [f"mocap: stopped by SIGTERM; BVH saved to {bvh}; landmarks saved to {landmarks}"]
    recorded = load_landmarks(landmarks).frame_count
    assert 0 < recorded < 187
    assert len(read_bvh(bvh).motion) == recorded


def test_unwritable_landmarks_and_calibration_paths(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_folder"
    result = run_mocap("capture", "--video", str(DEMO_VIDEO), "--record-landmarks", str(missing / "take.npz"))
    assert_one_line_error(result, "cannot write landmarks file", "choose another path")
    result = run_mocap("calibrate", "--board", "checkerboard", "--corners", "9x6", "--square-size", "0.025",
                       "--images", str(tmp_path), "--output", str(missing / "calib.toml"))
    assert_one_line_error(result, "cannot write calibration file")


def test_a_pose_model_that_fails_to_load_leaves_earlier_takes_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MediaPipe starts before any output is opened: when its model cannot be had (the heavy
    model offline, before `mocap models`), the BVH and landmarks of an earlier take at the same
    paths are still there."""
    from mocap.app import session as capture
    from mocap.app.config import CaptureConfig
    from mocap.core.errors import MocapError

    def model_unavailable(**settings: object) -> None:
        raise MocapError("MediaPipe could not download its heavy pose model: run `mocap models`")

    monkeypatch.setattr(capture, "MediaPipePoseEstimator", model_unavailable)
    bvh, landmarks = tmp_path / "take.bvh", tmp_path / "take.npz"
    bvh.write_text("yesterday's take")
    landmarks.write_bytes(b"yesterday's landmarks")
    config = replace(CaptureConfig().with_overrides({
        "source": {"video": str(DEMO_VIDEO)}, "bvh": {"path": str(bvh)}, "estimator": {"model_complexity": 2},
    }), record_landmarks=str(landmarks))
    with pytest.raises(MocapError, match="mocap models"):
        capture.run_capture(config, progress=False)
    assert bvh.read_text() == "yesterday's take"
    assert landmarks.read_bytes() == b"yesterday's landmarks"


@pytest.mark.parametrize(("outputs", "needle"), [
    ({"bvh": {"path": "{tmp}/missing/take.bvh"}}, "cannot write BVH file"),
    ({"vmc": {"address": "127.0.0.1:99999"}}, "port 99999 is out of range"),
    ({"rig": {"path": "{tmp}/avatar.vrm"}}, "rig file not found"),
    ({"rig": {"path": "{tmp}/notes.vrm"}}, "not a whole glTF/VRM file"),
    ({"virtual_camera": {"show": "avatar"}}, "no virtual camera"),   # no v4l2loopback device here
], ids=["bvh folder", "vmc port", "rig missing", "rig unreadable", "no virtual camera"])
def test_outputs_and_rig_are_checked_before_the_model_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           outputs: dict, needle: str) -> None:
    """A mistake in an output option is reported at once, not after MediaPipe has loaded."""
    from mocap.app import session as capture
    from mocap.app.config import CaptureConfig
    from mocap.core.errors import MocapError

    def model_loaded(**settings: object) -> None:
        raise AssertionError("MediaPipe was started before the outputs were checked")

    monkeypatch.setattr(capture, "MediaPipePoseEstimator", model_loaded)
    (tmp_path / "notes.vrm").write_text("not a model")
    overrides = {section: {key: value.replace("{tmp}", str(tmp_path)) for key, value in settings.items()}
                 for section, settings in outputs.items()}
    config = CaptureConfig().with_overrides({"source": {"video": str(DEMO_VIDEO)}, **overrides})
    with pytest.raises(MocapError, match=needle):
        capture.run_capture(config, progress=False)
