"""Reading TOML files (configs, calibrations) with user-facing errors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mocap.core.errors import MocapError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def read_toml(path: Path, *, kind: str, option: str) -> dict[str, Any]:
    """The parsed file; ``kind`` names it in errors ("config file"), ``option`` is the CLI option that gave it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MocapError(f"{kind} not found: {path} (check the path given to {option})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise MocapError(f"{kind} {path} is not valid TOML: {error}") from None
