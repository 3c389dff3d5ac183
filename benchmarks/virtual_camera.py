"""What drawing the avatar costs: `mocap render`'s milliseconds a frame, and capture's speed with
`--virtual-camera` against without, in the same run.

Render: the demo clip's BVH (captured first) drawn by :class:`~mocap.display.scene_view.SceneView`
at each size, median milliseconds a frame over the take. Capture: `run_capture` on the demo
clip played ``--repeat`` times, without and then with ``--virtual-camera avatar`` (1280x720,
30 fps), ``--rounds`` times in turn; frames/s are the summary's (start-up excluded). No
v4l2loopback device exists on a machine without one, so the device is a null one that takes
each frame as pyvirtualcam's would (a copy of the picture): the figures are ours, not the driver's.

    .venv/bin/python benchmarks/virtual_camera.py [--repeat 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyvirtualcam

from mocap.app.config import CaptureConfig
from mocap.app.console import quiet_native_logs
from mocap.app.session import run_capture
from mocap.display.render_take import bvh_take
from mocap.display.scene_view import SceneView, ViewSettings, framing_camera

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_speed import DEMO, repeated_video  # noqa: E402


class NullDevice:
    """pyvirtualcam's Camera where no device exists: keeps nothing but a copy of the last frame."""

    def __init__(self, width: int, height: int, fps: float, **options: object) -> None:
        self.device = "null device"
        self._frame = np.zeros((height, width, 3), dtype=np.uint8)

    def send(self, frame: np.ndarray) -> None:
        self._frame[:] = frame

    def close(self) -> None:
        pass


def render_ms(bvh: Path, size: tuple[int, int]) -> float:
    take = bvh_take(bvh)
    settings = ViewSettings(*size)
    target = np.array([0.0, 0.9, 0.0])
    view = SceneView(take.names, take.parents, framing_camera(settings, target, 2.0), settings, target)
    times = []
    for positions in take.positions_m:
        start = time.perf_counter()
        view.draw(positions)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    quiet_native_logs()
    pyvirtualcam.Camera = NullDevice
    calibration = str(DEMO / "demo_camera.toml")
    with tempfile.TemporaryDirectory() as folder:
        bvh = Path(folder) / "demo.bvh"
        base = CaptureConfig().with_overrides({"source": {"video": str(DEMO / "bodypose3d_cam0_test.mp4")},
                                               "optics": {"calib": calibration}, "bvh": {"path": str(bvh)}})
        run_capture(base, progress=False)
        for size in ((1280, 720), (1920, 1080), (640, 360)):
            print(f"render, skeleton, {size[0]}x{size[1]}: {render_ms(bvh, size):.2f} ms a frame (median over the demo take)")
        video, frames = repeated_video(DEMO / "bodypose3d_cam0_test.mp4", args.repeat, Path(folder))
        plain = CaptureConfig().with_overrides({"source": {"video": str(video)}, "optics": {"calib": calibration},
                                                "vmc": {"address": "127.0.0.1:39539"}})
        with_camera = plain.with_overrides({"virtual_camera": {"show": "avatar"}})
        without, with_ = [], []
        for _ in range(args.rounds):
            without.append(run_capture(plain, progress=False)[0].fps)
            with_.append(run_capture(with_camera, progress=False)[0].fps)
    print(f"capture of {frames} frames with VMC, frames/s (median of {args.rounds} rounds): without the virtual camera "
          f"{np.median(without):.1f}, with --virtual-camera avatar 1280x720 {np.median(with_):.1f}; ratio "
          f"{np.median(with_) / np.median(without):.2f} (each round: "
          + ", ".join(f"{w / o:.2f}" for o, w in zip(without, with_)) + ")")


if __name__ == "__main__":
    main()
