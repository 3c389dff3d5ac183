"""The live filters on real single-camera video, where no ground truth exists.

Each video in ../shared/data/video_images/video is captured once with MediaPipe
(``mocap capture --record-landmarks``), then solved three ways with ``mocap solve``: with the
live defaults, with every filter opened up (cutoffs of 1000 Hz: unfiltered, the outlier guard
and foot contact still on), and smoothed offline (``--smooth 6``, zero-phase: no lag). Prints,
per video:
- the jitter cut around the hips: mean absolute acceleration of the joints less the hips,
  unfiltered over live;
- the lag error: mean angle (degrees) between the live and the offline-smoothed bone directions;
- the hips' path: median acceleration (m/s^2) of the BVH root, live, offline and unfiltered;
  and the live root's mean distance (mm) from the offline one, over the take and over its
  first second (where the live filters start);
- how many landmark-frames the outlier guard held because they jumped (live).

    .venv/bin/python benchmarks/real_video_filters.py [video.mp4 ...]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mocap.formats.bvh import read_bvh

VIDEOS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "video_images" / "video"
UNFILTERED = """[filter]
body_min_cutoff_hz = 1000.0
body_beta = 0.0
root_min_cutoff_hz = 1000.0
rotation_min_cutoff_hz = 1000.0
rotation_beta = 0.0
"""


def mocap(*arguments: str) -> str:
    """Runs the mocap command line; its standard output."""
    return subprocess.run([sys.executable, "-m", "mocap", *arguments, "--no-progress"],
                          check=True, capture_output=True, text=True).stdout


def held_landmarks(summary: str) -> int:
    """The outlier guard's count in a run's summary (no line: none held)."""
    found = re.search(r"Outlier guard: (\d+) jumping landmark-frames held", summary)
    return int(found.group(1)) if found else 0


def joints_m(bvh: Path) -> tuple[NDArray[np.float64], float, list[int]]:
    """(frames, joints, 3) world positions in metres, the frame time (s) and the parents."""
    clip = read_bvh(bvh)
    positions, _ = clip.forward_kinematics()
    return positions / 100.0, clip.frame_time_s, [joint.parent for joint in clip.joints]


def accelerations(points: NDArray[np.float64], frame_time_s: float) -> NDArray[np.float64]:
    """|second difference| / dt^2 of (frames, ..., 3) points, m/s^2."""
    return np.linalg.norm(np.diff(points, n=2, axis=0), axis=-1) / frame_time_s**2


def bone_angle_deg(a: NDArray[np.float64], b: NDArray[np.float64], parents: list[int]) -> float:
    """Mean angle between the two takes' bone directions, over bones longer than 1 cm."""
    bones = [(parent, joint) for joint, parent in enumerate(parents)
             if parent >= 0 and np.linalg.norm(b[0, joint] - b[0, parent]) > 0.01]

    def directions(points: NDArray[np.float64]) -> NDArray[np.float64]:
        vectors = np.stack([points[:, joint] - points[:, parent] for parent, joint in bones], axis=1)
        return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)

    cosine = np.clip(np.sum(directions(a) * directions(b), axis=-1), -1.0, 1.0)
    return float(np.degrees(np.mean(np.arccos(cosine))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos", nargs="*", type=Path, help="videos (default: both in ../shared/data)")
    videos = parser.parse_args().videos or sorted(VIDEOS.glob("*.mp4"))
    print(f"{'video':<28}{'jitter cut':>11}{'lag error':>11}{'hips accel live':>17}{'offline':>9}{'unfiltered':>12}"
          f"{'hips from offline':>19}{'1st s':>7}{'guard held':>12}")
    print(f"{'':<28}{'(hips out)':>11}{'deg':>11}{'m/s^2':>17}{'':>9}{'':>12}{'mm':>19}{'mm':>7}{'lm-frames':>12}")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        unfiltered_config = work / "unfiltered.toml"
        unfiltered_config.write_text(UNFILTERED)
        for video in videos:
            landmarks = work / f"{video.stem}.npz"
            mocap("capture", "--video", str(video), "--record-landmarks", str(landmarks))
            takes = {"live": [], "unfiltered": ["--config", str(unfiltered_config)], "offline": ["--smooth", "6"]}
            solved, summaries = {}, {}
            for take, options in takes.items():
                bvh = work / f"{video.stem}_{take}.bvh"
                summaries[take] = mocap("solve", str(landmarks), "--bvh", str(bvh), *options)
                solved[take] = joints_m(bvh)
            (live, frame_time_s, parents), (unfiltered, _, _), (offline, _, _) = (solved[t] for t in ("live", "unfiltered", "offline"))
            around_hips = [accelerations(points - points[:, :1], frame_time_s).mean() for points in (unfiltered, live)]
            hips = [float(np.median(accelerations(points[:, 0], frame_time_s))) for points in (live, offline, unfiltered)]
            hips_apart_mm = 1000.0 * np.linalg.norm(live[:, 0] - offline[:, 0], axis=-1)
            first_second = hips_apart_mm[: round(1.0 / frame_time_s)]
            print(f"{video.stem[:27]:<28}{around_hips[0] / around_hips[1]:>10.2f}x{bone_angle_deg(live, offline, parents):>11.2f}"
                  f"{hips[0]:>17.1f}{hips[1]:>9.1f}{hips[2]:>12.1f}{hips_apart_mm.mean():>19.0f}{first_second.mean():>7.0f}"
                  f"{held_landmarks(summaries['live']):>12d}", flush=True)


if __name__ == "__main__":
    main()
