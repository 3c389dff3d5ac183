"""Whole-process speed of `mocap capture` against a bare decode + MediaPipe loop, in one run.

The demo clip is repeated ``--repeat`` times into one video; then, ``--rounds`` times in turn,
two processes run over it: a bare loop (decode each frame with OpenCV, convert to RGB, run
MediaPipe Pose, full model, as `mocap capture` configures it) and `mocap capture` with VMC to a
loopback socket and BVH to a file. Start-up (imports, model load) is included in both. Prints
each process's frames/s (median over rounds), their ratio, the pipeline's per-stage
milliseconds and latency from its own summary, and both processes' peak memory.

    .venv/bin/python benchmarks/pipeline_speed.py [--video FILE] [--repeat 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "demo"
BARE_LOOP = """
import sys
import cv2
from mocap.estimation.mediapipe_pose import MediaPipePoseEstimator
from mocap.core.frames import Frame
from mocap.app.console import quiet_native_logs
quiet_native_logs()
capture = cv2.VideoCapture(sys.argv[1])
with MediaPipePoseEstimator() as estimator:
    index = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        estimator.estimate(Frame(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), index / 30.0, index))
        index += 1
"""


def repeated_video(video: Path, times: int, folder: Path) -> tuple[Path, int]:
    """``video`` played ``times`` times over, as one MP4 file in ``folder``; and its frame count."""
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    output = folder / f"{video.stem}_x{times}.mp4"
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(output), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for _ in range(times):
        for image in frames:
            writer.write(image)
    writer.release()
    return output, times * len(frames)


# Runs a command and prints its peak resident memory (kB) last on stderr: a fresh parent, so the
# children's maximum is this one child's.
PEAK_MEMORY = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def timed_process(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak resident memory (MB) and standard output of one process."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PEAK_MEMORY, *command], cwd=REPO, capture_output=True, text=True)
    wall_s = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(command[:4])} ... failed:\n{result.stderr}")
    return wall_s, int(result.stderr.splitlines()[-1]) / 1024, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, default=DEMO / "bodypose3d_cam0_test.mp4")
    parser.add_argument("--calib", type=Path, default=DEMO / "demo_camera.toml")
    parser.add_argument("--repeat", type=int, default=4, help="times the clip is played in one take")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both processes; medians are reported")
    args = parser.parse_args()

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    with tempfile.TemporaryDirectory() as folder:
        video, frames = repeated_video(args.video, args.repeat, Path(folder))
        bare = [sys.executable, "-c", BARE_LOOP, str(video)]
        mocap = [sys.executable, "-m", "mocap", "capture", "--video", str(video), "--calib", str(args.calib),
                 "--vmc", f"127.0.0.1:{receiver.getsockname()[1]}", "--bvh", str(Path(folder) / "take.bvh"),
                 "--no-progress"]
        print(f"{args.video.name} played {args.repeat} times ({frames} frames); {args.rounds} rounds of a bare "
              "decode + MediaPipe process, then a `mocap capture` process (start-up included in both)")
        bare_runs, mocap_runs = [], []
        for _ in range(args.rounds):
            bare_runs.append(timed_process(bare))
            mocap_runs.append(timed_process(mocap))
    receiver.close()
    bare_fps = float(np.median([frames / wall_s for wall_s, _, _ in bare_runs]))
    mocap_fps = float(np.median([frames / wall_s for wall_s, _, _ in mocap_runs]))
    print(f"bare decode + MediaPipe Pose (full): {bare_fps:.1f} frames/s, peak memory {bare_runs[-1][1]:.0f} MB")
    print(f"mocap capture (VMC + BVH):           {mocap_fps:.1f} frames/s, peak memory {mocap_runs[-1][1]:.0f} MB")
    print(f"ratio: {mocap_fps / bare_fps:.2f} (each round: "
          + ", ".join(f"{b[0] / m[0]:.2f}" for b, m in zip(bare_runs, mocap_runs)) + ")")
    print("last mocap run's own summary:")
    print("\n".join(f"  {line}" for line in mocap_runs[-1][2].splitlines()))


if __name__ == "__main__":
    main()
