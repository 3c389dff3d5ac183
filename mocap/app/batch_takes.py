"""What `mocap batch` is given, as takes: video files, globs, folders and manifest files.

- A video file is a one-camera take named after the file.
- A folder holding one calibration TOML and two or more videos is a multi-camera take named
  after the folder (videos in file-name order, matched to the calibration's cameras by name,
  else in file order); any other folder contributes each video in it, and each folder in it,
  as takes.
- A manifest (a ``.toml`` file of ``[[take]]`` tables: ``name``, ``videos``, optional ``calib``
  and ``calib_cameras``; paths relative to the manifest) lists takes explicitly.

Take names must be unique: a clash is reported, naming both, rather than one take's outputs
overwriting the other's.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from mocap.core.errors import MocapError
from mocap.formats.toml_files import read_toml

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")


@dataclass(frozen=True)
class Take:
    """One take: its videos (one per camera) and, for several cameras, their calibration."""

    name: str
    videos: tuple[str, ...]
    calib: str | None = None
    calib_cameras: tuple[str, ...] = ()

    @property
    def inputs(self) -> tuple[Path, ...]:
        """Every file the take's outputs are made from."""
        return tuple(Path(p) for p in (*self.videos, *([self.calib] if self.calib else [])))


def _is_video(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES


def _folder_takes(folder: Path) -> list[Take]:
    videos = sorted(p for p in folder.iterdir() if _is_video(p))
    calibrations = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".toml")
    if len(videos) >= 2 and len(calibrations) == 1:
        return [Take(folder.name, tuple(str(v) for v in videos), str(calibrations[0]))]
    takes = [Take(video.stem, (str(video),)) for video in videos]
    for child in sorted(p for p in folder.iterdir() if p.is_dir()):
        takes += _folder_takes(child)
    return takes


def _manifest_takes(path: Path) -> list[Take]:
    table = read_toml(path, kind="batch manifest", option="mocap batch")
    entries = table.get("take")
    if not isinstance(entries, list) or not entries:
        raise MocapError(f"batch manifest {path}: expected [[take]] tables with a name and videos (see docs/batch.md)")
    takes = []
    for number, entry in enumerate(entries, start=1):
        videos, calib, names = entry.get("videos"), entry.get("calib"), entry.get("calib_cameras", [])
        if not (isinstance(entry.get("name"), str) and isinstance(videos, list) and videos
                and all(isinstance(v, str) for v in videos) and (calib is None or isinstance(calib, str))
                and isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise MocapError(f"batch manifest {path}: take {number} needs name = \"...\" and videos = [\"...\"] "
                             "(calib and calib_cameras optional)")
        takes.append(Take(entry["name"], tuple(str(path.parent / v) for v in videos),
                          str(path.parent / calib) if calib else None, tuple(names)))
    return takes


def find_takes(inputs: list[str]) -> list[Take]:
    """The takes given by ``inputs`` (files, globs, folders, manifests), in the order given."""
    takes: list[Take] = []
    for given in inputs:
        paths = [Path(p) for p in sorted(glob.glob(given))] if glob.has_magic(given) else [Path(given)]
        if not paths or not all(p.exists() for p in paths):
            raise MocapError(f"batch input not found: {given} (give video files, folders, globs or a manifest .toml)")
        for path in paths:
            if path.is_dir():
                takes += _folder_takes(path)
            elif path.suffix.lower() == ".toml":
                takes += _manifest_takes(path)
            elif _is_video(path):
                takes.append(Take(path.stem, (str(path),)))
            elif not glob.has_magic(given):
                raise MocapError(f"batch input {path} is not a video ({', '.join(VIDEO_SUFFIXES)}), a folder or a "
                                 "manifest .toml")
    if not takes:
        raise MocapError(f"no videos found in {', '.join(inputs)}")
    seen: dict[str, Take] = {}
    for take in takes:
        if take.name in seen:
            raise MocapError(f"two takes are named {take.name} ({seen[take.name].videos[0]} and {take.videos[0]}): "
                             "rename one, or list them in a manifest with their own names")
        seen[take.name] = take
    return takes
