"""Rigs load from VRM 0.x, VRM 1.0, glTF with a bone map and BVH, with their rest poses honoured."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO, assert_one_line_error, run_mocap, shared

from mocap.retarget import Retargeter
from mocap.rigs import load_rig
from mocap.skeleton import BONE_NAMES

KAYKIT = "rigs/gltf/kaykit_mannequin/manny_med_mod.gltf"
KAYKIT_MAP = REPO / "rigs" / "kaykit_mannequin.toml"
CORE = {"Hips", "Spine", "Chest", "Neck", "Head", "LeftUpperArm", "LeftLowerArm", "LeftHand",
        "RightUpperArm", "RightLowerArm", "RightHand", "LeftUpperLeg", "LeftLowerLeg", "LeftFoot",
        "RightUpperLeg", "RightLowerLeg", "RightFoot"}


def test_vrm0_humanoid_bones_and_facing() -> None:
    rig = load_rig(shared("rigs/vrm/Godette_vrm_v4.vrm"))
    assert len(rig.humanoid) == 45                              # shoulders and fingers, no upper chest
    assert CORE | {"LeftShoulder", "LeftIndexProximal", "LeftThumbDistal"} <= set(rig.humanoid)
    assert "UpperChest" not in rig.humanoid and "LeftRingProximal" not in rig.humanoid
    assert rig.joints[rig.humanoid["Hips"]] == "pelvis_Armature"   # node names differ from the bone names
    assert np.degrees(Retargeter(rig).facing.magnitude()) == pytest.approx(180.0, abs=1.0)  # VRM 0.x faces -Z


def test_vrm1_humanoid_bones_and_facing() -> None:
    rig = load_rig(shared("rigs/vrm/VRMC_vrm_expressions_isBinary_Overridden.vrm"))
    assert set(rig.humanoid) == CORE | {"UpperChest", "LeftShoulder", "RightShoulder", "LeftToes", "RightToes"}
    assert np.degrees(Retargeter(rig).facing.magnitude()) == pytest.approx(0.0, abs=1.0)   # VRM 1.0 faces +Z


def test_gltf_with_a_bone_map_folds_missing_bones_into_parents() -> None:
    rig = load_rig(shared(KAYKIT), KAYKIT_MAP)
    assert set(rig.humanoid) == (CORE - {"Neck"}) | {"LeftToes", "RightToes"}
    assert rig.parents[rig.humanoid["Head"]] == rig.humanoid["Chest"]          # no neck: the head hangs on the chest
    assert rig.parents[rig.humanoid["LeftUpperArm"]] == rig.humanoid["Chest"]  # no shoulders
    # Non-identity rest rotations (the glTF's own), still standing upright: head above hips above feet.
    assert max(np.degrees(rig.rest_rotations.magnitude())) > 90.0
    _, positions = rig.rest_world()
    assert positions[rig.humanoid["Head"], 1] > positions[rig.humanoid["Hips"], 1] > positions[rig.humanoid["LeftFoot"], 1]


@pytest.mark.parametrize(("clip", "upper_arm"), [
    ("bvh/cmu/02_01_walk.bvh", "LeftArm"),
    ("bvh/cmu/02_05_punch_strike_dazfriendly.bvh", "lShldr"),
    ("bvh/cmu/131_01_mj_start_walk_stop_3dsmaxfriendly.bvh", "LeftShoulder"),
    ("bvh/other/perfume_A_test_dance.bvh", "LeftShoulder"),
    ("bvh/other/Boxing_Toes.bvh", "LeftShoulder"),
])
def test_bvh_skeletons_of_several_conventions(clip: str, upper_arm: str) -> None:
    rig = load_rig(shared(clip))
    assert CORE <= set(rig.humanoid)
    assert rig.joints[rig.humanoid["LeftUpperArm"]] == upper_arm
    _, positions = rig.rest_world()
    height = positions[:, 1].max() - positions[:, 1].min()
    assert 1.2 < height < 2.0                                   # units recognised: a person, in metres


def test_a_gltf_without_humanoid_needs_a_bone_map(demo_capture, tmp_path) -> None:
    result = run_mocap("solve", str(demo_capture.landmarks_path), "--rig", str(shared(KAYKIT)),
                       "--bvh", str(tmp_path / "x.bvh"))
    assert_one_line_error(result, "has no VRM humanoid", "--rig-map")


def test_every_canonical_bone_has_an_offset_for_vmc() -> None:
    skeleton = Retargeter(load_rig(shared(KAYKIT), KAYKIT_MAP)).canonical_skeleton()
    assert skeleton.names == BONE_NAMES
    lengths = np.linalg.norm(skeleton.rest_offsets_m[1:], axis=1)
    assert (lengths > 0.01).all()      # never zero: VMC receivers apply the offsets
