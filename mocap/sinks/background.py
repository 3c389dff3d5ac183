"""Runs a sink on its own thread so a slow receiver or disk never stalls capture."""

from __future__ import annotations

import queue
import threading
from typing import Generic, Protocol, TypeVar

Item = TypeVar("Item")
Received = TypeVar("Received", contravariant=True)

_STOP = object()


class Sink(Protocol[Received]):
    def write(self, item: Received) -> None: ...
    def close(self) -> None: ...


class BackgroundSink(Generic[Item]):
    """Hands poses (or any items: the virtual camera's preview takes frames) to ``sink`` through
    a queue served by one worker thread.

    ``max_queued``: poses waiting beyond this are dropped oldest-first (right for live
    streaming, where only the newest pose matters); None keeps every pose (right for
    recordings). An error in the worker is raised from the next ``write`` or from ``close``.
    """

    def __init__(self, sink: Sink[Item], *, max_queued: int | None = None) -> None:
        self.sink = sink
        self._queue: queue.Queue[object] = queue.Queue()
        self._max_queued = max_queued
        self._error: BaseException | None = None
        self.dropped = 0
        self._thread = threading.Thread(target=self._work, name=type(sink).__name__, daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is None:
                try:
                    self.sink.write(item)  # type: ignore[arg-type]
                except BaseException as error:  # reported to the capture thread
                    self._error = error

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    @property
    def waiting(self) -> int:
        """Poses handed over but not yet written."""
        return self._queue.qsize()

    def write(self, item: Item) -> None:
        self._raise_pending()
        while self._max_queued is not None and self._queue.qsize() >= self._max_queued:
            try:
                self._queue.get_nowait()
                self.dropped += 1
            except queue.Empty:
                break
        self._queue.put(item)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()
        try:
            self._raise_pending()
        finally:
            self.sink.close()
