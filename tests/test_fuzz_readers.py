"""Every file a user can hand mocap, fuzzed: it loads, or it gives a MocapError (one
`mocap: error:` line); never another exception (a traceback), never a hang.

Each reader gets a real file of its kind broken the ways files break: cut short, a token or a
byte replaced, a value of the wrong type, a key missing, shapes and counts that disagree.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import DEMO_CALIBRATION, REPO, shared
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocap.app.config import load_config
from mocap.core.errors import MocapError
from mocap.display.avatar_mesh import load_avatar_mesh
from mocap.formats.bvh import read_bvh
from mocap.formats.calibration_file import load_calibration
from mocap.formats.landmarks_file import journal_path, load_landmarks
from mocap.formats.openpose import SKELETONS, read_camera
from mocap.retargeting.rigs import load_rig

pytestmark = pytest.mark.unit
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

BVH_TEXT = """HIERARCHY
ROOT Hips
{
  OFFSET 0.0 90.0 0.0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Spine
  {
    OFFSET 0.0 10.0 0.0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0.0 20.0 0.0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.033333
0.0 90.0 0.0 0.0 0.0 0.0 10.0 20.0 30.0
1.0 91.0 0.0 5.0 0.0 0.0 10.0 20.0 30.0
"""

# Strings a broken file holds where numbers, names or keywords belong.
JUNK = st.sampled_from(["", "-", "nan", "inf", "1e999", "-1", "0", "99999999999", "x", "{", "}", "CHANNELS",
                        "JOINT", "End", "Site", "MOTION", "Frames:", "\x00", "é", "1.5.2", "3", "7"])


def _tokens_replaced(text: str, data: st.DataObject) -> str:
    """``text`` with a few of its whitespace-separated tokens replaced by junk, or cut short."""
    lines = [line.split(" ") for line in text.split("\n")]
    for _ in range(data.draw(st.integers(1, 3))):
        row = data.draw(st.integers(0, len(lines) - 1))
        column = data.draw(st.integers(0, max(len(lines[row]) - 1, 0)))
        if lines[row]:
            lines[row][column] = data.draw(JUNK)
    broken = "\n".join(" ".join(words) for words in lines)
    return broken[:data.draw(st.integers(0, len(broken)))] if data.draw(st.booleans()) else broken


def _loads_or_says_why(read: Any, path: Path) -> Any:
    try:
        return read(path)
    except MocapError as error:
        assert "\n" not in str(error) and str(error)
        return None


@FUZZ
@given(data=st.data())
def test_broken_bvh_files(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "take.bvh"
    path.write_text(_tokens_replaced(BVH_TEXT, data), encoding="utf-8")
    clip = _loads_or_says_why(read_bvh, path)
    if clip is not None:   # what loads is whole: every frame has every channel
        positions, _ = clip.forward_kinematics()
        assert positions.shape == (len(clip.motion), len(clip.joints), 3)


def test_a_bvh_declaring_a_billion_frames_is_read_without_reserving_them(tmp_path: Path) -> None:
    path = tmp_path / "take.bvh"
    path.write_text(BVH_TEXT.replace("Frames: 2", "Frames: 1000000000"))
    with pytest.raises(MocapError, match="declares 1000000000 frames but holds 2"):
        read_bvh(path)


@FUZZ
@given(data=st.data())
def test_broken_calibration_files(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "calibration.toml"
    path.write_text(_tokens_replaced(DEMO_CALIBRATION.read_text(), data), encoding="utf-8")
    cameras = _loads_or_says_why(load_calibration, path)
    for camera in cameras or []:   # what loads can project
        assert np.isfinite(camera.matrix).all() and np.isfinite(camera.distortion).all()
        camera.project(np.array([[0.0, 0.0, 3.0]]))


@FUZZ
@given(data=st.data())
def test_broken_config_files(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "mocap.toml"
    path.write_text(_tokens_replaced((REPO / "examples" / "mocap.toml").read_text(), data), encoding="utf-8")
    _loads_or_says_why(load_config, path)


ARRAYS = {
    "keypoints": np.zeros((1, 3, 33, 3)),
    "world": np.zeros((1, 3, 33, 3)),
    "timestamps": np.arange(3) / 30.0,
    "joints": np.array(["nose"] * 23 + ["left_hip", "right_hip"] + ["left_knee"] * 8),
    "cameras": np.array(["cam_0"]),
    "image_size": np.array([[640, 480]]),
}
SHAPES = st.lists(st.integers(0, 4), min_size=0, max_size=5).map(tuple)
VALUES = st.sampled_from([0.0, np.nan, np.inf, -1.0, 1e300])
DTYPES = st.sampled_from([np.float64, np.float32, np.int8, np.bool_, "U5", object])


@FUZZ
@given(data=st.data())
def test_broken_landmarks_files(tmp_path: Path, data: st.DataObject) -> None:
    """Keys missing, arrays of other shapes, dtypes and values (NaN, infinities, strings)."""
    arrays = dict(ARRAYS)
    for key in data.draw(st.lists(st.sampled_from(sorted(ARRAYS)), max_size=3, unique=True)):
        change = data.draw(st.sampled_from(["drop", "shape", "dtype", "value"]))
        if change == "drop":
            del arrays[key]
        elif change == "shape":
            arrays[key] = np.full(data.draw(SHAPES), data.draw(VALUES))
        elif change == "dtype":
            arrays[key] = np.zeros(arrays[key].shape, dtype=data.draw(DTYPES))
        else:
            arrays[key] = np.full(arrays[key].shape, data.draw(VALUES)).astype(arrays[key].dtype, copy=False) \
                if arrays[key].dtype.kind == "f" else arrays[key]
    path = tmp_path / "take.npz"
    with open(path, "wb") as file:
        np.savez(file, **arrays)
    recording = _loads_or_says_why(load_landmarks, path)
    if recording is not None:
        assert recording.keypoints.shape[1] == len(recording.timestamps_s) == recording.frame_count


@FUZZ
@given(cut=st.integers(0, 4000), flip=st.integers(0, 4000))
def test_a_journal_cut_or_damaged_anywhere(tmp_path: Path, cut: int, flip: int) -> None:
    """A killed capture's journal, cut short at any byte and with one byte damaged."""
    from mocap.core.frames import PoseObservation
    from mocap.formats.landmarks_file import LandmarkRecorder

    path = tmp_path / "take.npz"
    path.unlink(missing_ok=True)
    recorder = LandmarkRecorder(path, ("cam",), journal_frames=2)
    for frame in range(6):
        recorder.add((PoseObservation(frame / 30.0, (640, 480), np.full((33, 3), float(frame)), None),))
    journal = journal_path(path)
    data = bytearray(journal.read_bytes()[:cut])
    if flip < len(data):
        data[flip] ^= 0xFF
    journal.write_bytes(bytes(data))
    recording = _loads_or_says_why(load_landmarks, path)
    if recording is not None:
        assert 0 < recording.frame_count <= 6


def _glb(document: dict, binary: bytes) -> bytes:
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\x00" * (-len(binary) % 4)
    chunks = struct.pack("<I4s", len(text), b"JSON") + text + struct.pack("<I4s", len(binary), b"BIN\x00") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a parsed JSON document."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


JSON_JUNK = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**12), st.floats(allow_nan=False), st.text(max_size=5),
                      st.lists(st.integers(-2, 40), max_size=4), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _broken_vrm(original: bytes, data: st.DataObject) -> bytes:
    """A VRM with values in its JSON replaced or deleted, or its bytes cut short."""
    length = struct.unpack_from("<I", original, 12)[0]
    document = json.loads(original[20:20 + length])
    binary = original[20 + length + 8:]
    paths = [p for p in _paths(document) if p]
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(paths))
        parent = document
        try:
            for key in path[:-1]:
                parent = parent[key]
            if data.draw(st.booleans()) and isinstance(parent, dict):
                del parent[path[-1]]
            else:
                parent[path[-1]] = data.draw(JSON_JUNK)
        except (KeyError, IndexError, TypeError):
            continue   # an earlier change removed this path
    broken = _glb(document, binary)
    return broken[:data.draw(st.integers(0, len(broken)))] if data.draw(st.booleans()) else broken


@FUZZ
@given(data=st.data())
def test_broken_vrm_files(tmp_path: Path, data: st.DataObject) -> None:
    """A real VRM 1.0, broken (_broken_vrm), read as a rig."""
    path = tmp_path / "avatar.vrm"
    path.write_bytes(_broken_vrm(shared("rigs/vrm/VRMC_vrm_expressions_isBinary_Overridden.vrm").read_bytes(), data))
    _loads_or_says_why(load_rig, path)


@settings(FUZZ, max_examples=40)    # each reads a 0.6 MB avatar
@given(data=st.data())
def test_broken_avatar_meshes(tmp_path: Path, data: st.DataObject) -> None:
    """Godette's VRM (a skinned, textured mesh with blend shapes), broken (_broken_vrm), read as an
    avatar to draw: what loads can be skinned at rest and with an expression without an error."""
    path = tmp_path / "avatar.vrm"
    path.write_bytes(_broken_vrm(shared("rigs/vrm/Godette_vrm_v4.vrm").read_bytes(), data))
    mesh = _loads_or_says_why(load_avatar_mesh, path)
    if mesh is not None:
        mesh.skinned(mesh.rest_world, mesh.morph_weights({"Blink": 1.0, "A": 0.5}))


@FUZZ
@given(data=st.data())
def test_broken_openpose_folders(tmp_path: Path, data: st.DataObject) -> None:
    """OpenPose --write_json files cut short, with people missing keys or keypoint lists of odd lengths."""
    folder = tmp_path / "openpose"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    for frame in range(3):
        people = [{"pose_keypoints_2d": data.draw(st.lists(st.floats(-10, 2000), min_size=0, max_size=80))}
                  for _ in range(data.draw(st.integers(0, 2)))]
        text = json.dumps({"people": people} if data.draw(st.integers(0, 5)) else {"version": 1.3})
        if data.draw(st.integers(0, 4)) == 0:
            text = text[:data.draw(st.integers(0, len(text)))]
        (folder / f"take_{frame:012d}_keypoints.json").write_text(text)
    keypoints = _loads_or_says_why(lambda f: read_camera(f, SKELETONS["body25"]), folder)
    if keypoints is not None:
        assert keypoints.shape == (3, 33, 3)
