"""The plain OSC schema as a game receives it: a real OSC parser on loopback, each engine's axes,
checked against the BVH written from the same solve and against what the performer does."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DEMO_CALIBRATION, DemoCapture, UdpReceiver, assert_one_line_error, run_mocap
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from scipy.spatial.transform import Rotation

from mocap.formats.bvh import read_bvh

ARMS_OUT_FRAMES = range(115, 129)
# Each engine's axes as (the performer's left, up, the direction the performer faces).
ENGINE_DIRECTIONS = {
    "unity": ((-1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "godot": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "unreal": ((0, -1, 0), (0, 0, 1), (1, 0, 0)),
}


def decode_schema(datagrams: list[bytes]) -> dict[int, dict]:
    """Frames by number: their header, joints and bones, only frames whose end message arrived."""
    frames: dict[int, dict] = {}
    done = set()
    for datagram in datagrams:
        for message in OscBundle(datagram):
            assert isinstance(message, OscMessage)
            params = list(message.params)
            if message.address == "/mocap/frame":
                frame = params[0]
                frames[frame] = {"time_s": params[1], "tracked": params[2], "settled": params[3], "joints": {}, "bones": {}}
            elif message.address == "/mocap/joint":
                frames[frame]["joints"][params[0]] = np.array(params[1:])
            elif message.address == "/mocap/bone":
                frames[frame]["bones"][params[0]] = np.array(params[1:])
            else:
                assert message.address == "/mocap/frame/end" and params == [frame]
                done.add(frame)
    return {number: frames[number] for number in done}


@pytest.fixture(scope="module", params=sorted(ENGINE_DIRECTIONS))
def schema_solve(request: pytest.FixtureRequest, demo_capture: DemoCapture, tmp_path_factory: pytest.TempPathFactory):
    """The demo recording solved once per engine, to the plain schema and a BVH at once."""
    engine = request.param
    receiver = UdpReceiver()
    bvh = tmp_path_factory.mktemp(engine) / "take.bvh"
    result = run_mocap("solve", str(demo_capture.landmarks_path), "--calib", str(DEMO_CALIBRATION),
                       "--osc", f"127.0.0.1:{receiver.port}", "--osc-axes", engine, "--bvh", str(bvh), "--no-progress")
    datagrams = receiver.stop()
    assert result.returncode == 0, result.stderr
    assert f"OSC ({engine} axes): 187 frames sent" in result.stdout
    return engine, decode_schema(datagrams), datagrams, bvh


def test_every_frame_arrives_whole_in_small_bundles(schema_solve) -> None:
    _, frames, datagrams, _ = schema_solve
    assert sorted(frames) == list(range(1, 188))
    assert max(len(d) for d in datagrams) <= 1500
    assert all(len(f["joints"]) == len(f["bones"]) == 21 for f in frames.values())
    times = [frames[n]["time_s"] for n in sorted(frames)]
    assert times == sorted(times) and times[1] - times[0] == pytest.approx(0.05, abs=1e-6)


def test_joints_and_bones_are_the_bvhs_in_the_engines_axes(schema_solve) -> None:
    """Mapped back from the engine's axes, every settled frame's joints and bone rotations are
    those of the BVH written from the same solve (read back from disk)."""
    engine, frames, _, bvh = schema_solve
    clip = read_bvh(bvh)
    positions_cm, rotations = clip.forward_kinematics()
    world = rotations.as_matrix().reshape(len(clip.motion), len(clip.joints), 3, 3)
    axes = np.array(ENGINE_DIRECTIONS[engine], dtype=float).T   # columns: left, up, forward in the engine's axes
    settled = [n for n in sorted(frames) if frames[n]["settled"]]
    assert len(settled) > 100
    for number in settled:
        for name, joint in frames[number]["joints"].items():
            bone = clip.index(name)
            np.testing.assert_allclose(axes.T @ joint, positions_cm[number - 1, bone] / 100.0, atol=1e-4, err_msg=name)
            received = Rotation.from_quat(frames[number]["bones"][name]).as_matrix()
            np.testing.assert_allclose(axes.T @ received @ axes, world[number - 1, bone], atol=1e-4, err_msg=name)


def test_arms_out_are_level_and_each_hand_on_its_side(schema_solve) -> None:
    """With the arms out (the demo's frames 115-128), in the engine's own axes: each hand is
    level with its shoulder, out to the performer's own side; the head is above the hips."""
    engine, frames, _, _ = schema_solve
    left, up, _ = (np.array(v, dtype=float) for v in ENGINE_DIRECTIONS[engine])
    for index in ARMS_OUT_FRAMES:
        joints = frames[index + 1]["joints"]
        for side, sign in (("Left", 1.0), ("Right", -1.0)):
            arm = joints[f"{side}Hand"] - joints[f"{side}UpperArm"]
            assert sign * (arm @ left) > 0.4, (index, side)
            assert abs(arm @ up) < 0.35 * np.linalg.norm(arm), (index, side)
        assert (joints["Head"] - joints["Hips"]) @ up > 0.4


def test_an_osc_port_out_of_range_is_one_line() -> None:
    assert_one_line_error(run_mocap("capture", "--video", "x.mp4", "--osc", "127.0.0.1:70000"), "port 70000 is out of range")
