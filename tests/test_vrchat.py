"""VRChat OSC trackers as VRChat receives them, beside the plain schema from the same solve."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import DEMO_CALIBRATION, REPO, DemoCapture, UdpReceiver, assert_one_line_error, run_mocap
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from scipy.spatial.transform import Rotation
from test_osc_schema import ARMS_OUT_FRAMES, decode_schema

from mocap.sinks.vrchat import TRACKERS


def _unity_euler_matrix(x_deg: float, y_deg: float, z_deg: float) -> np.ndarray:
    """Unity's Quaternion.Euler(x, y, z) as a matrix, written out: z about Z, then x about X,
    then y about Y (each about the fixed axes)."""
    x, y, z = np.radians([x_deg, y_deg, z_deg])
    about_x = np.array([[1, 0, 0], [0, np.cos(x), -np.sin(x)], [0, np.sin(x), np.cos(x)]])
    about_y = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    about_z = np.array([[np.cos(z), -np.sin(z), 0], [np.sin(z), np.cos(z), 0], [0, 0, 1]])
    return about_y @ about_x @ about_z


def decode_trackers(datagrams: list[bytes]) -> list[dict[str, np.ndarray]]:
    """One dict a frame (a bundle each): address -> its three floats."""
    frames = []
    for datagram in datagrams:
        values = {}
        for message in OscBundle(datagram):
            assert isinstance(message, OscMessage)
            assert len(message.params) == 3 and all(isinstance(v, float) for v in message.params)
            values[message.address] = np.array(message.params)
        frames.append(values)
    return frames


@pytest.fixture(scope="module")
def side_by_side(demo_capture: DemoCapture):
    """The demo recording solved once to VRChat trackers and to the plain schema in Unity axes."""
    trackers, schema = UdpReceiver(), UdpReceiver()
    result = run_mocap("solve", str(demo_capture.landmarks_path), "--calib", str(DEMO_CALIBRATION),
                       "--vrchat", f"127.0.0.1:{trackers.port}", "--osc", f"127.0.0.1:{schema.port}", "--no-progress")
    assert result.returncode == 0, result.stderr
    return decode_trackers(trackers.stop()), decode_schema(schema.stop())


def test_every_tracker_is_the_solved_joint_and_its_euler_angles_rebuild_its_rotation(side_by_side) -> None:
    trackers, schema = side_by_side
    assert len(trackers) == 187 and len(schema) == 187
    for number, frame in enumerate(trackers, start=1):
        assert len(frame) == 18
        joints, bones = schema[number]["joints"], schema[number]["bones"]
        for tracker, bone in [*TRACKERS.items(), ("head", "Head")]:
            np.testing.assert_allclose(frame[f"/tracking/trackers/{tracker}/position"], joints[bone], atol=1e-5)
            rebuilt = _unity_euler_matrix(*frame[f"/tracking/trackers/{tracker}/rotation"])
            np.testing.assert_allclose(rebuilt, Rotation.from_quat(bones[bone]).as_matrix(), atol=1e-4, err_msg=str(tracker))


def test_trackers_sit_where_a_body_has_them(side_by_side) -> None:
    """Feet below knees below the hip, chest above it, head on top; with the arms out, each
    elbow to the performer's own side (Unity: left is -X)."""
    trackers, _ = side_by_side
    for index in ARMS_OUT_FRAMES:
        y = {t: trackers[index][f"/tracking/trackers/{t}/position"][1] for t in (1, 2, 3, 4, 5, 6, "head")}
        assert y[3] < y[5] < y[1] < y[2] < y["head"] and y[4] < y[6] < y[1]
        hip_x = trackers[index]["/tracking/trackers/1/position"][0]
        assert trackers[index]["/tracking/trackers/7/position"][0] < hip_x - 0.15 < hip_x + 0.15 < \
            trackers[index]["/tracking/trackers/8/position"][0]


def test_sigusr1_recentres_the_trackers_under_the_hips(demo_capture: DemoCapture) -> None:
    """`kill -USR1` during a capture: from the next frame the hip tracker stands at x = z = 0
    (the floor kept), facing forward."""
    receiver = UdpReceiver()
    process = subprocess.Popen(
        [sys.executable, "-m", "mocap", "capture", "--video", str(DEMO_CALIBRATION.parent / "bodypose3d_cam0_test.mp4"),
         "--realtime", "--vrchat", f"127.0.0.1:{receiver.port}", "--no-progress"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(receiver.datagrams) < 60:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGUSR1)
    stdout, stderr = process.communicate(timeout=60)
    frames = decode_trackers(receiver.stop())
    assert process.returncode == 0, stderr
    hips = np.array([frame["/tracking/trackers/1/position"] for frame in frames])
    recentred = np.flatnonzero(np.abs(hips[1:, [0, 2]]).max(axis=1) < 1e-4) + 1   # the first frame starts at 0
    assert len(recentred) == 1 and recentred[0] >= 60   # exactly the frame after the signal
    assert hips[recentred[0], 1] > 0.5                  # the floor stays where it was
    assert np.abs(hips[:recentred[0], [0, 2]]).max() > 0.05


def test_a_vrchat_port_out_of_range_is_one_line() -> None:
    assert_one_line_error(run_mocap("capture", "--video", "x.mp4", "--vrchat", "127.0.0.1:0"), "port 0 is out of range")
