"""BVH files read back by Blender's own importer (bpy), the client that must accept them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_CALIBRATION, REPO, DemoCapture, import_or_unavailable, run_mocap, shared
from test_capture_vmc import ARMS_OUT_FRAMES, SITTING_FRAMES

bpy = import_or_unavailable("bpy", "Blender as a Python module installs on Python 3.11 only")


def import_bvh(path: Path) -> bpy.types.Object:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_anim.bvh(filepath=str(path), global_scale=0.01, rotate_mode="NATIVE", update_scene_fps=True, update_scene_duration=True)
    return bpy.context.selected_objects[0]


def bone_direction(armature: bpy.types.Object, frame: int, bone: str) -> np.ndarray:
    """World direction of a bone (Blender axes: Z up, the avatar's front toward -Y)."""
    bpy.context.scene.frame_set(frame + 1)  # the importer starts at frame 1
    pose_bone = armature.pose.bones[bone]
    head = armature.matrix_world @ pose_bone.head
    tail = armature.matrix_world @ pose_bone.tail
    direction = np.array(tail - head)
    return direction / np.linalg.norm(direction)


def test_demo_bvh_imports_and_plays_the_motion(demo_capture: DemoCapture) -> None:
    armature = import_bvh(demo_capture.bvh_path)
    assert armature.type == "ARMATURE"
    assert {"Hips", "LeftUpperArm", "RightLowerLeg", "Head"} <= set(armature.pose.bones.keys())
    action = armature.animation_data.action
    assert int(action.frame_range[1]) - int(action.frame_range[0]) + 1 == 187
    render = bpy.context.scene.render
    assert abs(render.fps / render.fps_base - 20.0) < 0.01  # Frame Time 0.05 s, the clip's rate

    for frame in ARMS_OUT_FRAMES:
        left, right = bone_direction(armature, frame, "LeftUpperArm"), bone_direction(armature, frame, "RightUpperArm")
        assert left[0] > 0.9 and right[0] < -0.9, frame  # Blender: the avatar's left is +X
        assert abs(np.degrees(np.arcsin(left[2]))) < 20 and abs(np.degrees(np.arcsin(right[2]))) < 20, frame
    for frame in SITTING_FRAMES:
        for side in ("Left", "Right"):
            thigh = bone_direction(armature, frame, f"{side}UpperLeg")
            shin = bone_direction(armature, frame, f"{side}LowerLeg")
            assert np.degrees(np.arccos(np.clip(np.dot(thigh, shin), -1, 1))) > 45.0, (frame, side)


@pytest.mark.parametrize(("rig", "rig_map", "left_x_sign"), [
    ("rigs/vrm/Godette_vrm_v4.vrm", None, -1.0),            # VRM 0.x faces -Z: its left is -X
    ("rigs/vrm/VRMC_vrm_expressions_isBinary_Overridden.vrm", None, 1.0),
    ("rigs/gltf/kaykit_mannequin/manny_med_mod.gltf", "rigs/kaykit_mannequin.toml", 1.0),
    ("bvh/cmu/02_01_walk.bvh", None, 1.0),
])
def test_bvh_on_a_chosen_rig_keeps_its_joints_and_moves_like_the_performer(
    demo_capture: DemoCapture, tmp_path: Path, rig: str, rig_map: str | None, left_x_sign: float
) -> None:
    from mocap.retargeting.rigs import load_rig

    rig_path = shared(rig)
    map_args = ["--rig-map", str(REPO / rig_map)] if rig_map else []
    output = tmp_path / "rig.bvh"
    result = run_mocap("solve", str(demo_capture.landmarks_path), "--calib", str(DEMO_CALIBRATION),
                       "--rig", str(rig_path), *map_args, "--bvh", str(output), "--no-progress")
    assert result.returncode == 0, result.stderr
    loaded = load_rig(rig_path, REPO / rig_map if rig_map else None)
    names = {bone: loaded.skeleton.names[joint] for bone, joint in loaded.humanoid.items()}
    armature = import_bvh(output)
    assert set(loaded.skeleton.names) == set(armature.pose.bones.keys())   # the rig's own hierarchy and names
    for frame in ARMS_OUT_FRAMES:
        left = bone_direction(armature, frame, names["LeftUpperArm"])
        right = bone_direction(armature, frame, names["RightUpperArm"])
        assert left[0] * left_x_sign > 0.9 and right[0] * left_x_sign < -0.9, frame
        assert abs(np.degrees(np.arcsin(left[2]))) < 20 and abs(np.degrees(np.arcsin(right[2]))) < 20, frame
    for frame in SITTING_FRAMES[::4]:
        thigh = bone_direction(armature, frame, names["LeftUpperLeg"])
        shin = bone_direction(armature, frame, names["LeftLowerLeg"])
        assert np.degrees(np.arccos(np.clip(np.dot(thigh, shin), -1, 1))) > 45.0, frame


def test_a_spinning_take_plays_in_blender_as_written(tmp_path: Path) -> None:
    """The root spinning 790 degrees and limbs crossing +-180 (tests/test_bvh_file.py): every
    bone's direction in Blender, frame by frame, is the one our skeleton's forward kinematics
    gives (Blender turns BVH's Y-up into Z-up: x, y, z -> x, -z, y)."""
    from test_bvh_file import spinning_poses, write

    from mocap.core.skeleton import BONE_INDEX, humanoid_skeleton

    poses = spinning_poses()
    write(tmp_path / "spin.bvh", poses)
    armature = import_bvh(tmp_path / "spin.bvh")
    skeleton = humanoid_skeleton()
    bones = {"LeftUpperArm": "LeftLowerArm", "LeftLowerLeg": "LeftFoot", "RightUpperLeg": "RightLowerLeg",
             "Spine": "Chest", "LeftFoot": "LeftToes"}
    for frame, pose in enumerate(poses):
        _, positions = skeleton.forward_kinematics(pose.local_rotations, pose.root_position_m)
        for bone, child in bones.items():
            expected = positions[BONE_INDEX[child]] - positions[BONE_INDEX[bone]]
            expected = np.array([expected[0], -expected[2], expected[1]]) / np.linalg.norm(expected)
            assert np.dot(bone_direction(armature, frame, bone), expected) > np.cos(np.radians(0.5)), (frame, bone)


def test_joint_names_of_several_words_read_as_blender_reads_them(tmp_path: Path) -> None:
    from test_bvh_file import TWO_JOINTS

    from mocap.formats.bvh import read_bvh

    path = tmp_path / "spaced.bvh"
    path.write_text(TWO_JOINTS.format(order="Zrotation Xrotation Yrotation").replace("JOINT Tip", "JOINT Left Up Leg"))
    ours = [name for name in read_bvh(path).names if not name.endswith("_end")]   # End Sites are no bones
    assert ours == list(import_bvh(path).pose.bones.keys())
