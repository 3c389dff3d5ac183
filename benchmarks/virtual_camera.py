"""What drawing the avatar costs: `mocap render`'s milliseconds a frame, and capture's speed with
`--virtual-camera` against without, in the same run.

Render: the demo clip's BVH (captured first) drawn as the skeleton and as Godette's own mesh
(``--rig``, ../shared/data) at each size, median milliseconds a frame over the take (posing and
skinning the mesh included). Capture: `run_capture` on the demo clip played ``--repeat`` times,
without, with ``--virtual-camera avatar`` (1280x720, 30 fps), and with it drawing Godette,
``--rounds`` times in turn; frames/s are the summary's (start-up excluded). No
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
from mocap.display.avatar_mesh import AvatarPoser, load_avatar
from mocap.display.render_take import bvh_take, staged
from mocap.display.scene_view import ViewSettings
from mocap.retargeting.rigs import load_rig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_speed import DEMO, repeated_video  # noqa: E402

GODETTE = Path(__file__).resolve().parents[2] / "shared" / "data" / "rigs" / "vrm" / "Godette_vrm_v4.vrm"


class NullDevice:
    """pyvirtualcam's Camera where no device exists: keeps nothing but a copy of the last frame."""

    def __init__(self, width: int, height: int, fps: float, **options: object) -> None:
        self.device = "null device"
        self._frame = np.zeros((height, width, 3), dtype=np.uint8)

    def send(self, frame: np.ndarray) -> None:
        self._frame[:] = frame

    def close(self) -> None:
        pass


def render_ms(bvh: Path, size: tuple[int, int], avatar: AvatarPoser | None) -> float:
    """Median milliseconds a frame to draw the take (the skeleton, or ``avatar`` posed and skinned)."""
    stage = staged(bvh_take(bvh), avatar)
    view = stage.view(ViewSettings(*size))
    times = []
    for frame in range(len(stage.positions_m)):
        start = time.perf_counter()
        stage.picture(view, frame)
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
        avatar = load_avatar(load_rig(GODETTE), GODETTE)
        for size in ((1280, 720), (1920, 1080), (640, 360)):
            for name, drawn in (("skeleton", None), ("Godette", avatar)):
                print(f"render, {name}, {size[0]}x{size[1]}: {render_ms(bvh, size, drawn):.2f} ms a frame "
                      "(median over the demo take)")
        video, frames = repeated_video(DEMO / "bodypose3d_cam0_test.mp4", args.repeat, Path(folder))
        plain = CaptureConfig().with_overrides({"source": {"video": str(video)}, "optics": {"calib": calibration},
                                                "vmc": {"address": "127.0.0.1:39539"}})
        with_camera = plain.with_overrides({"virtual_camera": {"show": "avatar"}})
        with_avatar = with_camera.with_overrides({"rig": {"path": str(GODETTE)}})
        runs: dict[str, list[float]] = {"without": [], "skeleton": [], "Godette": []}
        for _ in range(args.rounds):
            for name, config in (("without", plain), ("skeleton", with_camera), ("Godette", with_avatar)):
                runs[name].append(run_capture(config, progress=False)[0].fps)
    print(f"capture of {frames} frames with VMC, frames/s (median of {args.rounds} rounds):")
    for name in ("skeleton", "Godette"):
        print(f"  --virtual-camera avatar 1280x720 drawing the {name}: {np.median(runs[name]):.1f} against "
              f"{np.median(runs['without']):.1f} without; ratio {np.median(runs[name]) / np.median(runs['without']):.2f} "
              "(each round: " + ", ".join(f"{w / o:.2f}" for o, w in zip(runs["without"], runs[name])) + ")")


if __name__ == "__main__":
    main()
