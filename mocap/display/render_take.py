"""`mocap render`: a take drawn frame by frame (:mod:`mocap.display.skeleton_view`) into a video
file or a folder of PNG frames, optionally beside its source video.

A take is a BVH file (ours or another tool's: its length unit is read from the skeleton's size
unless given). A landmarks file is solved first, as `mocap solve` does, by the command.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from mocap.core.errors import MocapError
from mocap.display.skeleton_view import SkeletonView, ViewSettings, framing_camera
from mocap.formats.bvh import read_bvh

VIDEO_CODECS = {".mp4": "mp4v", ".mov": "mp4v", ".avi": "MJPG"}
UNIT_SCALES_M = {"m": 1.0, "cm": 0.01}


@dataclass(frozen=True)
class Take:
    """A take's joints: names, parents (-1 for a root) and positions (frames, joints, 3) in metres."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    positions_m: NDArray[np.float64]
    frame_time_s: float


def bvh_units(rest_height: float) -> str:
    """A BVH skeleton's length unit judged by its rest height in file units: a person is under 3 m and over 30 cm."""
    return "cm" if rest_height > 10.0 else "m"


def bvh_take(path: Path, units: str = "auto") -> Take:
    """The joints of every frame of a BVH file, in metres (``units``: cm, m, or auto)."""
    clip = read_bvh(path)
    if not len(clip.motion):
        raise MocapError(f"{path} has no motion frames: nothing to render")
    rest = clip.rest_positions()
    if units == "auto":
        units = bvh_units(float(np.ptp(rest[:, 1])))
    positions, _ = clip.forward_kinematics()
    return Take(tuple(clip.names), tuple(joint.parent for joint in clip.joints),
                positions * UNIT_SCALES_M[units], clip.frame_time_s)


def _frame_writer(out: Path, size: tuple[int, int], fps: float) -> cv2.VideoWriter | None:
    """A video writer for a video file name (None for a folder of PNG frames)."""
    codec = VIDEO_CODECS.get(out.suffix.lower())
    if codec is None:
        if out.suffix:
            raise MocapError(f"--out {out}: write a video ({', '.join(VIDEO_CODECS)}) or a folder of PNG frames (no suffix)")
        out.mkdir(parents=True, exist_ok=True)
        return None
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*codec), fps, size)
    if not writer.isOpened():
        raise MocapError(f"cannot write the video {out}: OpenCV has no {codec} encoder here; write .avi or a PNG folder")
    return writer


class SourceFrames:
    """A video read forward frame by frame, for showing frame ``index`` beside the render."""

    def __init__(self, path: Path) -> None:
        self._capture = cv2.VideoCapture(str(path))
        if not self._capture.isOpened():
            raise MocapError(f"cannot read the video {path}: is it a video file OpenCV can decode?")
        self._index = -1
        self._image: np.ndarray | None = None
        self._width_per_height = 9 / 16   # of the last frame read: the black after the end keeps the size

    def frame(self, index: int, height: int) -> np.ndarray:
        """Frame ``index`` scaled to ``height`` pixels (black once the video has ended)."""
        while self._index < index:
            ok, image = self._capture.read()
            self._index += 1
            self._image = image if ok else None
            if ok:
                self._width_per_height = image.shape[1] / image.shape[0]
        width = max(int(round(height * self._width_per_height)), 1)
        if self._image is None:
            return np.zeros((height, width, 3), dtype=np.uint8)
        return cv2.resize(self._image, (width, height), interpolation=cv2.INTER_AREA)

    def close(self) -> None:
        self._capture.release()


def render_take(
    take: Take, out: Path, settings: ViewSettings, *, fps: float | None = None, source_video: Path | None = None,
    progress: bool = True,
) -> int:
    """Writes the take as pictures at ``fps`` (default: the take's own rate) to ``out`` (a video
    file, or a folder of ``frame_00000.png``...); returns the frames written. ``source_video``:
    shown to the left of each picture, frame for frame."""
    from tqdm import tqdm

    positions = take.positions_m
    frames = len(positions)
    floor_y = float(np.nanpercentile(np.nanmin(positions[..., 1], axis=1), 2))
    positions = positions - [0.0, floor_y, 0.0]     # the take's floor shown at y = 0
    top_m = float(np.nanpercentile(np.nanmax(positions[..., 1], axis=1), 98))
    root = positions[:, take.parents.index(-1)]
    target = np.array([float(np.nanmedian(root[:, 0])), top_m / 2.0, float(np.nanmedian(root[:, 2]))])
    view = SkeletonView(take.names, take.parents, framing_camera(settings, target, 1.1 * top_m), settings, target)
    rate_hz = fps or 1.0 / take.frame_time_s
    count = max(int(round(frames * take.frame_time_s * rate_hz)), 1)
    source = SourceFrames(source_video) if source_video is not None else None
    width = settings.width + (source.frame(0, settings.height).shape[1] if source is not None else 0)
    writer = _frame_writer(out, (width, settings.height), rate_hz)
    try:
        for index in tqdm(range(count), unit="frame", disable=not progress, desc="render", leave=False):
            frame = min(int(round(index / rate_hz / take.frame_time_s)), frames - 1)
            picture = view.draw(positions[frame])
            if source is not None:
                picture = np.hstack([source.frame(frame, settings.height), picture])
            if writer is not None:
                writer.write(picture)
            elif not cv2.imwrite(str(out / f"frame_{index:05d}.png"), picture):
                raise MocapError(f"cannot write {out / f'frame_{index:05d}.png'}: is the folder writable?")
    finally:
        if writer is not None:
            writer.release()
        if source is not None:
            source.close()
    return count
