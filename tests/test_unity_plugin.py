"""The Unity receiver's core (plugins/unity/Runtime/Core, plain C# without UnityEngine), compiled
with Mono and run as a test program receiving real UDP from `mocap capture` on the demo clip (and
on an upper-body video with the fingers and face)."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_FPS, DEMO_VIDEO, REPO, UdpReceiver, run_mocap, shared, unavailable

UNITY = REPO / "plugins" / "unity"
ARMS_OUT_FRAMES = range(115, 129)
SITTING_FRAMES = list(range(40, 96)) + list(range(140, 164))


@pytest.fixture(scope="module")
def receiver_test(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The core and its test program compiled with Debian's mono-mcs."""
    if shutil.which("mcs") is None or shutil.which("mono") is None:
        unavailable("Mono (apt-get install mono-mcs mono-runtime; make test installs it)")
    program = tmp_path_factory.mktemp("unity") / "ReceiverTest.exe"
    sources = sorted(str(p) for p in (UNITY / "Runtime" / "Core").glob("*.cs")) + [str(UNITY / "Tests" / "ReceiverTest.cs")]
    compiled = subprocess.run(["mcs", "-langversion:7", "-warnaserror", f"-out:{program}", *sources], capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    return program


def _free_port() -> int:
    probe = UdpReceiver()
    probe.stop()
    return probe.port


def receive_capture(program: Path, folder: Path, capture_args: list[str], joints: list[str] | None = None,
                    fps: float = DEMO_FPS) -> tuple[dict[str, dict[int, dict[str, np.ndarray]]], str]:
    """Every frame the C# receiver decoded from a real capture (``capture_args`` after `mocap
    capture`): VMC (``joints``, default the program's, by forward kinematics of what it applied)
    and the plain schema sent in Godot's axes (joints converted to Unity's); and its summary."""
    output = folder / "frames.csv"
    vmc_port, schema_port = _free_port(), _free_port()
    listener = subprocess.Popen(["mono", str(program), "receive", str(vmc_port), str(schema_port), "godot", "3", str(output),
                                 *([",".join(joints)] if joints else [])],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert listener.stdout is not None and listener.stdout.readline().strip() == "listening"
    capture = run_mocap("capture", *capture_args, "--vmc", f"127.0.0.1:{vmc_port}",
                        "--osc", f"127.0.0.1:{schema_port}", "--osc-axes", "godot", "--no-progress")
    assert capture.returncode == 0, capture.stderr
    summary, errors = listener.communicate(timeout=120)
    assert listener.returncode == 0, summary + errors
    assert "errors 0, ignored 0" in summary
    frames: dict[str, dict[int, dict[str, np.ndarray]]] = {"vmc": {}, "schema": {}}
    with open(output) as file:
        for row in csv.DictReader(file):
            positions = {key[:-2]: np.array([float(row[key[:-2] + axis]) for axis in ("_x", "_y", "_z")])
                         for key in row if key.endswith("_x")}
            frames[row["kind"]][round(float(row["time"]) * fps)] = positions
    return frames, summary


@pytest.fixture(scope="module")
def received(receiver_test: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[int, dict[str, np.ndarray]]]:
    """The demo clip's capture as the C# receiver decoded it."""
    frames, summary = receive_capture(receiver_test, tmp_path_factory.mktemp("unity_rx"), ["--video", str(DEMO_VIDEO)])
    assert "expressions" not in summary    # no face tracked, none sent
    return frames


def test_fingers_eyes_and_expressions_arrive_in_the_unity_receiver(receiver_test: Path, tmp_path: Path) -> None:
    """A real upper-body video with --preset vtuber: the C# receiver applies the finger and eye
    bones, and their joints land where the plain schema has them; the right hand's fingers fold;
    it decodes the VRM expressions."""
    joints = ["Head", "RightHand", "RightIndexProximal", "RightIndexIntermediate", "RightIndexDistal",
              "RightThumbDistal", "LeftLittleDistal", "LeftEye", "RightEye"]
    video = shared("hands/video/gesture_recognizer_android_test_video_thumbs_up.mp4")
    frames, summary = receive_capture(receiver_test, tmp_path, ["--video", str(video), "--preset", "vtuber"], joints, fps=25.0)
    assert "expressions A,Blink,Blink_L,Blink_R,E,I,LookDown,LookLeft,LookRight,LookUp,O,U" in summary
    assert len(frames["vmc"]) >= 190
    for index, positions in frames["vmc"].items():
        for name, position in positions.items():
            np.testing.assert_allclose(position, frames["schema"][index][name], atol=2e-4, err_msg=f"{index} {name}")
    def folded_deg(joints: dict[str, np.ndarray]) -> float:
        """The index finger's middle phalanx against the hand's direction (wrist to knuckle)."""
        hand = joints["RightIndexProximal"] - joints["RightHand"]
        middle = joints["RightIndexDistal"] - joints["RightIndexIntermediate"]
        return float(np.degrees(np.arccos(hand @ middle / np.linalg.norm(hand) / np.linalg.norm(middle))))

    held = [frames["vmc"][index] for index in sorted(frames["vmc"])[-50:]]   # the thumbs-up held
    assert np.median([folded_deg(joints) for joints in held]) > 90.0


def test_every_frame_is_decoded(received) -> None:
    assert len(received["schema"]) == 187
    assert len(received["vmc"]) == 186   # a VMC frame is complete when the next one starts


def test_vmc_as_applied_puts_the_joints_where_the_plain_schema_says(received) -> None:
    """Two decoders, two schemas, one capture: forward kinematics of the applied VMC rotations
    and offsets lands every joint where the plain schema (converted from Godot's axes) has it."""
    for index, joints in received["vmc"].items():
        for name, position in joints.items():
            np.testing.assert_allclose(position, received["schema"][index][name], atol=2e-4, err_msg=f"{index} {name}")


@pytest.mark.parametrize("kind", ["vmc", "schema"])
def test_arms_out_level_on_their_sides_and_knees_bent_when_sitting(received, kind: str) -> None:
    """In Unity's axes (left is -X): with the arms out each hand is level with its shoulder on its
    own side; while sitting both knees bend more than 45 degrees."""
    frames = received[kind]
    for index in ARMS_OUT_FRAMES:
        joints = frames[index]
        for side, sign in (("Left", -1.0), ("Right", 1.0)):
            arm = joints[f"{side}Hand"] - joints[f"{side}UpperArm"]
            assert sign * arm[0] > 0.8 * np.linalg.norm(arm), (index, side, arm)
            assert abs(arm[1]) < 0.35 * np.linalg.norm(arm), (index, side, arm)
    for index in SITTING_FRAMES:
        joints = frames[index]
        for side in ("Left", "Right"):
            thigh = joints[f"{side}LowerLeg"] - joints[f"{side}UpperLeg"]
            shin = joints[f"{side}Foot"] - joints[f"{side}LowerLeg"]
            bend = np.degrees(np.arccos(thigh @ shin / np.linalg.norm(thigh) / np.linalg.norm(shin)))
            assert bend > 45.0, (index, side, bend)


def test_broken_datagrams_never_stop_the_receive_loop(receiver_test: Path, tmp_path: Path) -> None:
    """Real datagrams of both schemas, cut short, with bytes and type tags replaced and bundle
    sizes made wrong, 20000 times: nothing escapes the loop."""
    vmc, schema = UdpReceiver(), UdpReceiver()
    sent = run_mocap("capture", "--video", str(DEMO_VIDEO), "--vmc", f"127.0.0.1:{vmc.port}", "--osc",
                     f"127.0.0.1:{schema.port}", "--no-progress")
    assert sent.returncode == 0, sent.stderr
    samples = tmp_path / "samples.hex"
    samples.write_text("\n".join(datagram.hex() for datagram in vmc.stop()[:60] + schema.stop()[:60]))
    fuzzed = subprocess.run(["mono", str(receiver_test), "fuzz", str(samples), "7", "20000"], capture_output=True, text=True, timeout=120)
    assert fuzzed.returncode == 0, fuzzed.stdout + fuzzed.stderr
    assert "fuzzed 20000 datagrams: errors 0" in fuzzed.stdout


def test_the_behaviours_and_sample_compile_against_unityengines_signatures(receiver_test: Path, tmp_path: Path) -> None:
    """UnityEngine cannot exist here: the MonoBehaviours and the sample are compiled against a
    stub with the signatures of the UnityEngine types they use (tests/unity_stub), warnings as
    errors, so a misspelt member or a type mismatch fails here and not in a user's editor."""
    sources = [*sorted(str(p) for p in (UNITY / "Runtime").rglob("*.cs")), str(UNITY / "Samples~" / "Demo" / "MocapDemo.cs"),
               str(REPO / "tests" / "unity_stub" / "UnityEngine.cs")]
    compiled = subprocess.run(["mcs", "-langversion:7", "-warnaserror", "-target:library", f"-out:{tmp_path / 'scripts.dll'}",
                               *sources], capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def test_the_sample_scene_runs_the_sample_script() -> None:
    """The package lists its sample, and the sample scene's one component is the sample script
    (by the GUID of its .meta file, which Unity matches)."""
    import json
    import re

    package = json.loads((UNITY / "package.json").read_text())
    sample = UNITY / package["samples"][0]["path"]
    guid = re.search(r"guid: (\w+)", (sample / "MocapDemo.cs.meta").read_text()).group(1)
    assert f"m_Script: {{fileID: 11500000, guid: {guid}, type: 3}}" in (sample / "Demo.unity").read_text()
