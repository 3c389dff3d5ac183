"""The landmarks recording (``.npz``): what the cameras saw, for replay and bring-your-own keypoints.

Keys (see docs/formats.md):

- ``keypoints`` float (cameras, frames, joints, 3): x and y in pixels, confidence 0..1, NaN where missing
- ``world`` float (cameras, frames, joints, 3), optional: monocular world landmarks per camera
  (metres, origin mid-hips, camera axes: x right, y down, z away from the camera)
- ``timestamps`` float (frames,): seconds
- ``joints`` str (joints,): landmark names as MediaPipe spells them in lower case
- ``cameras`` str (cameras,): camera names, matching the calibration's
- ``image_size`` int (cameras, 2): width, height in pixels
- ``hands`` float (cameras, frames, 2, 21, 3), optional: the performer's left then right hand's 21
  MediaPipe landmarks: x, y in pixels and MediaPipe's depth from the wrist scaled like x (pixels);
  NaN where the hand was not seen
- ``face`` float (cameras, frames, 478, 3), optional: the face mesh with irises, in the same units

A file may hold any subset of the 33 BlazePose joints in any order (another 2D detector's
output); joints are matched by name and the rest are missing.

While a capture records, its frames go to a journal beside the file (``FILE.npz.journal``:
the camera names, image sizes and key names, then one array per key every second or so, each as
``.npy`` data one after another), so a capture killed outright keeps what it saw:
:func:`load_landmarks` reads the journal of a recording that was never finished. A finished
recording is written from the journal a chunk at a time, so memory stays bounded however long
the take.
"""

from __future__ import annotations

import os
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

from mocap.core.conventions import (
    HIP_LANDMARKS,
    LANDMARK_INDEX,
    NUM_FACE_LANDMARKS,
    NUM_HAND_LANDMARKS,
    NUM_POSE_LANDMARKS,
    POSE_LANDMARK_NAMES,
)
from mocap.core.errors import MocapError, require_writable
from mocap.core.frames import Observations, PoseObservation


@dataclass(frozen=True)
class LandmarkRecording:
    """Landmarks of every camera and frame, in BlazePose-33 order."""

    keypoints: NDArray[np.float64]         # (cameras, frames, 33, 3) px, px, confidence
    world_m: NDArray[np.float64] | None    # (cameras, frames, 33, 3) metres, camera axes
    timestamps_s: NDArray[np.float64]      # (frames,)
    cameras: tuple[str, ...]
    image_sizes: tuple[tuple[int, int], ...]  # per camera (width, height) pixels
    hands_px: NDArray[np.float64] | None = None   # (cameras, frames, 2, 21, 3) left, right hand: x, y, depth px
    face_px: NDArray[np.float64] | None = None    # (cameras, frames, 478, 3) x, y, depth px

    @property
    def frame_count(self) -> int:
        return int(self.keypoints.shape[1])

    def observations(self, frame: int) -> Observations:
        """Frame ``frame`` as one observation per camera."""
        return tuple(
            PoseObservation(
                float(self.timestamps_s[frame]),
                self.image_sizes[view],
                self.keypoints[view, frame],
                None if self.world_m is None or not np.isfinite(self.world_m[view, frame]).any()
                else self.world_m[view, frame],
                None if self.hands_px is None else self.hands_px[view, frame],
                None if self.face_px is None else self.face_px[view, frame],
            )
            for view in range(len(self.cameras))
        )


def save_landmarks(path: Path, recording: LandmarkRecording) -> None:
    """Write the recording; written to a temporary file first so a crash never leaves half a file."""
    arrays: dict[str, NDArray] = {
        "keypoints": recording.keypoints.astype(np.float64),
        "timestamps": recording.timestamps_s.astype(np.float64),
        "joints": np.array(POSE_LANDMARK_NAMES),
        "cameras": np.array(recording.cameras),
        "image_size": np.array(recording.image_sizes, dtype=np.int32).reshape(-1, 2),
    }
    for key, array in (("world", recording.world_m), ("hands", recording.hands_px), ("face", recording.face_px)):
        if array is not None:
            arrays[key] = array.astype(np.float64)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as file:
        np.savez_compressed(file, **arrays)
    os.replace(partial, path)


def journal_path(path: Path) -> Path:
    """Where the recording ``path`` keeps its journal until it is finished."""
    return path.with_name(path.name + ".journal")


# What numpy raises reading a damaged .npy: a short read, a bad magic string, or a header whose
# Python literal is cut or corrupted (numpy parses it with the tokenizer).
_DAMAGED = (EOFError, ValueError, OSError, SyntaxError, tokenize.TokenError)

# Each per-camera key's shape within one camera's frame.
POINT_SHAPES: dict[str, tuple[int, ...]] = {
    "keypoints": (NUM_POSE_LANDMARKS, 3), "world": (NUM_POSE_LANDMARKS, 3),
    "hands": (2, NUM_HAND_LANDMARKS, 3), "face": (NUM_FACE_LANDMARKS, 3),
}

Chunk = dict[str, NDArray[np.float64]]
"""Some frames' arrays by key: keypoints and world (cameras, frames, 33, 3), timestamps (frames,),
and hands (cameras, frames, 2, 21, 3) and face (cameras, frames, 478, 3) when tracked."""


def _journal_chunks(path: Path) -> tuple[NDArray, NDArray, Iterator[Chunk]]:
    """A journal's camera names and image sizes, and its complete chunks one by one (a chunk
    cut short ends them), read as they are needed."""
    file = open(path, "rb")
    try:
        cameras, sizes, keys = np.load(file), np.load(file), [str(key) for key in np.load(file)]
    except _DAMAGED:
        file.close()
        return np.array([]), np.zeros((0, 2)), iter(())

    def chunks() -> Iterator[Chunk]:
        with file:
            while True:
                try:
                    chunk = {key: np.load(file) for key in keys}
                except _DAMAGED:
                    return
                yield chunk

    return cameras, sizes, chunks()


def _read_journal(path: Path) -> LandmarkRecording:
    """The complete chunks of an unfinished recording's journal."""
    cameras, sizes, chunks = _journal_chunks(journal_path(path))
    parts = list(chunks)
    if not parts:
        raise MocapError(f"landmarks file {path} was never finished and its journal {journal_path(path)} holds no "
                         "complete frames: record again")
    try:
        joined = {key: np.concatenate([part[key] for part in parts], axis=0 if key == "timestamps" else 1)
                  for key in parts[0]}
        return LandmarkRecording(joined["keypoints"], joined["world"], joined["timestamps"],
                                 tuple(str(name) for name in cameras), tuple((int(w), int(h)) for w, h in sizes),
                                 joined.get("hands"), joined.get("face"))
    except (ValueError, TypeError, KeyError) as error:
        raise MocapError(f"landmarks file {path} was never finished and its journal {journal_path(path)} "
                         f"is not one mocap wrote ({error}): record again") from None


def _require(condition: bool, path: Path, problem: str) -> None:
    if not condition:
        raise MocapError(f"landmarks file {path}: {problem} (the layout is described in docs/formats.md)")


def _numbers(contents: dict[str, NDArray], key: str, path: Path) -> NDArray[np.float64]:
    """``contents[key]`` as float64; raises :class:`MocapError` if it is not numbers or holds infinities."""
    try:
        array = np.asarray(contents[key], dtype=np.float64)
    except (ValueError, TypeError):
        raise MocapError(f"landmarks file {path}: '{key}' holds {contents[key].dtype} values, not numbers "
                         "(the layout is described in docs/formats.md)") from None
    _require(not np.isinf(array).any(), path, f"'{key}' holds infinite values")
    return array


def load_landmarks(path: Path) -> LandmarkRecording:
    """Read and check a landmarks file, or the journal of one never finished; problems raise
    :class:`MocapError` naming the key."""
    if not path.is_file():
        if journal_path(path).is_file():
            return _read_journal(path)
        raise MocapError(f"landmarks file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            contents = {key: data[key] for key in data.files}
    except (*_DAMAGED, zipfile.BadZipFile, zlib.error) as error:
        raise MocapError(f"cannot read landmarks file {path}: {error} (expected a .npz written by numpy)") from None
    missing = [key for key in ("keypoints", "timestamps", "joints", "cameras", "image_size") if key not in contents]
    _require(not missing, path, f"missing key(s) {', '.join(missing)}")
    keypoints = _numbers(contents, "keypoints", path)
    _require(keypoints.ndim == 4 and keypoints.shape[3] == 3, path,
             f"'keypoints' has shape {keypoints.shape}, expected (cameras, frames, joints, 3)")
    cameras, frames, joints, _ = keypoints.shape
    timestamps = _numbers(contents, "timestamps", path).reshape(-1)
    _require(timestamps.shape == (frames,), path, f"'timestamps' has {timestamps.size} values for {frames} frames")
    _require(bool(np.all(np.diff(timestamps) > 0)) and not np.isnan(timestamps).any(), path,
             "'timestamps' must be numbers increasing from frame to frame")
    names = [str(name).lower() for name in np.asarray(contents["joints"]).reshape(-1)]
    _require(len(names) == joints, path, f"'joints' names {len(names)} joints but 'keypoints' holds {joints}")
    camera_names = tuple(str(name) for name in np.asarray(contents["cameras"]).reshape(-1))
    _require(len(camera_names) == cameras, path, f"'cameras' names {len(camera_names)} cameras but 'keypoints' holds {cameras}")
    sizes = _numbers(contents, "image_size", path)
    _require(sizes.size == 2 * cameras and bool(np.all(sizes >= 1)), path,
             f"'image_size' must be (cameras, 2) = ({cameras}, 2) positive widths and heights")
    sizes = sizes.reshape(cameras, 2)
    known = [(column, LANDMARK_INDEX[name]) for column, name in enumerate(names) if name in LANDMARK_INDEX]
    _require(set(HIP_LANDMARKS) <= {index for _, index in known}, path,
             "'joints' must include left_hip and right_hip (names as MediaPipe spells them, e.g. left_shoulder)")
    source_columns = [column for column, _ in known]
    target_rows = [index for _, index in known]
    full = np.full((cameras, frames, NUM_POSE_LANDMARKS, 3), np.nan)
    full[:, :, target_rows] = keypoints[:, :, source_columns]
    world = None
    if "world" in contents:
        world_in = _numbers(contents, "world", path)
        _require(world_in.shape == keypoints.shape, path,
                 f"'world' has shape {world_in.shape}, expected the shape of 'keypoints' {keypoints.shape}")
        world = np.full_like(full, np.nan)
        world[:, :, target_rows] = world_in[:, :, source_columns]
    extras = {}
    for key in ("hands", "face"):
        if key in contents:
            points = POINT_SHAPES[key]
            array = _numbers(contents, key, path)
            _require(array.shape == (cameras, frames, *points), path,
                     f"'{key}' has shape {array.shape}, expected {(cameras, frames, *points)}")
            extras[key] = array
    return LandmarkRecording(
        full, world, timestamps, camera_names, tuple((int(w), int(h)) for w, h in sizes),
        extras.get("hands"), extras.get("face"),
    )


def check_landmarks_path(path: Path) -> None:
    """Raise a :class:`MocapError` if a recording cannot be written at ``path``."""
    if path.suffix.lower() != ".npz":
        raise MocapError(f"landmarks file {path} must end in .npz")
    require_writable(path, "landmarks file")


def _per_camera(frames: list[Observations], values: Callable[[PoseObservation], NDArray | None],
                shape: tuple[int, ...]) -> NDArray[np.float64]:
    """(cameras, frames, *shape): each camera's ``values`` per frame (NaN where None)."""
    nothing = np.full(shape, np.nan)
    stacked = np.array([[value if (value := values(obs)) is not None else nothing for obs in frame] for frame in frames])
    return np.swapaxes(stacked, 0, 1)


def _stacked(frames: list[Observations], keys: tuple[str, ...]) -> Chunk:
    """The arrays of ``frames`` under ``keys`` (:data:`Chunk`)."""
    chosen: dict[str, Callable[[PoseObservation], NDArray | None]] = {
        "keypoints": lambda obs: obs.keypoints, "world": lambda obs: obs.world_m,
        "hands": lambda obs: obs.hands_px, "face": lambda obs: obs.face_px}
    chunk = {key: _per_camera(frames, chosen[key], POINT_SHAPES[key]) for key in keys if key != "timestamps"}
    chunk["timestamps"] = np.array([frame[0].timestamp_s for frame in frames])
    return chunk


def _write_npy(archive: zipfile.ZipFile, name: str, shape: tuple[int, ...], parts: Iterable[NDArray]) -> None:
    """One float64 array of ``shape`` into ``archive`` as ``name``.npy, from ``parts`` written
    one after another in C order (so the whole array is never in memory)."""
    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": shape})
        for part in parts:
            member.write(np.ascontiguousarray(part, dtype="<f8").tobytes())


def _finish_from_journal(path: Path, frames: int, keys: tuple[str, ...]) -> None:
    """Write the recording ``path`` from the ``frames`` frames of its journal, a chunk at a time
    (the keys of :func:`save_landmarks`, compressed), via a temporary file, then drop the journal."""
    journal = journal_path(path)
    cameras, sizes, _ = _journal_chunks(journal)
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in keys:
            if name == "timestamps":
                _write_npy(archive, name, (frames,), (chunk[name] for chunk in _journal_chunks(journal)[2]))
                continue
            shape = (len(cameras), frames, *POINT_SHAPES[name])   # each camera's frames in turn: C order
            _write_npy(archive, name, shape, (chunk[name][view] for view in range(len(cameras))
                                              for chunk in _journal_chunks(journal)[2]))
        for name, array in (("joints", np.array(POSE_LANDMARK_NAMES)), ("cameras", cameras),
                            ("image_size", np.asarray(sizes, dtype=np.int32).reshape(-1, 2))):
            with archive.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    os.replace(partial, path)
    journal.unlink()


class LandmarkRecorder:
    """Writes each frame's observations (one per camera) to the journal (see the module doc)
    every ``journal_frames`` frames, flushed to the operating system so they survive the process
    being killed (not a power cut), and the finished file from the journal when closed. At most
    ``journal_frames`` frames are held in memory, however long the take."""

    def __init__(self, path: Path, cameras: tuple[str, ...], *, journal_frames: int = 30,
                 hands: bool = False, face: bool = False) -> None:
        check_landmarks_path(path)
        self.path = path
        self._cameras = cameras
        self._keys = ("keypoints", "world", "timestamps") + ("hands",) * hands + ("face",) * face
        self._pending: list[Observations] = []   # frames not yet in the journal
        self._journal_frames = journal_frames
        self._journal: BinaryIO | None = None
        self.frames_recorded = 0

    def add(self, observations: Observations) -> None:
        self._pending.append(observations)
        self.frames_recorded += 1
        if len(self._pending) >= self._journal_frames:
            self._write_journal()

    def _write_journal(self) -> None:
        if self._journal is None:
            self._journal = open(journal_path(self.path), "wb")
            np.save(self._journal, np.array(self._cameras))
            np.save(self._journal, np.array([obs.image_size for obs in self._pending[0]], dtype=np.int32).reshape(-1, 2))
            np.save(self._journal, np.array(self._keys))
        chunk = _stacked(self._pending, self._keys)
        for key in self._keys:
            np.save(self._journal, chunk[key])
        self._journal.flush()
        self._pending = []

    def close(self) -> None:
        if self._pending:
            self._write_journal()
        if self._journal is None:
            return
        self._journal.close()
        _finish_from_journal(self.path, self.frames_recorded, self._keys)
