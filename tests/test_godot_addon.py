"""The Godot 4 addon (plugins/godot): its GDScript parsed and linted, and its rest-pose maths
checked on a real rig against golden vectors from a real capture; the same vectors run through
the GDScript itself wherever Godot 4 is installed (not here: Debian has only Godot 3)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import DemoCapture, shared
from scipy.spatial.transform import Rotation
from vmc_receiver import decode_vmc

from mocap.core.skeleton import BONE_NAMES
from mocap.retargeting.retarget import rig_facing
from mocap.retargeting.rigs import load_rig

GODOT = Path(__file__).resolve().parent.parent / "plugins" / "godot"
GOLDEN = GODOT / "test" / "golden_vectors.gd"
SITTING_FRAME, ARMS_OUT_FRAME = 60, 120


def test_the_gdscript_parses_and_lints() -> None:
    scripts = sorted(str(p) for p in GODOT.rglob("*.gd"))
    for tool in ("gdparse", "gdlint"):
        result = subprocess.run([str(Path(sys.executable).parent / tool), *scripts], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def _godette_in_godot() -> tuple[list[str], list[int], np.ndarray, Rotation, dict[str, int]]:
    """Godette as Godot imports a VRM 0.x: its rest turned to face +Z. Joint names, parents,
    offsets (metres), local rest rotations, and the HumanBodyBones map."""
    rig = load_rig(shared("rigs/vrm/Godette_vrm_v4.vrm"))
    skeleton = rig.skeleton
    rest = skeleton.rest_local_rotations().as_quat()
    rest[0] = (rig_facing(rig) * Rotation.from_quat(rest[0])).as_quat()
    offsets = skeleton.rest_offsets_m.copy()
    offsets[0] = rig_facing(rig).apply(offsets[0])
    return list(skeleton.names), list(skeleton.parents), offsets, Rotation.from_quat(rest), rig.humanoid


def _global(parents: list[int], local: Rotation) -> Rotation:
    matrices = local.as_matrix()
    world = np.empty_like(matrices)
    for joint, parent in enumerate(parents):
        world[joint] = matrices[joint] if parent < 0 else world[parent] @ matrices[joint]
    return Rotation.from_matrix(world)


def _local_pose(rest: Rotation, global_rest: Rotation, normalised: Rotation) -> Rotation:
    """rest * G^-1 * Q * G, as the addon computes it."""
    return rest * global_rest.inv() * normalised * global_rest


def _unity_to_godot(quat: np.ndarray) -> Rotation:
    return Rotation.from_quat(quat * [1.0, -1.0, -1.0, 1.0])


def _posed(frame, names, parents, offsets, rest, humanoid) -> dict[str, np.ndarray]:
    """Godette's joint positions (Godot axes) with the addon's pose for one received VMC frame."""
    global_rest = _global(parents, rest)
    local = rest.as_quat()
    for bone, joint in humanoid.items():
        if bone in frame.bones:
            local[joint] = _local_pose(rest[joint], global_rest[joint], _unity_to_godot(frame.bones[bone][1])).as_quat()
    world = _global(parents, Rotation.from_quat(local)).as_matrix()
    positions = np.zeros((len(names), 3))
    for joint, parent in enumerate(parents):
        positions[joint] = offsets[joint] if parent < 0 else positions[parent] + world[parent] @ offsets[joint]
    return {bone: positions[joint] for bone, joint in humanoid.items()}


@pytest.fixture(scope="module")
def received(demo_capture: DemoCapture) -> dict:
    return {round(frame.time_s * 20): frame for frame in decode_vmc(demo_capture.datagrams)}


def test_the_addons_pose_sits_and_spreads_the_arms_as_the_performer_does(received) -> None:
    """Godette (non-identity rest rotations) posed by the addon's formula from real VMC frames,
    in Godot's axes (facing +Z, the performer's left +X): sitting, the thighs point forward and
    the knees bend; arms out, each hand is level on its own side."""
    rig = _godette_in_godot()
    sitting = _posed(received[SITTING_FRAME], *rig)
    for side in ("Left", "Right"):
        thigh = sitting[f"{side}LowerLeg"] - sitting[f"{side}UpperLeg"]
        shin = sitting[f"{side}Foot"] - sitting[f"{side}LowerLeg"]
        assert thigh[2] > 0.6 * np.linalg.norm(thigh), (side, thigh)
        assert np.degrees(np.arccos(thigh @ shin / np.linalg.norm(thigh) / np.linalg.norm(shin))) > 45.0
    arms_out = _posed(received[ARMS_OUT_FRAME], *rig)
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        arm = arms_out[f"{side}Hand"] - arms_out[f"{side}UpperArm"]
        assert sign * arm[0] > 0.8 * np.linalg.norm(arm) and abs(arm[1]) < 0.35 * np.linalg.norm(arm), (side, arm)


def golden_vectors(received: dict) -> str:
    """The GDScript file of golden vectors: per bone of a real sitting frame, Godette's local rest,
    global rest, the received VMC rotation (Unity axes) and the local pose the addon must set."""
    names, parents, _, rest, humanoid = _godette_in_godot()
    global_rest = _global(parents, rest)
    frame = received[SITTING_FRAME]
    rows = []
    for bone in BONE_NAMES:
        if bone not in humanoid or bone not in frame.bones:
            continue
        joint, unity = humanoid[bone], np.asarray(frame.bones[bone][1])
        expected = _local_pose(rest[joint], global_rest[joint], _unity_to_godot(unity))
        quats = [rest[joint].as_quat(), global_rest[joint].as_quat(), unity, expected.as_quat()]
        lines = [f'\t\t"{bone}",'] + ["\t\t[" + ", ".join(f"{v:.7f}" for v in q) + "]," for q in quats]
        rows.append("\t[\n" + "\n".join(lines) + "\n\t],")
    return ("extends RefCounted\n## Generated by tests/test_godot_addon.py from Godette and the demo clip's\n"
            f"## frame {SITTING_FRAME}: [bone, local rest, global rest, VMC rotation (Unity axes),\n"
            "## expected local pose], quaternions x, y, z, w.\n\nconst VECTORS := [\n" + "\n".join(rows) + "\n]\n")


def test_the_golden_vectors_are_current(received) -> None:
    """The vectors the GDScript test checks are what this code computes now (regenerate with
    `python -c "..."` as the message says if the rig maths changed on purpose)."""
    committed, current = GOLDEN.read_text(), golden_vectors(received)
    stale = "plugins/godot/test/golden_vectors.gd is stale: rewrite it with tests/test_godot_addon.py's golden_vectors()"
    assert re.findall(r'"(\w+)"', committed) == re.findall(r'"(\w+)"', current), stale
    numbers = [np.array(re.findall(r"-?\d+\.\d+", text), dtype=float) for text in (committed, current)]
    assert numbers[0].shape == numbers[1].shape and np.allclose(numbers[0], numbers[1], atol=1e-5), stale


def test_the_gdscript_reproduces_the_golden_vectors_in_godot() -> None:
    godot = shutil.which("godot") or shutil.which("godot4")
    if godot is None:
        pytest.skip("Godot 4 is not installed here (Debian has only Godot 3); run where it is: "
                    "godot --headless --path plugins/godot -s test/test_math.gd")
    result = subprocess.run([godot, "--headless", "--path", str(GODOT), "-s", "test/test_math.gd"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "golden vectors: all" in result.stdout, result.stdout + result.stderr


def test_the_demo_scene_follows_bones_mocap_sends() -> None:
    """The demo's spheres are children of the joints node, each named after a bone the plain
    schema sends, and its scripts exist."""
    scene = (GODOT / "demo" / "demo.tscn").read_text()
    for path in re.findall(r'path="res://([^"]+)"', scene):
        assert (GODOT / path).is_file(), path
    followers = re.findall(r'\[node name="(\w+)" type="MeshInstance3D" parent="Performer"\]', scene)
    assert followers and set(followers) <= set(BONE_NAMES)
    assert re.search(r'\[node name="Performer" type="Node3D" parent="\."\]\nscript = ExtResource\("1"\)', scene)
    assert 'path="res://addons/mocap_receiver/mocap_osc_joints.gd" id="1"' in scene
