"""BVH written to disk and read back: rotations, positions, units and Euler continuity at poses
that cross +-180 degrees; the reader against hand-computed answers."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mocap.core.errors import MocapError
from mocap.core.frames import SkeletonPose
from mocap.core.skeleton import BONE_INDEX, BONE_NAMES, Skeleton, humanoid_skeleton
from mocap.formats.bvh import read_bvh
from mocap.sinks.bvh import BvhWriter

pytestmark = pytest.mark.unit

FPS = 30.0
FRAMES = 80
SPIN_DEG_PER_FRAME = 10.0   # the root turns 790 degrees in all


def spinning_poses() -> list[SkeletonPose]:
    """A performer spinning twice round while walking forward, the left arm swinging round
    past +-180 degrees about the body's front axis, the left shin turning past 180 about its
    hinge axis, the right thigh twisting past 180 about itself and the left forearm twisting
    past 90 about itself (its Euler order's middle axis, where the angles change branch)."""
    skeleton = humanoid_skeleton()
    poses = []
    for frame in range(FRAMES):
        local = Rotation.identity(len(BONE_NAMES)).as_quat()
        local[0] = (Rotation.from_euler("y", SPIN_DEG_PER_FRAME * frame, degrees=True)
                    * Rotation.from_euler("x", 10.0, degrees=True)).as_quat()
        local[BONE_INDEX["LeftUpperArm"]] = Rotation.from_euler("z", 150.0 + frame, degrees=True).as_quat()
        local[BONE_INDEX["LeftLowerLeg"]] = Rotation.from_euler("x", 150.0 + frame, degrees=True).as_quat()
        local[BONE_INDEX["RightUpperLeg"]] = Rotation.from_euler("y", 150.0 + frame, degrees=True).as_quat()
        local[BONE_INDEX["LeftLowerArm"]] = Rotation.from_euler("xz", [60.5 + frame, 20.0], degrees=True).as_quat()
        root = np.array([0.1, 0.9, 0.02 * frame])
        poses.append(SkeletonPose(frame / FPS, skeleton, root, Rotation.from_quat(local), True, True))
    return poses


def write(path: Path, poses: list[SkeletonPose], **options: object) -> None:
    writer = BvhWriter(path, **options)   # type: ignore[arg-type]
    for pose in poses:
        writer.write(pose)
    writer.close()


def rotation_columns(path: Path) -> np.ndarray:
    clip = read_bvh(path)
    columns = [joint.first_channel + k for joint in clip.joints for k, c in enumerate(joint.channels)
               if c.endswith("rotation")]
    return clip.motion[:, columns]


@pytest.mark.parametrize("order", ["auto", "ZXY", "XYZ"])
def test_rotations_read_back_as_written(tmp_path: Path, order: str) -> None:
    poses = spinning_poses()
    write(tmp_path / "spin.bvh", poses, rotation_order=order)
    clip = read_bvh(tmp_path / "spin.bvh")
    assert set(BONE_NAMES) <= set(clip.names)
    local, translations = clip.local_transforms()
    read = local.as_quat().reshape(FRAMES, len(clip.joints), 4)
    for pose, frame_quats in zip(poses, read):
        for bone, name in enumerate(BONE_NAMES):
            got = Rotation.from_quat(frame_quats[clip.index(name)])
            error_deg = np.degrees((got.inv() * pose.local_rotations[bone]).magnitude())
            assert error_deg < 0.01, (name, pose.timestamp_s)
    np.testing.assert_allclose(translations[:, 0] / 100.0, [pose.root_position_m for pose in poses], atol=1e-5)


def test_each_joints_rotation_reads_back_on_it_when_fingers_follow_the_body(tmp_path: Path) -> None:
    """The skeleton with fingers lists them after the body, the file depth first (each hand's
    fingers right after it): every joint's values land under its own name."""
    skeleton = humanoid_skeleton(fingers=True)
    turns = Rotation.from_euler("z", np.linspace(1.0, 60.0, len(skeleton.names))[:, None], degrees=True)
    write(tmp_path / "hands.bvh", [SkeletonPose(0.0, skeleton, np.array([0.0, 0.9, 0.0]), turns, True, True)])
    clip = read_bvh(tmp_path / "hands.bvh")
    local, _ = clip.local_transforms()
    for bone, name in enumerate(skeleton.names):
        error_deg = np.degrees((local[clip.index(name)].inv() * turns[bone]).magnitude())
        assert error_deg < 0.01, name


def test_euler_angles_never_jump_when_a_joint_crosses_180_degrees(tmp_path: Path) -> None:
    write(tmp_path / "spin.bvh", spinning_poses())
    angles = rotation_columns(tmp_path / "spin.bvh")
    assert np.abs(np.diff(angles, axis=0)).max() < 1.5 * SPIN_DEG_PER_FRAME
    heading = angles[:, 0]   # the root declares YXZ: heading first
    assert heading[-1] - heading[0] == pytest.approx(SPIN_DEG_PER_FRAME * (FRAMES - 1), abs=0.01)


def test_auto_order_puts_each_bones_own_axis_in_the_middle(tmp_path: Path) -> None:
    write(tmp_path / "spin.bvh", spinning_poses())
    channels = {joint.name: "".join(c[0] for c in joint.channels if c.endswith("rotation"))
                for joint in read_bvh(tmp_path / "spin.bvh").joints}
    assert channels["Hips"] == "YXZ"
    assert channels["LeftUpperArm"] == channels["RightLowerArm"] == "ZXY"   # arms lie along X
    assert channels["LeftUpperLeg"] == channels["Spine"] == "ZYX"           # legs and spine along Y


def test_units_frame_count_and_frame_time(tmp_path: Path) -> None:
    poses = [replace(pose, timestamp_s=pose.timestamp_s + 5.0) for pose in spinning_poses()[:10]]   # a take started 5 s in
    write(tmp_path / "m.bvh", poses, units="m")
    write(tmp_path / "cm.bvh", poses, frame_time_s=0.04)
    metres, centimetres = read_bvh(tmp_path / "m.bvh"), read_bvh(tmp_path / "cm.bvh")
    assert len(metres.motion) == len(centimetres.motion) == 10
    assert metres.frame_time_s == pytest.approx(1.0 / FPS)         # measured from the timestamps
    assert centimetres.frame_time_s == pytest.approx(0.04)         # as given
    thigh = humanoid_skeleton().rest_offsets_m[BONE_INDEX["LeftLowerLeg"]]
    np.testing.assert_allclose(metres.joints[metres.index("LeftLowerLeg")].offset, thigh, atol=1e-4)
    np.testing.assert_allclose(centimetres.joints[centimetres.index("LeftLowerLeg")].offset, thigh * 100, atol=1e-4)
    np.testing.assert_allclose(centimetres.motion[:, :3], metres.motion[:, :3] * 100, atol=1e-3)


def test_the_file_on_disk_is_valid_before_the_recording_ends(tmp_path: Path) -> None:
    path = tmp_path / "live.bvh"
    writer = BvhWriter(path, flush_every=5)
    for pose in spinning_poses()[:12]:
        writer.write(pose)
    assert len(read_bvh(path).motion) == 10      # the last flush, with the header rewritten in place
    writer.close()
    assert len(read_bvh(path).motion) == 12


GOLDEN = """HIERARCHY
ROOT Hips
{
  OFFSET 0.0000 0.0000 0.0000
  CHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation
  JOINT Spine
  {
    OFFSET 0.0000 10.0000 0.0000
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT Head
    {
      OFFSET 0.0000 20.0000 0.0000
      CHANNELS 3 Zrotation Yrotation Xrotation
      End Site
      {
        OFFSET 0.0000 18.0000 0.0000
      }
    }
    JOINT LeftUpperArm
    {
      OFFSET 20.0000 0.0000 0.0000
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {
        OFFSET 8.0000 0.0000 0.0000
      }
    }
  }
  JOINT LeftToes
  {
    OFFSET 10.0000 -90.0000 10.0000
    CHANNELS 3 Xrotation Zrotation Yrotation
    End Site
    {
      OFFSET 0.0000 0.0000 5.0000
    }
  }
}
MOTION
Frames: 2           
Frame Time: 0.05000000    
10.0000 90.0000 0.0000 0.0000 0.0000 0.0000 0.0000 0.0000 0.0000 0.0000 0.0000 0.0000 0.0000 0.0000 0.0000 0.0000 0.0000 0.0000
10.0000 90.0000 20.0000 90.0000 0.0000 0.0000 0.0000 28.6479 0.0000 0.0000 0.0000 0.0000 -28.6479 0.0000 0.0000 0.0000 0.0000 0.0000
"""


def test_the_file_is_the_bvh_every_reader_expects(tmp_path: Path) -> None:
    """The whole text for a small skeleton: keywords, two-space nesting, centimetres, End Sites
    (skull top, toe tip, 8 cm along a hand), fixed-width Frames and Frame Time, the root turned
    a quarter round, then the spine bent forward and the arm down by 0.5 rad."""
    skeleton = Skeleton(("Hips", "Spine", "Head", "LeftUpperArm", "LeftToes"), (-1, 0, 1, 1, 0),
                        np.array([[0, 0.9, 0], [0, 0.1, 0], [0, 0.2, 0], [0.2, 0, 0], [0.1, -0.9, 0.1]]))
    turns = [np.zeros((5, 3)), np.array([[0, np.pi / 2, 0], [0.5, 0, 0], [0, 0, 0], [0, 0, -0.5], [0, 0, 0]])]
    writer = BvhWriter(tmp_path / "small.bvh")
    for frame, rotvecs in enumerate(turns):
        writer.write(SkeletonPose(0.05 * frame, skeleton, np.array([0.1, 0.9, 0.2 * frame]), Rotation.from_rotvec(rotvecs),
                                  True, skeleton_settled=frame == 1))
    writer.close()
    assert (tmp_path / "small.bvh").read_text().replace("-0.0000", "0.0000") == GOLDEN


def test_a_take_stopped_before_the_proportions_settle_keeps_every_frame(tmp_path: Path) -> None:
    """Ctrl-C in the first second: the poses held back for the header are all written, and a
    one-frame take gets 30 frames a second."""
    unsettled = [replace(pose, skeleton_settled=False) for pose in spinning_poses()[:5]]
    write(tmp_path / "short.bvh", unsettled)
    assert len(read_bvh(tmp_path / "short.bvh").motion) == 5
    write(tmp_path / "one.bvh", unsettled[:1])
    one = read_bvh(tmp_path / "one.bvh")
    assert len(one.motion) == 1 and one.frame_time_s == pytest.approx(1.0 / 30.0)


def test_the_header_counts_frames_while_recording(tmp_path: Path) -> None:
    """Rewritten every 30 frames (or every second) by default."""
    writer = BvhWriter(tmp_path / "live.bvh")
    for pose in spinning_poses()[:30]:
        writer.write(pose)
    assert len(read_bvh(tmp_path / "live.bvh").motion) == 30
    writer.close()


TWO_JOINTS = """HIERARCHY
ROOT Base
{{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition {order}
  JOINT Tip
  {{
    OFFSET 0 1 0
    End Site
    {{
      OFFSET 0 1 0
    }}
  }}
}}
MOTION
Frames: 1
Frame Time: 0.04
1 2 3 90 90 0
"""


@pytest.mark.parametrize(("order", "tip"), [
    # intrinsic, applied left to right: Rz(90) Rx(90) takes (0, 1, 0) to (0, 0, 1)
    ("Zrotation Xrotation Yrotation", [1.0, 2.0, 4.0]),
    # Rx(90) Rz(90) takes (0, 1, 0) to (-1, 0, 0)
    ("Xrotation Zrotation Yrotation", [0.0, 2.0, 3.0]),
])
def test_reader_applies_channels_in_their_declared_order(tmp_path: Path, order: str, tip: list[float]) -> None:
    path = tmp_path / "two.bvh"
    path.write_text(TWO_JOINTS.format(order=order))
    clip = read_bvh(path)
    assert clip.names == ["Base", "Tip", "Tip_end"]
    assert [joint.parent for joint in clip.joints] == [-1, 0, 1]
    assert clip.frame_time_s == 0.04
    positions, rotations = clip.forward_kinematics()
    np.testing.assert_allclose(positions[0, 0], [1.0, 2.0, 3.0], atol=1e-9)   # position channels, not OFFSET
    np.testing.assert_allclose(positions[0, 1], tip, atol=1e-9)
    assert np.degrees((rotations[1].inv() * rotations[2]).magnitude()) < 1e-9   # an End Site turns with its joint
    np.testing.assert_allclose(clip.rest_positions(), [[0, 0, 0], [0, 1, 0], [0, 2, 0]])


def test_a_joint_name_of_several_words_is_joined_as_blender_joins_it(tmp_path: Path) -> None:
    path = tmp_path / "spaced.bvh"
    path.write_text(TWO_JOINTS.format(order="Zrotation Xrotation Yrotation").replace("ROOT Base", "ROOT Base Of Spine")
                    .replace("JOINT Tip", "JOINT Left Up Leg"))
    assert read_bvh(path).names == ["Base_Of_Spine", "Left_Up_Leg", "Left_Up_Leg_end"]


@pytest.mark.parametrize(("text", "needle"), [
    ("MOTION\nFrames: 1\n", "does not start with HIERARCHY"),
    (TWO_JOINTS.format(order="Zrotation Xrotation Yrotation").replace("1 2 3 90 90 0", "1 2 3 90"), "declares 1 frames but holds 0"),
    (TWO_JOINTS.format(order="Zrotation Xrotation Yrotation").replace("90 90 0", "90 ninety 0"), "malformed number"),
    (TWO_JOINTS.format(order="Zrotation Xrotation Yrotation")[:60], "ends early"),
    (TWO_JOINTS.format(order="Zrotation Xrotation Yrotation").replace("MOTION", "}\nMOTION"), "a '}' closes no joint"),
    (TWO_JOINTS.format(order="Zrotation Xrotation Yrotation").replace("}\nMOTION", "MOTION"), "not closed before MOTION"),
    ("HIERARCHY\nMOTION\nFrames: 0\nFrame Time: 0.04\n", "its hierarchy is empty"),
    ("HIERARCHY\nEnd Site\n{\n}\n", "an End Site outside any joint"),
    (TWO_JOINTS.format(order="Zrotation Xrotation Wrotation"), "joint Base has an unknown channel 'Wrotation'"),
    (TWO_JOINTS.format(order="Zrotation Xrotation Yrotation").replace("90 90 0", "90 nan 0"), "not a finite number"),
    (TWO_JOINTS.format(order="Zrotation Xrotation Yrotation").replace("OFFSET 0 1 0\n    End", "OFFSET 0 inf 0\n    End"),
     "not a finite number"),
    (TWO_JOINTS.format(order="Zrotation Xrotation Yrotation").replace("0.04", "0"), "Frame Time must be a positive number of seconds, not 0.0"),
    (TWO_JOINTS.format(order="Zrotation Xrotation Yrotation").replace("Frames: 1", "Frames: -1"), "declares -1 frames but holds 0"),
])
def test_reader_names_what_is_wrong(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.bvh"
    path.write_text(text)
    with pytest.raises(MocapError, match=re.escape(needle)):
        read_bvh(path)


def test_reader_reads_a_file_in_utf8_with_lower_case_channels(tmp_path: Path) -> None:
    """A joint named in UTF-8 (é) and channels written in lower case, as some exporters do."""
    path = tmp_path / "accents.bvh"
    path.write_text(TWO_JOINTS.format(order="zrotation xrotation yrotation").replace("JOINT Tip", "JOINT Tête"),
                    encoding="utf-8")
    clip = read_bvh(path)
    assert clip.names == ["Base", "Tête", "Tête_end"] and clip.motion.shape == (1, 6)


def test_writer_refuses_bad_options(tmp_path: Path) -> None:
    with pytest.raises(MocapError, match="rotation order 'XXY'"):
        BvhWriter(tmp_path / "a.bvh", rotation_order="XXY")
    with pytest.raises(MocapError, match="units 'mm'"):
        BvhWriter(tmp_path / "a.bvh", units="mm")
    with pytest.raises(MocapError, match="cannot write BVH file"):
        BvhWriter(tmp_path / "missing" / "a.bvh")
