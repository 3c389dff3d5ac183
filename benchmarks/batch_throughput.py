"""Takes per minute: a sequential shell-style loop against `mocap batch`, on one machine.

``--takes`` copies of the demo clip are made into BVH three ways, one after the other:
a loop running `mocap capture --record-landmarks` then `mocap solve --smooth 6` per take (what
`mocap batch` does for a take, one process after another), `mocap batch` with its process pool
(one worker per core), and `mocap batch --cluster local` (a local Ray instance, as many CPUs).
Prints each one's takes per minute, the batch's speed-up over the loop, Ray's overhead against
the pool, and each run's peak resident memory (the largest of its processes: a worker; with Ray,
the driver alone, since Ray's workers are not its children).

    .venv/bin/python benchmarks/batch_throughput.py [--takes 6]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pipeline_speed import timed_process

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "demo" / "bodypose3d_cam0_test.mp4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--takes", type=int, default=6)
    args = parser.parse_args()
    mocap = [sys.executable, "-m", "mocap"]
    with tempfile.TemporaryDirectory() as folder:
        clips = Path(folder) / "clips"
        clips.mkdir()
        for number in range(args.takes):
            shutil.copy(DEMO, clips / f"take_{number:02d}.mp4")
        start = time.perf_counter()
        loop_mb = 0.0
        for clip in sorted(clips.iterdir()):
            landmarks, bvh = Path(folder) / f"{clip.stem}.npz", Path(folder) / f"{clip.stem}.bvh"
            loop_mb = max(loop_mb, timed_process([*mocap, "capture", "--video", str(clip), "--record-landmarks",
                                                  str(landmarks), "--no-progress"])[1])
            timed_process([*mocap, "solve", str(landmarks), "--smooth", "6", "--bvh", str(bvh), "--no-progress"])
        loop_s = time.perf_counter() - start
        pool_s, pool_mb, _ = timed_process([*mocap, "batch", str(clips), "--out", str(Path(folder) / "pool"), "--no-progress"])
        ray_s, ray_mb, _ = timed_process([*mocap, "batch", str(clips), "--out", str(Path(folder) / "ray"),
                                          "--cluster", "local", "--no-progress"])
    per_minute = {name: 60.0 * args.takes / seconds for name, seconds in (("loop", loop_s), ("pool", pool_s), ("ray", ray_s))}
    print(f"{args.takes} takes of {DEMO.name} ({os.cpu_count()} cores), takes per minute and peak memory:")
    print(f"  loop of capture + solve:        {per_minute['loop']:5.1f}  ({loop_mb:.0f} MB)")
    print(f"  mocap batch (process pool):     {per_minute['pool']:5.1f}  ({pool_mb:.0f} MB): "
          f"{per_minute['pool'] / per_minute['loop']:.2f}x the loop")
    print(f"  mocap batch --cluster local:    {per_minute['ray']:5.1f}  ({ray_mb:.0f} MB, the driver alone: Ray starts "
          "its own workers): "
          f"{ray_s - pool_s:+.1f} s against the pool (Ray's start-up and scheduling)")


if __name__ == "__main__":
    main()
