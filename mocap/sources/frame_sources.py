"""Frame sources: a webcam, a video file or a folder of images, behind one interface.

Each source yields :class:`~mocap.core.frames.Frame` objects (RGB images with timestamps in
seconds) and ends cleanly when the stream does. Opening a source that cannot work raises
:class:`~mocap.core.errors.MocapError` with a message saying what to do.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from cv2.typing import MatLike
from numpy.typing import NDArray

from mocap.core.errors import MocapError
from mocap.core.frames import Frame

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def _rgb(image_bgr: MatLike) -> NDArray[np.uint8]:
    """OpenCV's BGR image as RGB."""
    return np.asarray(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


class FrameSource(ABC):
    """A stream of timestamped RGB frames."""

    description: str
    frame_count: int | None = None   # known for files, None for live sources
    nominal_fps: float | None = None
    dropped: int = 0                 # live sources: frames skipped because capture was still busy

    @abstractmethod
    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None:  # noqa: B027 - a source with nothing to release keeps this
        """Release the device or file."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VideoFileSource(FrameSource):
    """A video file; timestamps come from the container (or frame index / fps)."""

    nominal_fps: float

    def __init__(self, path: Path) -> None:
        self.description = str(path)
        if not path.is_file():
            raise MocapError(f"video file not found: {path} (check the path given to --video)")
        self._capture = cv2.VideoCapture(str(path))
        ok, first = self._capture.read() if self._capture.isOpened() else (False, None)
        if not ok or first is None:
            self._capture.release()
            raise MocapError(
                f"cannot decode video {path}: not a video file or an unsupported codec "
                "(convert it to H.264 MP4, e.g. with ffmpeg)"
            )
        self._first = first
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.nominal_fps = float(fps) if fps and fps > 0 else 30.0
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else None

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        image: MatLike | None = self._first
        while image is not None:
            yield Frame(_rgb(image), index / self.nominal_fps, index)
            index += 1
            ok, image = self._capture.read()
            if not ok:
                image = None

    def close(self) -> None:
        self._capture.release()


class RealtimeVideoSource(FrameSource):
    """A video file that behaves like a live camera: each frame is delivered at its own
    timestamp on the wall clock (counted from the first frame asked for), and a frame whose
    successor is already due when capture asks for the next one is dropped, as a camera's
    driver drops what nobody read in time (counted in :attr:`dropped`)."""

    def __init__(self, path: Path) -> None:
        self._video = VideoFileSource(path)
        self.description = f"{path} (real time)"
        self.nominal_fps = self._video.nominal_fps

    def __iter__(self) -> Iterator[Frame]:
        origin = time.monotonic()
        frames = iter(self._video)
        due = next(frames, None)
        while due is not None:
            following = next(frames, None)
            while following is not None and origin + following.timestamp_s <= time.monotonic():
                due, following = following, next(frames, None)   # capture was busy: this one is stale
                self.dropped += 1
            wait_s = origin + due.timestamp_s - time.monotonic()
            if wait_s > 0:
                time.sleep(wait_s)
            yield replace(due, captured_monotonic_s=origin + due.timestamp_s)
            due = following

    def close(self) -> None:
        self._video.close()


class CameraSource(FrameSource):
    """A live webcam by index; timestamps are seconds of ``time.monotonic()`` since
    ``clock_origin_s`` (default: when the camera opened), so cameras opened with one origin share a clock."""

    def __init__(
        self,
        index: int,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        clock_origin_s: float | None = None,
    ) -> None:
        self.description = f"camera {index}"
        self._capture = cv2.VideoCapture(index)
        if not self._capture.isOpened():
            self._capture.release()
            raise MocapError(
                f"camera {index} did not open: check it is connected and not used by another "
                "program, or try another --camera index"
            )
        if width:
            self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps:
            self._capture.set(cv2.CAP_PROP_FPS, fps)
        self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)   # hand over the newest frame, not a queue of older ones
        reported_fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.nominal_fps = float(reported_fps) if reported_fps and reported_fps > 0 else None
        self._clock_origin_s = time.monotonic() if clock_origin_s is None else clock_origin_s

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while True:
            ok, image = self._capture.read()
            captured = time.monotonic()
            if not ok:
                return
            yield Frame(_rgb(image), captured - self._clock_origin_s, index, captured)
            index += 1

    def close(self) -> None:
        self._capture.release()


class ImageFolderSource(FrameSource):
    """Images in a folder (or matching a glob pattern such as ``shots/cam0_*.png``), in
    file-name order, at a fixed rate (``fps``, frames per second)."""

    nominal_fps: float

    def __init__(self, folder: Path, *, fps: float = 30.0) -> None:
        self.description = str(folder)
        if any(char in str(folder) for char in "*?["):
            self._paths = sorted(p for p in folder.parent.glob(folder.name) if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self._paths:
                raise MocapError(f"no images match {folder}: check the pattern given to --images")
        else:
            if not folder.is_dir():
                raise MocapError(f"image folder not found: {folder} (check the path given to --images)")
            self._paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self._paths:
                raise MocapError(
                    f"no images in {folder}: expected files ending in {', '.join(IMAGE_SUFFIXES)}"
                )
        self.nominal_fps = fps
        self.frame_count = len(self._paths)

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self._paths):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise MocapError(f"cannot read image {path}: the file is damaged or not an image")
            yield Frame(_rgb(image), index / self.nominal_fps, index)


def decode_all(source: FrameSource) -> list[Frame]:
    """Every frame of a finite source, decoded into memory."""
    with source:
        return list(source)


def open_sources(
    *,
    cameras: Sequence[int] = (),
    videos: Sequence[Path] = (),
    image_folders: Sequence[Path] = (),
    width: int | None = None,
    height: int | None = None,
    fps: float | None = None,
    realtime: bool = False,
) -> list[FrameSource]:
    """Open every given source, image folders, then videos, then cameras; cameras share one clock,
    so their frames can be matched by timestamp. If one fails, those already open are closed.

    ``width``, ``height``, ``fps``: requested of cameras; ``fps`` is also image folders' rate (default 30).
    ``realtime``: videos are delivered as live cameras deliver (:class:`RealtimeVideoSource`)."""
    clock_origin_s = time.monotonic()
    with ExitStack() as opened:
        sources: list[FrameSource] = [
            opened.enter_context(ImageFolderSource(folder, fps=fps or 30.0)) for folder in image_folders
        ]
        video_source = RealtimeVideoSource if realtime else VideoFileSource
        sources += [opened.enter_context(video_source(video)) for video in videos]
        sources += [
            opened.enter_context(CameraSource(index, width=width, height=height, fps=fps, clock_origin_s=clock_origin_s))
            for index in cameras
        ]
        opened.pop_all()
    return sources
