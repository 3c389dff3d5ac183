"""The preview window on a real (virtual) X display: it opens, draws the skeleton, and q stops
the capture with the recording kept. The take viewer (`mocap view`) in the same way: keys step,
play and quit it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import DEMO_CALIBRATION, DEMO_VIDEO, REPO, DemoCapture, assert_one_line_error, run_mocap, shared, unavailable

from mocap.core.conventions import FACE_IRIS_CENTRES
from mocap.display.preview import HAND_COLOURS_BGR, IRIS_COLOUR_BGR, WINDOW_TITLE, draw_skeleton
from mocap.display.viewer import LIVE_TITLE, VIEWER_TITLE
from mocap.estimation.mediapipe_pose import MediaPipePoseEstimator
from mocap.formats.bvh import read_bvh
from mocap.sources.frame_sources import VideoFileSource


def test_the_skeleton_is_drawn_over_the_image() -> None:
    with VideoFileSource(DEMO_VIDEO) as source:
        frame = [f for f, _ in zip(source, range(120))][-1]        # arms out
    with MediaPipePoseEstimator() as estimator:
        observation = estimator.estimate(frame)
    image = cv2.cvtColor(frame.image_rgb, cv2.COLOR_RGB2BGR)
    drawn = draw_skeleton(image, observation)
    changed = np.any(drawn != image, axis=2)
    x, y = observation.keypoints[11, :2].astype(int)              # the left shoulder's dot
    assert changed[y - 2:y + 3, x - 2:x + 3].all()
    assert 0.002 < changed.mean() < 0.2                            # lines and dots, not the whole image


def test_the_hands_and_face_are_drawn_over_the_image() -> None:
    """A real upper-body frame with its hand raised: the fingers' lines reach the index tip, the
    irises get their circles, and nothing is drawn for the hand not seen."""
    with VideoFileSource(shared("hands/video/gesture_recognizer_android_test_video_thumbs_up.mp4")) as source:
        frames = [f for f, _ in zip(source, range(150))]          # up to the thumbs-up
    with MediaPipePoseEstimator(hands=True, face=True) as estimator:   # tracking mode, as in a capture
        observation = [estimator.estimate(frame) for frame in frames][-1]
    frame = frames[-1]
    assert observation.hands_px is not None and observation.face_px is not None
    assert np.isnan(observation.hands_px[0]).all() and np.isfinite(observation.hands_px[1]).all()
    image = np.zeros_like(cv2.cvtColor(frame.image_rgb, cv2.COLOR_RGB2BGR))
    drawn = draw_skeleton(image, replace(observation, keypoints=np.full((33, 3), np.nan)))   # hands and face only
    x, y = observation.hands_px[1, 8, :2].astype(int)              # the right index fingertip
    assert (drawn[y - 2:y + 3, x - 2:x + 3] == HAND_COLOURS_BGR[1]).all(axis=2).any()
    x, y = observation.face_px[FACE_IRIS_CENTRES[0], :2].astype(int)
    radius = int(np.linalg.norm(observation.face_px[FACE_IRIS_CENTRES[0] + 1, :2] - observation.face_px[FACE_IRIS_CENTRES[0], :2]))
    assert (drawn[y, x - radius - 1:x + radius + 2] == IRIS_COLOUR_BGR).all(axis=1).any()
    assert not (drawn == HAND_COLOURS_BGR[0]).all(axis=2).any()


@pytest.fixture
def display() -> str:
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        unavailable("Xvfb and xdotool are needed (make test installs them)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x1024x24"],
                              pass_fds=(write_end,), stderr=subprocess.DEVNULL)
    os.close(write_end)
    written = b""
    while not written.endswith(b"\n"):   # Xvfb dies if the pipe closes before its newline is written
        chunk = os.read(read_end, 16)
        if not chunk:
            pytest.fail("Xvfb did not start")
        written += chunk
    os.close(read_end)
    number = written.decode().strip()
    yield f":{number}"
    server.terminate()
    server.wait()


def press_in_window(process: subprocess.Popen[str], title: str, display: str, keys: list[str]) -> None:
    """Waits for the window titled ``title`` to appear on ``display``, then presses ``keys`` in it."""
    environment = {**os.environ, "DISPLAY": display}
    window = ""
    deadline = time.monotonic() + 60
    while not window and time.monotonic() < deadline and process.poll() is None:
        search = subprocess.run(["xdotool", "search", "--name", re.escape(title)], env=environment, capture_output=True, text=True)
        window = search.stdout.split()[0] if search.stdout.split() else ""
        time.sleep(0.2)
    assert window, f"the window {title!r} never appeared"
    time.sleep(1.0)
    subprocess.run(["xdotool", "windowfocus", "--sync", window], env=environment, capture_output=True)  # no window manager
    for key in keys:
        subprocess.run(["xdotool", "key", key], env=environment, capture_output=True)
        time.sleep(0.3)


def test_q_in_the_preview_window_stops_and_keeps_the_recording(display: str, tmp_path: Path) -> None:
    bvh = tmp_path / "take.bvh"
    capture = subprocess.Popen(
        [sys.executable, "-m", "mocap", "capture", "--video", str(DEMO_VIDEO), "--calib", str(DEMO_CALIBRATION),
         "--preview", "--bvh", str(bvh), "--no-progress"],
        cwd=REPO, env={**os.environ, "DISPLAY": display}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    press_in_window(capture, WINDOW_TITLE, display, ["q"])
    _, stderr = capture.communicate(timeout=60)
    assert capture.returncode == 130, stderr
    assert "BVH saved to" in stderr
    frames = len(read_bvh(bvh).motion)
    assert 0 < frames < 187                                        # stopped early, what was captured is kept


@pytest.mark.parametrize(("keys", "shown_last"), [
    (["d", "d", "d", "Right", "a", "q"], "frame 3 of 187 shown last, the camera 0 degrees"),
    (["d", "3", "Escape"], "frame 1 of 187 shown last, the camera 180 degrees"),
    (["2", "l", "l", "j", "j", "j", "q"], "frame 0 of 187 shown last, the camera 75 degrees"),
], ids=["step on and back", "to the back then quit", "round by 15 degrees"])
def test_the_take_viewer_steps_and_quits_on_its_keys(display: str, demo_capture: DemoCapture, keys: list[str],
                                                     shown_last: str) -> None:
    """`mocap view` opens paused on the first frame; d and the right arrow step on, a steps back,
    a number puts the camera on a side and j/l walk it round by 15 degrees without moving in the
    take, q and Esc quit."""
    viewer = subprocess.Popen([sys.executable, "-m", "mocap", "view", str(demo_capture.bvh_path), "--width", "640",
                               "--height", "360"], cwd=REPO, env={**os.environ, "DISPLAY": display},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    press_in_window(viewer, VIEWER_TITLE, display, keys)
    stdout, stderr = viewer.communicate(timeout=60)
    assert viewer.returncode == 0, stderr
    assert shown_last in stdout


def test_the_take_viewer_plays_on_space(display: str, demo_capture: DemoCapture) -> None:
    """Space plays the take at its own rate until pressed again."""
    viewer = subprocess.Popen([sys.executable, "-m", "mocap", "view", str(demo_capture.bvh_path), "--width", "640",
                               "--height", "360"], cwd=REPO, env={**os.environ, "DISPLAY": display},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    press_in_window(viewer, VIEWER_TITLE, display, ["space"])
    time.sleep(1.0)
    press_in_window(viewer, VIEWER_TITLE, display, ["space", "q"])
    stdout, stderr = viewer.communicate(timeout=60)
    assert viewer.returncode == 0, stderr
    shown = int(stdout.split("frame ")[1].split()[0])
    assert 10 <= shown < 187, stdout     # at least a second at 20 frames a second, less than the whole take


def test_q_in_the_live_view_stops_a_capture_drawing_the_avatar(display: str, tmp_path: Path) -> None:
    """`mocap capture --viewer --rig` opens the live 3D view of the avatar beside the capture; q in
    it stops the capture as Ctrl-C would, the recording kept."""
    bvh = tmp_path / "take.bvh"
    capture = subprocess.Popen(
        [sys.executable, "-m", "mocap", "capture", "--video", str(DEMO_VIDEO), "--calib", str(DEMO_CALIBRATION),
         "--viewer", "--rig", str(shared("rigs/vrm/Godette_vrm_v4.vrm")), "--bvh", str(bvh), "--no-progress"],
        cwd=REPO, env={**os.environ, "DISPLAY": display}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    press_in_window(capture, LIVE_TITLE, display, ["q"])
    _, stderr = capture.communicate(timeout=60)
    assert capture.returncode == 130, stderr
    assert 0 < len(read_bvh(bvh).motion) < 187


def test_the_take_viewer_without_a_display_says_so_in_one_line(demo_capture: DemoCapture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert_one_line_error(run_mocap("view", str(demo_capture.bvh_path)), "no display", "mocap render")
