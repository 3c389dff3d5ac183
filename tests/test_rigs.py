"""Rigs load from VRM 0.x, VRM 1.0, glTF with a bone map and BVH, with their rest poses honoured."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO, assert_one_line_error, run_mocap, shared

from mocap.core.skeleton import BONE_NAMES
from mocap.retargeting.retarget import Retargeter
from mocap.retargeting.rigs import load_rig

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
    assert rig.skeleton.names[rig.humanoid["Hips"]] == "pelvis_Armature"   # node names differ from the bone names
    assert np.degrees(Retargeter(rig).facing.magnitude()) == pytest.approx(180.0, abs=1.0)  # VRM 0.x faces -Z


def test_vrm1_humanoid_bones_and_facing() -> None:
    rig = load_rig(shared("rigs/vrm/VRMC_vrm_expressions_isBinary_Overridden.vrm"))
    assert set(rig.humanoid) == CORE | {"UpperChest", "LeftShoulder", "RightShoulder", "LeftToes", "RightToes"}
    assert np.degrees(Retargeter(rig).facing.magnitude()) == pytest.approx(0.0, abs=1.0)   # VRM 1.0 faces +Z


def test_gltf_with_a_bone_map_folds_missing_bones_into_parents() -> None:
    rig = load_rig(shared(KAYKIT), KAYKIT_MAP)
    assert set(rig.humanoid) == (CORE - {"Neck"}) | {"LeftToes", "RightToes"}
    assert rig.skeleton.parents[rig.humanoid["Head"]] == rig.humanoid["Chest"]          # no neck: the head hangs on the chest
    assert rig.skeleton.parents[rig.humanoid["LeftUpperArm"]] == rig.humanoid["Chest"]  # no shoulders
    # Non-identity rest rotations (the glTF's own), still standing upright: head above hips above feet.
    assert max(np.degrees(rig.skeleton.rest_rotations.magnitude())) > 90.0
    _, positions = rig.skeleton.rest_world()
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
    assert rig.skeleton.names[rig.humanoid["LeftUpperArm"]] == upper_arm
    _, positions = rig.skeleton.rest_world()
    height = positions[:, 1].max() - positions[:, 1].min()
    assert 1.2 < height < 2.0                                   # units recognised: a person, in metres


def test_a_gltf_without_humanoid_needs_a_bone_map(demo_capture, tmp_path) -> None:
    result = run_mocap("solve", str(demo_capture.landmarks_path), "--rig", str(shared(KAYKIT)),
                       "--bvh", str(tmp_path / "x.bvh"))
    assert_one_line_error(result, "has no VRM humanoid", "--rig-map")


def test_a_cut_short_vrm_is_a_one_line_error(demo_capture, tmp_path) -> None:
    cut = tmp_path / "avatar.vrm"
    cut.write_bytes(shared("rigs/vrm/Godette_vrm_v4.vrm").read_bytes()[:20000])
    result = run_mocap("solve", str(demo_capture.landmarks_path), "--rig", str(cut), "--bvh", str(tmp_path / "x.bvh"))
    assert_one_line_error(result, "cannot read rig", "not a whole glTF/VRM file", "export it again")
    assert not (tmp_path / "x.bvh").exists()


def test_every_canonical_bone_has_an_offset_for_vmc() -> None:
    skeleton = Retargeter(load_rig(shared(KAYKIT), KAYKIT_MAP)).canonical_skeleton()
    assert skeleton.names == BONE_NAMES
    lengths = np.linalg.norm(skeleton.rest_offsets_m[1:], axis=1)
    assert (lengths > 0.01).all()      # never zero: VMC receivers apply the offsets


def _identity_pose(rig_path: str, bone_map=None, rig=None):
    """Rig joint positions (rig frame) for the performer standing in the T-pose."""
    from scipy.spatial.transform import Rotation

    rig = rig or load_rig(shared(rig_path), bone_map)
    retargeter = Retargeter(rig)
    local, root = retargeter.retarget(Rotation.identity(len(BONE_NAMES)), np.zeros(3), retargeter.hip_height_m)
    return rig, rig.skeleton.forward_kinematics(local, root)[1]


def test_a_t_pose_performer_leaves_a_t_pose_rig_in_its_rest_pose() -> None:
    """KayKit: non-identity glTF rest rotations, T-pose. The performer's T-pose gives the rig's
    rest pose: torso and head exactly, limbs straightened (its rest elbows and knees bend a little)."""
    rig, positions = _identity_pose(KAYKIT, KAYKIT_MAP)
    _, rest = rig.skeleton.rest_world()
    shape, rest_shape = positions - positions[0], rest - rest[0]
    torso = [rig.humanoid[bone] for bone in ("Spine", "Chest", "Head", "LeftUpperArm", "RightUpperArm")]
    assert np.abs(shape[torso] - rest_shape[torso]).max() < 0.002
    assert np.abs(shape - rest_shape).max() < 0.025


def test_an_a_pose_rig_is_lifted_to_the_performers_t_pose() -> None:
    from dataclasses import replace

    from scipy.spatial.transform import Rotation

    rig = load_rig(shared("rigs/vrm/VRMC_vrm_expressions_isBinary_Overridden.vrm"))
    world, _ = rig.skeleton.rest_world()
    quats = rig.skeleton.rest_rotations.as_quat()
    for bone, angle in (("LeftUpperArm", -45.0), ("RightUpperArm", 45.0)):   # arms 45 degrees down, in world axes
        joint = rig.humanoid[bone]
        parent = world[rig.skeleton.parents[joint]]
        turn = parent.inv() * Rotation.from_euler("z", angle, degrees=True) * parent
        quats[joint] = (turn * Rotation.from_quat(quats[joint])).as_quat()
    a_pose = replace(rig, skeleton=replace(rig.skeleton, rest_rotations=Rotation.from_quat(quats)))
    _, rest = a_pose.skeleton.rest_world()
    arm = rest[a_pose.humanoid["LeftLowerArm"]] - rest[a_pose.humanoid["LeftUpperArm"]]
    assert np.degrees(np.arcsin(-arm[1] / np.linalg.norm(arm))) == pytest.approx(45.0, abs=1.0)   # really an A-pose
    _, positions = _identity_pose("", rig=a_pose)
    for side, x in (("Left", 1.0), ("Right", -1.0)):
        arm = positions[a_pose.humanoid[f"{side}LowerArm"]] - positions[a_pose.humanoid[f"{side}UpperArm"]]
        assert arm[0] * x / np.linalg.norm(arm) > np.cos(np.radians(1.0))    # horizontal, to its own side
