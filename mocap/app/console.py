"""The terminal: mocap's own messages on it, the native libraries' start-up chatter off it.

TensorFlow Lite, absl and MediaPipe's C++ write to file descriptor 2 directly, below Python, so
neither Python's logging nor an environment variable silences all of them (see docs/usage.md).
"""

from __future__ import annotations

import io
import os
import sys


def quiet_native_logs() -> None:
    """Point file descriptor 2 at the null device and Python's ``sys.stderr`` at a copy of the
    terminal's, so mocap's own messages, warnings and tracebacks still reach it."""
    terminal = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    sys.stderr.flush()
    sys.stderr = io.TextIOWrapper(os.fdopen(terminal, "wb", buffering=0), encoding=sys.stderr.encoding,
                                  errors="backslashreplace", line_buffering=True, write_through=True)

