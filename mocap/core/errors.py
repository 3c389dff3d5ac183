"""The one exception type for problems a user can fix (the CLI prints it as a single line),
early checks that raise it, and the one form of a note to the user."""

from __future__ import annotations

import os
import sys
from pathlib import Path


class MocapError(Exception):
    """A user-facing error. The message names the problem and how to fix it."""


def require_writable(path: Path, kind: str) -> None:
    """Raise a :class:`MocapError` now, before any work, if ``path`` cannot be written later."""
    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise MocapError(f"cannot write {kind} {path}: the folder is missing or read-only; choose another path")


def note(text: str) -> None:
    """Tell the user something that does not stop the run: ``mocap: note: TEXT`` on stderr."""
    print(f"mocap: note: {text}", file=sys.stderr)
