"""Frames from two or more sources, matched by timestamp into frame sets.

Each source is read on its own thread. Drop policy (documented in docs/multi-camera.md):

- Live sources (cameras, videos played with ``--realtime``) keep only their newest frames (a
  queue of two; older frames are dropped and counted in the source's ``dropped``), so
  a slow estimator never builds up latency.
- Files are read in full, never dropped by the reader.
- A set is formed when the heads of all queues lie within ``max_skew_s`` of each other; while
  they do not, the oldest head is dropped (its partner frames were never captured), counted
  in :attr:`SynchronizedSources.dropped`. The oldest head is also dropped when its source's
  next frame (already waiting, for live cameras) is nearer the set's latest frame, so each
  set takes the nearest frames. The set's timestamp is its latest frame's.
- The stream ends when any source ends.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from mocap.core.frames import Frame
from mocap.sources.frame_sources import FrameSource

_END = None
_NOTHING_YET = object()
DEFAULT_FPS = 30.0


@dataclass(frozen=True)
class FrameSet:
    """One frame per camera, captured together."""

    frames: tuple[Frame, ...]
    timestamp_s: float   # the latest timestamp in the set, seconds
    index: int           # 0-based set number

    @property
    def captured_monotonic_s(self) -> float | None:
        """When the set's earliest frame was captured (``time.monotonic()``; None for files)."""
        captured = [frame.captured_monotonic_s for frame in self.frames]
        return None if None in captured else min(c for c in captured if c is not None)


def camera_frames(frame: Frame | FrameSet) -> tuple[Frame, ...]:
    """One frame per camera: a frame set's frames, or the one camera's frame."""
    return frame.frames if isinstance(frame, FrameSet) else (frame,)


class _Reader:
    """Reads one source on a thread into a queue."""

    def __init__(self, source: FrameSource, stop: threading.Event) -> None:
        self.source = source
        self._live = source.frame_count is None
        self._queue: queue.Queue[Frame | None] = queue.Queue(maxsize=2 if self._live else 8)
        self._stop = stop
        self._peeked: object = _NOTHING_YET
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, daemon=True, name=f"read {source.description}")
        self._thread.start()

    def _put(self, item: Frame | None) -> None:
        while not self._stop.is_set():
            if self._live and item is not None and self._queue.full():
                try:
                    self._queue.get_nowait()  # live: drop the oldest frame, keep the newest
                    self.source.dropped += 1
                except queue.Empty:
                    pass
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _read(self) -> None:
        try:
            for frame in self.source:
                if self._stop.is_set():
                    return
                self._put(frame)
        except BaseException as error:  # handed to the consuming thread
            self.error = error
        finally:
            self._put(_END)

    def next(self) -> Frame | None:
        item: object
        if self._peeked is _NOTHING_YET:
            item = self._queue.get()
        else:
            item, self._peeked = self._peeked, _NOTHING_YET
        if item is _END and self.error is not None:
            raise self.error
        return item  # type: ignore[return-value]

    def upcoming(self) -> Frame | None:
        """The frame after the current one if known (files wait for it; live cameras do not)."""
        if self._peeked is _NOTHING_YET:
            try:
                self._peeked = self._queue.get(block=not self._live)
            except queue.Empty:
                return None
        return self._peeked if isinstance(self._peeked, Frame) else None

    def join(self) -> None:
        self._thread.join(timeout=2.0)


class SynchronizedSources:
    """Matches frames of several sources by timestamp.

    ``max_skew_s``: the most two frames of one set may differ in time, seconds; default
    half the frame period of the slowest source (30 frames/s when a source does not say).
    """

    def __init__(self, sources: list[FrameSource], *, max_skew_s: float | None = None) -> None:
        self.sources = sources
        rates = [source.nominal_fps or DEFAULT_FPS for source in sources]
        self.max_skew_s = max_skew_s if max_skew_s is not None else 0.5 / min(rates)
        counts = [source.frame_count for source in sources]
        self.frame_count = None if None in counts else min(c for c in counts if c is not None)
        self.nominal_fps = min(rates)
        self.description = " + ".join(source.description for source in sources)
        self.dropped = [0] * len(sources)
        self._stop = threading.Event()
        self._readers: list[_Reader] = []

    def __iter__(self) -> Iterator[FrameSet]:
        self._readers = [_Reader(source, self._stop) for source in self.sources]
        heads = [reader.next() for reader in self._readers]
        index = 0
        while all(head is not None for head in heads):
            frames = [head for head in heads if head is not None]
            times = [frame.timestamp_s for frame in frames]
            oldest = times.index(min(times))
            upcoming = self._readers[oldest].upcoming()
            nearer = upcoming is not None and abs(upcoming.timestamp_s - max(times)) < max(times) - min(times)
            if max(times) - min(times) <= self.max_skew_s and not nearer:
                yield FrameSet(tuple(frames), max(times), index)
                index += 1
                heads = [reader.next() for reader in self._readers]
            else:
                self.dropped[oldest] += 1
                heads[oldest] = self._readers[oldest].next()

    def close(self) -> None:
        self._stop.set()
        for reader in self._readers:
            reader.join()
        for source in self.sources:
            source.close()

    def __enter__(self) -> SynchronizedSources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
