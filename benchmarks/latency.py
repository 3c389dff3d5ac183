"""Latency of the live path: `mocap capture --video FILE --realtime` (frames delivered on the
wall clock as a camera delivers them, stale ones dropped) with VMC to a loopback receiver.

Runs the capture ``--runs`` times and prints, per span, the median over runs of its p50, p95
and p99 (milliseconds), and the frames dropped. The spans (docs/accuracy-and-performance.md):
inference (capture to landmarks), the pipeline's own work after inference (to the solved pose,
and to the VMC datagrams leaving), and capture to VMC sent. The filters' own delay is motion
lag, not processing time, and is measured in frames by benchmarks/retarget_accuracy.py.

    .venv/bin/python benchmarks/latency.py [--video FILE] [--runs 3] [--model-complexity 1]
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "demo"
SPAN_LINE = re.compile(r"^  ([a-zA-Z ]+): ([\d.]+)/([\d.]+)/([\d.]+) ms", re.MULTILINE)


def one_run(video: Path, calibration: Path, complexity: int, port: int) -> tuple[dict[str, tuple[float, ...]], int]:
    """Each span's (p50, p95, p99) in ms and the frames dropped, from one capture's summary."""
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [sys.executable, "-m", "mocap", "capture", "--video", str(video), "--realtime", "--calib", str(calibration),
             "--model-complexity", str(complexity), "--vmc", f"127.0.0.1:{port}",
             "--bvh", str(Path(folder) / "take.bvh"), "--no-progress"],
            cwd=REPO, capture_output=True, text=True,
        )
    if result.returncode != 0:
        sys.exit(result.stderr)
    spans = {name: tuple(float(v) for v in values) for name, *values in SPAN_LINE.findall(result.stdout)}
    dropped = re.search(r"Dropped (\d+) frames", result.stdout)
    return spans, int(dropped.group(1)) if dropped else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, default=DEMO / "bodypose3d_cam0_test.mp4")
    parser.add_argument("--calib", type=Path, default=DEMO / "demo_camera.toml")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model-complexity", type=int, default=1, choices=(0, 1, 2))
    args = parser.parse_args()

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    runs = [one_run(args.video, args.calib, args.model_complexity, receiver.getsockname()[1]) for _ in range(args.runs)]
    receiver.close()
    print(f"{args.video.name} in real time, MediaPipe model complexity {args.model_complexity}, {args.runs} runs "
          "(median over runs of each percentile), ms:")
    print(f"  {'span':<30}{'p50':>8}{'p95':>8}{'p99':>8}")
    for name in runs[0][0]:
        values = np.median([spans[name] for spans, _ in runs], axis=0)
        print(f"  {name:<30}" + "".join(f"{v:8.1f}" for v in values))
    print("  frames dropped per run: " + ", ".join(str(dropped) for _, dropped in runs))


if __name__ == "__main__":
    main()
