"""Accuracy with detector noise in each camera's pixels, judged on the BVH read back from disk.

CMU clips (../shared/data/bvh/cmu) are seen by virtual 1280x720 webcams (one camera, two desk
cameras 1.2 m apart, two cameras 60 degrees apart; mocap/evaluation/camera_views.py) with 2 px
pixel noise, 1% outliers jumping 20-60 px at low confidence and 2% dropouts, each camera also
giving world landmarks with 1 cm noise; then solved by `mocap solve` live (the capture's
filters) and offline (`--smooth 6`); with several cameras also with the body fit off
(`body_fit = false`: each joint triangulated alone, as before the fit), without any noise
(`clean`: what the solver and retargeting themselves leave), and with world landmarks as wrong
as MediaPipe's are on Pose2Sim's real take (`mpworld`: each camera's turned 15 degrees, and a
slow 6 cm shape error on each landmark). Printed per clip and set-up: mean and 95th-percentile
bone-direction error (degrees), the body's jitter against the clip's own, lag (frames) and foot
skate (mm per frame while the clip's foot is planted), and milliseconds per frame of everything
after estimation (lifting, fit, filters, solve, retargeting, BVH) on this machine.

    .venv/bin/python benchmarks/camera_noise.py [--seconds 20] [--setups one desk apart60] [clip.bvh ...]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from mocap.app.config import CaptureConfig
from mocap.evaluation.accuracy import load_motion
from mocap.evaluation.camera_views import MEDIAPIPE_WORLD, NO_NOISE, SETUPS, DetectorNoise, ViewsAccuracy, solve_views

CLIPS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bvh" / "cmu"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path)
    parser.add_argument("--seconds", type=float, default=20.0, help="the first seconds of each clip")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--setups", nargs="+", default=["one", "desk", "apart60"], choices=SETUPS)
    args = parser.parse_args()
    clips = args.clips or sorted(CLIPS.glob("*.bvh"))
    noise = DetectorNoise()
    print(f"{'clip':<28}{'setup':<9}{'mode':<20}{'mean':>6}{'p95':>6}{'jitter':>8}{'lag':>4}{'skate':>7}{'ms':>6}")
    results: dict[tuple[str, str], list[ViewsAccuracy]] = {}
    for path in clips:
        motion = load_motion(path, args.fps)
        frames = int(args.seconds * args.fps)
        motion = replace(motion, positions_m=motion.positions_m[:frames], rotations=motion.rotations[:frames])
        for setup in args.setups:
            modes = ["live", "offline", "live-clean", "offline-clean", "live-mpworld", "offline-mpworld"]
            modes += ["live-dlt", "offline-dlt", "live-mpworld-dlt", "offline-mpworld-dlt"] if setup != "one" else []
            for mode in modes:
                config = CaptureConfig().with_overrides({"multiview": {"body_fit": not mode.endswith("dlt")}})
                chosen = NO_NOISE if "clean" in mode else MEDIAPIPE_WORLD if "mpworld" in mode else noise
                result = solve_views(path, motion, setup, chosen, offline=mode.startswith("offline"), config=config)
                results.setdefault((setup, mode), []).append(result)
                print(f"{path.stem[:27]:<28}{setup:<9}{mode:<20}{result.mean_error_deg:>6.2f}{result.p95_error_deg:>6.1f}"
                      f"{result.jitter_ratio:>7.1f}x{result.lag_frames:>4d}{result.foot_skate_mm:>7.1f}{result.ms_per_frame:>6.2f}",
                      flush=True)
    print("\nmean over clips")
    for (setup, mode), rows in results.items():
        print(f"{'':<28}{setup:<9}{mode:<20}{np.mean([r.mean_error_deg for r in rows]):>6.2f}"
              f"{np.mean([r.p95_error_deg for r in rows]):>6.1f}{np.mean([r.jitter_ratio for r in rows]):>7.1f}x"
              f"{np.mean([r.lag_frames for r in rows]):>4.1f}{np.nanmax([r.foot_skate_mm for r in rows]):>7.1f}"
              f"{np.mean([r.ms_per_frame for r in rows]):>6.2f}  (skate: the worst clip)")


if __name__ == "__main__":
    main()
