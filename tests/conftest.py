"""Shared fixtures: paths to real data, and one real capture of the demo clip over loopback."""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import numpy as np
import pytest

from mocap.core.conventions import LANDMARK_INDEX, POSE_LANDMARK_NAMES

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
DEMO_VIDEO = REPO / "examples" / "demo" / "bodypose3d_cam0_test.mp4"
DEMO_CALIBRATION = REPO / "examples" / "demo" / "demo_camera.toml"
DEMO_FPS = 20.0


IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str, *, module_level: bool = False) -> NoReturn:
    """Skip a test (or with ``module_level``, a whole test module) whose real data or component is
    not on this machine; under CI (``CI=true``), where `make test` installs everything, fail
    instead, so nothing is skipped silently."""
    if IN_CI:
        pytest.fail(f"{reason} (CI runs every test: `make test` must provide it)", pytrace=False)
    pytest.skip(reason, allow_module_level=module_level)


def import_or_unavailable(module: str, reason: str) -> ModuleType:
    """The module, or :func:`unavailable` (at a test module's top level)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        unavailable(f"{module} cannot be imported: {reason}", module_level=True)


def shared(relative: str) -> Path:
    """A file or folder of ../shared/data."""
    path = SHARED_DATA / relative
    if not path.exists():
        unavailable(f"shared test data not present: {path}")
    return path


# A performer standing with arms out, internal frame (left +X, up +Y, facing +Z), metres.
_LEFT_SIDE = {
    "eye_inner": (0.02, 1.62, 0.09), "eye": (0.035, 1.62, 0.085), "eye_outer": (0.05, 1.62, 0.08),
    "ear": (0.08, 1.6, 0.0), "mouth": (0.025, 1.53, 0.09), "shoulder": (0.18, 1.45, 0.0),
    "elbow": (0.46, 1.45, 0.0), "wrist": (0.71, 1.45, 0.0), "pinky": (0.79, 1.44, -0.02),
    "index": (0.8, 1.45, 0.02), "thumb": (0.76, 1.45, 0.04), "hip": (0.1, 0.9, 0.0),
    "knee": (0.11, 0.49, 0.02), "ankle": (0.11, 0.08, 0.0), "heel": (0.11, 0.03, -0.05),
    "foot_index": (0.12, 0.0, 0.16),
}


def standing_body() -> np.ndarray:
    """The 33 BlazePose landmarks (33, 3) of that performer, metres."""
    joints = np.zeros((len(POSE_LANDMARK_NAMES), 3))
    joints[LANDMARK_INDEX["nose"]] = (0.0, 1.58, 0.11)
    for part, (x, y, z) in _LEFT_SIDE.items():
        name = "mouth_left" if part == "mouth" else f"left_{part}"
        twin = "mouth_right" if part == "mouth" else f"right_{part}"
        joints[LANDMARK_INDEX[name]] = (x, y, z)
        joints[LANDMARK_INDEX[twin]] = (-x, y, z)
    return joints


def run_mocap(*args: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    """The real command line, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "mocap", *args], capture_output=True, text=True, timeout=timeout_s, cwd=REPO
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit code 2 and one line on stderr besides a progress bar, a 'mocap: error:' line
    containing every needle (no traceback, no native library's log lines)."""
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip() and "%|" not in line]
    assert len(errors) == 1 and errors[0].startswith("mocap: error:"), result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


class UdpReceiver:
    """A real UDP socket on loopback collecting every datagram until stopped."""

    def __init__(self, port: int = 0) -> None:
        """``port``: 0 for any free one."""
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.socket.bind(("127.0.0.1", port))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.datagrams: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                self.datagrams.append(self.socket.recv(65536))
            except TimeoutError:
                continue

    def stop(self) -> list[bytes]:
        """Every datagram received, including those still queued in the socket when stopped."""
        self._stop.set()
        self._thread.join()
        self.socket.setblocking(False)
        while True:
            try:
                self.datagrams.append(self.socket.recv(65536))
            except BlockingIOError:
                break
        self.socket.close()
        return self.datagrams


@dataclass
class DemoCapture:
    result: subprocess.CompletedProcess[str]
    datagrams: list[bytes]
    bvh_path: Path
    landmarks_path: Path


@pytest.fixture(scope="session")
def demo_capture(tmp_path_factory: pytest.TempPathFactory) -> DemoCapture:
    """`mocap capture` on the demo clip, VMC to a loopback receiver, BVH and landmarks to temp files."""
    folder = tmp_path_factory.mktemp("capture")
    bvh_path, landmarks_path = folder / "demo.bvh", folder / "demo.npz"
    receiver = UdpReceiver()
    result = run_mocap(
        "capture", "--video", str(DEMO_VIDEO), "--calib", str(DEMO_CALIBRATION),
        "--vmc", f"127.0.0.1:{receiver.port}", "--bvh", str(bvh_path), "--record-landmarks", str(landmarks_path),
        "--no-progress",
    )
    datagrams = receiver.stop()
    assert result.returncode == 0, result.stderr
    return DemoCapture(result, datagrams, bvh_path, landmarks_path)
