"""Pipeline speed against bare MediaPipe on the same decoded frames, in one run.

Prints: bare MediaPipe Pose frames/s, full pipeline frames/s (estimation, lifting,
filtering, solving, VMC over loopback UDP and BVH to a temp file), their ratio, the
pipeline's per-stage milliseconds, and the peak memory of a real `mocap capture` run.

    .venv/bin/python benchmarks/pipeline_speed.py [--video FILE] [--repeat N]
"""

from __future__ import annotations

import argparse
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mocap.app.config import CaptureConfig
from mocap.app.session import (
    build_pipeline,
    calibrated_cameras,
    make_estimator,
    make_lifter,
    open_sinks,
)
from mocap.estimation.mediapipe_pose import MediaPipePoseEstimator
from mocap.sources.frame_sources import VideoFileSource, decode_all

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "demo"


def bare_mediapipe_fps(frames: list) -> float:
    """One pass of a fresh MediaPipe Pose (full) over the frames."""
    with MediaPipePoseEstimator() as estimator:
        start = time.perf_counter()
        for frame in frames:
            estimator.estimate(frame)
        return len(frames) / (time.perf_counter() - start)


def pipeline_fps(frames: list, calibration: Path) -> tuple[float, dict[str, float]]:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    with tempfile.TemporaryDirectory() as folder:
        config = CaptureConfig().with_overrides({
            "optics": {"calib": str(calibration)},
            "vmc": {"address": f"127.0.0.1:{receiver.getsockname()[1]}"},
            "bvh": {"path": str(Path(folder) / "bench.bvh")},
        })
        opened = open_sinks(config, frame_time_s=0.05)
        pipeline = build_pipeline(
            config, estimator=make_estimator(config, 1), lifter=make_lifter(config, calibrated_cameras(config, 1)),
            sinks=opened.sinks,
        )
        start = time.perf_counter()
        pipeline.run(frames)
        elapsed = time.perf_counter() - start
        for sink in opened.sinks:
            sink.close()
    receiver.close()
    return len(frames) / elapsed, pipeline.timer.mean_ms()


def cli_peak_memory_mb(video: Path, calibration: Path) -> float:
    """Peak resident memory of a real `mocap capture` run (VMC + BVH), in MB."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "mocap", "capture", "--video", str(video), "--calib", str(calibration),
             "--vmc", "127.0.0.1:39539", "--bvh", str(Path(folder) / "take.bvh"), "--no-progress"],
            check=True, capture_output=True,
        )
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, default=DEMO / "bodypose3d_cam0_test.mp4")
    parser.add_argument("--calib", type=Path, default=DEMO / "demo_camera.toml")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median of each is reported")
    args = parser.parse_args()

    # First, while this process is small: a forked child's peak memory counts the parent's pages.
    cli_memory_mb = cli_peak_memory_mb(args.video, args.calib)
    frames = decode_all(VideoFileSource(args.video))
    print(f"{len(frames)} frames of {args.video.name}, decoded once; {args.repeat} rounds of "
          "one bare pass then one pipeline pass (interleaved, so machine load hits both alike)")
    bare_fps, full_fps = [], []
    for _ in range(args.repeat):
        bare_fps.append(bare_mediapipe_fps(frames))
        fps, stage_ms = pipeline_fps(frames, args.calib)
        full_fps.append(fps)
    bare, full = float(np.median(bare_fps)), float(np.median(full_fps))
    print(f"bare MediaPipe Pose (full): {bare:.1f} frames/s (median of {args.repeat})")
    print(f"mocap pipeline:             {full:.1f} frames/s  (ratio {full / bare:.2f})")
    print("per-stage ms/frame:         " + ", ".join(f"{k} {v:.2f}" for k, v in stage_ms.items()))
    print(f"peak memory of `mocap capture` on the clip: {cli_memory_mb:.0f} MB")


if __name__ == "__main__":
    main()
