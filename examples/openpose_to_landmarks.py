"""Convert OpenPose JSON keypoints (one folder per camera) into a mocap landmarks file.

    python examples/openpose_to_landmarks.py cam01_json cam02_json --calib calib.toml \
        --fps 60 --skeleton body25b --output take.npz
    mocap solve take.npz --calib calib.toml --bvh take.bvh

Each folder holds one ``*.json`` per frame (OpenPose's ``--write_json``), in file-name
order; folder ``i`` is camera ``i`` of the calibration, whose names and image sizes the
file takes. How people and joints are chosen: ``mocap/formats/openpose.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mocap.formats.calibration_file import load_calibration  # noqa: E402
from mocap.formats.landmarks_file import LandmarkRecording, save_landmarks  # noqa: E402
from mocap.formats.openpose import SKELETONS, read_camera  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", type=Path, nargs="+", help="one folder of OpenPose JSON files per camera")
    parser.add_argument("--calib", type=Path, required=True, help="calibration TOML; camera i is folder i")
    parser.add_argument("--fps", type=float, required=True, help="frame rate of the videos, frames per second")
    parser.add_argument("--skeleton", choices=sorted(SKELETONS), default="body25", help="OpenPose model")
    parser.add_argument("--output", type=Path, required=True, help="landmarks file to write (.npz)")
    args = parser.parse_args()

    cameras = load_calibration(args.calib)[: len(args.folders)]
    if len(cameras) < len(args.folders):
        raise SystemExit(f"{args.calib} holds {len(cameras)} cameras for {len(args.folders)} folders")
    per_camera = [read_camera(folder, SKELETONS[args.skeleton]) for folder in args.folders]
    frames = min(len(k) for k in per_camera)
    keypoints = np.stack([k[:frames] for k in per_camera])
    recording = LandmarkRecording(
        keypoints, None, np.arange(frames) / args.fps,
        tuple(c.name for c in cameras), tuple(c.image_size for c in cameras),
    )
    save_landmarks(args.output, recording)
    print(f"{frames} frames from {len(cameras)} cameras written to {args.output}")


if __name__ == "__main__":
    main()
