"""Solver and retargeting accuracy on real motion capture (CMU clips in ../shared/data/bvh/cmu).

For each clip: BlazePose-33 landmarks are synthesised from its joints (mocap/evaluation/accuracy.py
says how the face, heel and hand points are derived), optionally with 1 cm Gaussian noise,
solved as a live capture would (outlier guard, One Euro filters, joint limits, foot locking) or as
``mocap solve --smooth 6`` would (zero-phase smoothing), retargeted onto the clip's own
skeleton, and compared with the clip by forward kinematics.

    .venv/bin/python benchmarks/retarget_accuracy.py [--fps 30] [--noise 0.01] [clip.bvh ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from mocap.app.config import CaptureConfig
from mocap.app.session import hips_filter_settings
from mocap.evaluation.accuracy import ClipAccuracy, SolveSettings, evaluate, load_motion

CLIPS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bvh" / "cmu"


# The hips' path filter behind several cameras ([multiview] root_min_cutoff_hz): the clips'
# landmark noise is independent per landmark, as triangulation's is.
MULTIVIEW = SolveSettings(root=hips_filter_settings(CaptureConfig(), multi_camera=True))
OFFLINE_CUTOFFS_HZ = (4.0, 5.0, 8.0)   # besides the table's 6 Hz


def row(name: str, clean_raw: ClipAccuracy, clean: ClipAccuracy, noisy: ClipAccuracy, offline: ClipAccuracy) -> list[float]:
    print(f"{name[:34]:<35}{clean_raw.mean_error_deg:>6.2f}{clean.mean_error_deg:>7.2f}{noisy.mean_error_deg:>7.2f}"
          f"{noisy.jitter_cut:>7.1f}x{noisy.body_jitter_cut:>6.1f}x{noisy.jitter_cut_ceiling:>6.1f}x"
          f"{noisy.lag_frames:>5d}{noisy.room_lag_frames:>5d}{noisy.hips_error_mm:>6.0f}{noisy.hips_lag_frames:>4d}"
          f"{noisy.foot_skate_mm:>7.1f}{offline.mean_error_deg:>8.2f}{offline.jitter_cut:>6.1f}x{offline.foot_skate_mm:>6.1f}"
          f"{noisy.ik_ms_per_frame:>6.2f}{noisy.ms_per_frame:>6.2f}")
    return [clean_raw.mean_error_deg, clean.mean_error_deg, noisy.mean_error_deg, noisy.jitter_cut,
            noisy.body_jitter_cut, noisy.jitter_cut_ceiling, noisy.lag_frames, noisy.room_lag_frames, noisy.hips_error_mm,
            noisy.hips_lag_frames, noisy.foot_skate_mm, offline.mean_error_deg, offline.jitter_cut, offline.foot_skate_mm,
            noisy.ik_ms_per_frame, noisy.ms_per_frame]


def multiview_row(name: str, noisy: ClipAccuracy) -> list[float]:
    print(f"{name[:34]:<35}{noisy.mean_error_deg:>7.2f}{noisy.jitter_cut:>7.1f}x{noisy.body_jitter_cut:>6.1f}x"
          f"{noisy.lag_frames:>5d}{noisy.room_lag_frames:>5d}{noisy.hips_error_mm:>6.0f}{noisy.hips_lag_frames:>4d}"
          f"{noisy.foot_skate_mm:>7.1f}")
    return [noisy.mean_error_deg, noisy.jitter_cut, noisy.body_jitter_cut, noisy.lag_frames, noisy.room_lag_frames,
            noisy.hips_error_mm, noisy.hips_lag_frames, noisy.foot_skate_mm]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips", nargs="*", type=Path, help="BVH clips (default: every CMU clip in ../shared/data)")
    parser.add_argument("--fps", type=float, default=30.0, help="evaluation frame rate (clips are resampled)")
    parser.add_argument("--noise", type=float, default=0.01, help="landmark noise, metres (Gaussian, per coordinate)")
    args = parser.parse_args()
    clips = args.clips or sorted(CLIPS.glob("*.bvh"))
    print(f"{'':35}{'raw':>6}{'live':>7}{'live':>7}{'jitter cut':>18}{'':>4}{'lag':>5}{'lag':>5}{'hips':>6}{'':>4}{'skate':>7}"
          f"{'offline':>8}{'cut':>7}{'skate':>6}{'IK':>6}{'all':>6}")
    print(f"{'clip':<35}{'clean':>6}{'clean':>7}{'noisy':>7}{'all':>8}{'body':>7}{'most':>7}{'body':>5}{'room':>5}{'mm':>6}{'lag':>4}{'mm':>7}"
          f"{'noisy':>8}{'':>7}{'mm':>6}{'ms':>6}{'ms':>6}")
    print("  (errors: mean bone-direction error, degrees; jitter cut most: the cut of a filter that removed the noise")
    print("   and kept the motion exactly; lag, frames: of the body's shape and of every joint in the room;")
    print("   hips: the hips' path, its distance from the noise-free solve's and its lag; IK ms: solver + joint")
    print("   limits + retargeting per frame; all ms: with the filters and foot locking; offline: mocap solve --smooth 6)")
    rows, multiview_rows = [], []
    motions = [load_motion(clip, args.fps) for clip in clips]
    for clip, motion in zip(clips, motions):
        rows.append(row(
            clip.stem,
            evaluate(motion, settings=SolveSettings(mode="raw")),
            evaluate(motion),
            evaluate(motion, noise_m=args.noise),
            evaluate(motion, noise_m=args.noise, settings=SolveSettings(mode="offline")),
        ))
    mean = np.mean(rows, axis=0)
    print(f"{'mean':<35}{mean[0]:>6.2f}{mean[1]:>7.2f}{mean[2]:>7.2f}{mean[3]:>7.1f}x{mean[4]:>6.1f}x{mean[5]:>6.1f}x"
          f"{mean[6]:>5.1f}{mean[7]:>5.1f}{mean[8]:>6.0f}{mean[9]:>4.1f}{mean[10]:>7.1f}{mean[11]:>8.2f}{mean[12]:>6.1f}x"
          f"{mean[13]:>6.1f}{mean[14]:>6.2f}{mean[15]:>6.2f}")
    print(f"\nlive noisy with the hips' path filtered as behind several cameras ({MULTIVIEW.root.min_cutoff_hz:g} Hz):")
    print(f"{'clip':<35}{'error':>7}{'cut all':>8}{'body':>7}{'lag':>5}{'room':>5}{'hips':>6}{'lag':>4}{'skate':>7}")
    for clip, motion in zip(clips, motions):
        multiview_rows.append(multiview_row(clip.stem, evaluate(motion, noise_m=args.noise, settings=MULTIVIEW)))
    mean = np.mean(multiview_rows, axis=0)
    print(f"{'mean':<35}{mean[0]:>7.2f}{mean[1]:>7.1f}x{mean[2]:>6.1f}x{mean[3]:>5.1f}{mean[4]:>5.1f}{mean[5]:>6.0f}{mean[6]:>4.1f}"
          f"{mean[7]:>7.1f}")
    print("\noffline smoothing (mocap solve --smooth HZ) at other cutoffs, noisy, mean over the clips:")
    print(f"{'cutoff Hz':<35}{'error':>7}{'cut all':>8}{'skate':>7}")
    for smooth_hz in OFFLINE_CUTOFFS_HZ:
        settings = SolveSettings(mode="offline", smooth_hz=smooth_hz)
        results = [evaluate(motion, noise_m=args.noise, settings=settings) for motion in motions]
        print(f"{smooth_hz:<35g}{np.mean([r.mean_error_deg for r in results]):>7.2f}"
              f"{np.mean([r.jitter_cut for r in results]):>7.1f}x{np.mean([r.foot_skate_mm for r in results]):>7.1f}")
    print("targets: clean at most 2 deg, noisy at most 5 deg, jitter cut at least 5x, lag at most 1 frame, "
          "skate at most 5 mm/frame, IK at most 2 ms/frame")


if __name__ == "__main__":
    main()
