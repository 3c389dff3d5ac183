"""Latency, frame by frame: when each frame was captured, estimated, solved and sent.

Every instant is ``time.monotonic()`` seconds, stamped where it happens (the capture thread,
the worker thread, the VMC sender's thread) and keyed by the frame's timestamp, which every
stage passes on unchanged. A frame read from a file as fast as possible counts as captured
when the pipeline receives it; a live source's frame (a camera, a video played in real time)
when it was captured. See docs/accuracy-and-performance.md for what each span means.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

CAPTURED, ESTIMATED, SOLVED, SENT = "captured", "estimated", "solved", "sent"

# (name, from event, to event), in the order they are reported
SPANS: tuple[tuple[str, str, str], ...] = (
    ("inference", CAPTURED, ESTIMATED),                # waiting for the estimator and MediaPipe itself
    ("after inference to pose", ESTIMATED, SOLVED),   # lifting, filters, solving: the pipeline's own
    ("after inference to VMC sent", ESTIMATED, SENT), # the pipeline's own, through the sender
    ("capture to VMC sent", CAPTURED, SENT),          # end to end, what a VMC receiver sees
)
PERCENTILES = (50, 95, 99)
_OPEN_FRAMES = 256   # frames awaiting their last event; older ones (a pose the sender skipped) are let go
BIN_MS = 0.05        # spans are counted in bins this wide, so memory stays fixed however long the take
MAX_MS = 2000.0      # longer spans count in the last bin


@dataclass(frozen=True)
class LatencyReport:
    """Milliseconds at each of :data:`PERCENTILES`, per span with at least one frame."""

    percentiles_ms: dict[str, tuple[float, ...]]
    frames: dict[str, int]

    def describe(self) -> str:
        """One line per span: ``name p50/p95/p99 ms (frames)``."""
        label = "/".join(f"p{p}" for p in PERCENTILES)
        return "\n".join(
            f"  {name}: {'/'.join(f'{ms:.1f}' for ms in values)} ms ({label}, {self.frames[name]} frames)"
            for name, values in self.percentiles_ms.items()
        )


class LatencyLog:
    """Collects the instants of each frame's events from any thread and the spans between them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: OrderedDict[float, dict[str, float]] = OrderedDict()
        self._counts = {name: np.zeros(int(MAX_MS / BIN_MS) + 1, dtype=np.int64) for name, _, _ in SPANS}

    def mark(self, timestamp_s: float, event: str, at_s: float) -> None:
        """Frame ``timestamp_s`` reached ``event`` at ``at_s`` (``time.monotonic()`` seconds)."""
        with self._lock:
            events = self._open.setdefault(timestamp_s, {})
            events[event] = at_s
            for name, start, end in SPANS:
                if end == event and start in events:
                    span_ms = 1000.0 * (at_s - events[start])
                    self._counts[name][min(max(int(span_ms / BIN_MS), 0), len(self._counts[name]) - 1)] += 1
            if event == SENT:
                del self._open[timestamp_s]
            while len(self._open) > _OPEN_FRAMES:
                self._open.popitem(last=False)

    def report(self) -> LatencyReport:
        """Each span's percentiles, to within a bin (:data:`BIN_MS`)."""
        with self._lock:
            counts = {name: values.copy() for name, values in self._counts.items() if values.any()}
        percentiles = {}
        for name, values in counts.items():
            cumulative = np.cumsum(values)
            bins = np.searchsorted(cumulative, np.array(PERCENTILES) / 100.0 * cumulative[-1])
            percentiles[name] = tuple(float((b + 0.5) * BIN_MS) for b in bins)   # each bin's middle
        return LatencyReport(percentiles, {name: int(values.sum()) for name, values in counts.items()})
