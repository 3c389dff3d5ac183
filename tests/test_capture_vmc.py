"""The demo clip through the real CLI, streamed over real UDP, decoded by python-osc's parser."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pytest
from conftest import (
    DEMO_CALIBRATION,
    DEMO_FPS,
    DemoCapture,
    UdpReceiver,
    run_mocap,
    shared,
)
from pythonosc.osc_bundle import OscBundle
from vmc_receiver import HUMAN_BODY_BONES, VmcFrame, decode_vmc

from mocap.retargeting.rigs import load_rig

ARMS_OUT_FRAMES = range(115, 129)  # the plateau; 108-114 raise the arms, 129-133 lower them
SITTING_FRAMES = list(range(40, 96)) + list(range(140, 164))


@pytest.fixture(scope="module")
def frames(demo_capture: DemoCapture) -> dict[int, VmcFrame]:
    """Received frames by video frame number (from /VMC/Ext/T, the capture time)."""
    return {int(round(f.time_s * DEMO_FPS)): f for f in decode_vmc(demo_capture.datagrams)}


def test_every_frame_arrives_in_bundles_under_1500_bytes(demo_capture: DemoCapture, frames: dict[int, VmcFrame]) -> None:
    assert all(len(d) <= 1500 for d in demo_capture.datagrams)
    assert all(OscBundle.dgram_is_bundle(d) for d in demo_capture.datagrams)
    assert len(frames) >= 180  # 187 frames in the clip; UDP may drop a few under load
    assert "187 frames" in demo_capture.result.stdout


def test_messages_are_valid_vmc(frames: dict[int, VmcFrame]) -> None:
    for frame in frames.values():
        assert frame.ok[0] == 1
        assert frame.root[0] == "root" and len(frame.root) == 8
        assert set(frame.bones) <= HUMAN_BODY_BONES
        assert {"Hips", "Spine", "Head", "LeftUpperArm", "RightLowerLeg", "LeftFoot"} <= set(frame.bones)
        for name, (position, quat) in frame.bones.items():
            assert abs(np.linalg.norm(quat) - 1.0) < 1e-4, name
            assert np.linalg.norm(position) > 0.01, f"{name} has a zero rest offset"


def test_quaternion_signs_never_flip_between_frames(frames: dict[int, VmcFrame]) -> None:
    """Receivers that interpolate quaternions component by component must never see q then -q."""
    ordered = [frames[index] for index in sorted(frames)]
    for earlier, later in zip(ordered, ordered[1:]):
        for name, (_, quat) in later.bones.items():
            assert np.dot(quat, earlier.bones[name][1]) >= 0.0, name


def _received(frames: dict[int, VmcFrame], indices: Iterable[int]) -> list[tuple[int, VmcFrame]]:
    """(video frame number, frame) for those of ``indices`` that arrived: most must. UDP may drop
    a few under load, and the sender drops a pose gone stale while it was busy (live, only the
    newest matters)."""
    indices = list(indices)
    arrived = [(index, frames[index]) for index in indices if index in frames]
    assert len(arrived) >= 0.8 * len(indices), f"{len(arrived)} of {len(indices)} frames arrived"
    return arrived


def _upper_arm(frame: VmcFrame, side: str) -> np.ndarray:
    _, positions = frame.forward_kinematics()
    direction = positions[f"{side}LowerArm"] - positions[f"{side}UpperArm"]
    return direction / np.linalg.norm(direction)


def test_arms_out_point_to_the_avatars_own_sides(frames: dict[int, VmcFrame]) -> None:
    for index, frame in _received(frames, ARMS_OUT_FRAMES):
        left, right = _upper_arm(frame, "Left"), _upper_arm(frame, "Right")
        # Unity is left-handed: an avatar facing +Z has its left hand toward -X.
        assert left[0] < -0.9 and right[0] > 0.9, index
        for arm in (left, right):
            assert abs(np.degrees(np.arcsin(arm[1]))) < 20.0, index


def test_avatar_faces_the_camera_direction(frames: dict[int, VmcFrame]) -> None:
    for index, frame in _received(frames, ARMS_OUT_FRAMES):
        rotations, _ = frame.forward_kinematics()
        assert rotations["Chest"].apply([0.0, 0.0, 1.0])[2] > 0.8, index


def _knee_bend_deg(frame: VmcFrame, side: str) -> float:
    _, p = frame.forward_kinematics()
    thigh = p[f"{side}LowerLeg"] - p[f"{side}UpperLeg"]
    shin = p[f"{side}Foot"] - p[f"{side}LowerLeg"]
    return float(np.degrees(np.arccos(np.dot(thigh, shin) / np.linalg.norm(thigh) / np.linalg.norm(shin))))


def test_sitting_bends_the_knees(frames: dict[int, VmcFrame]) -> None:
    for index, frame in _received(frames, SITTING_FRAMES):
        assert _knee_bend_deg(frame, "Left") > 45.0, index
        assert _knee_bend_deg(frame, "Right") > 45.0, index
    for index, frame in _received(frames, ARMS_OUT_FRAMES):  # standing: legs nearly straight
        assert _knee_bend_deg(frame, "Left") < 30.0, index


def test_vmc_with_a_rig_keeps_its_proportions(demo_capture: DemoCapture) -> None:
    """`--rig avatar.vrm --vmc`: VRM0-normalised rotations as before, offsets from the avatar."""
    receiver = UdpReceiver()
    rig_path = shared("rigs/vrm/Godette_vrm_v4.vrm")
    result = run_mocap("solve", str(demo_capture.landmarks_path), "--calib", str(DEMO_CALIBRATION),
                       "--rig", str(rig_path), "--vmc", f"127.0.0.1:{receiver.port}", "--no-progress")
    received = {int(round(f.time_s * DEMO_FPS)): f for f in decode_vmc(receiver.stop())}
    assert result.returncode == 0, result.stderr
    rig = load_rig(rig_path)
    _, rest = rig.skeleton.rest_world()
    upper_arm_m = np.linalg.norm(rest[rig.humanoid["LeftLowerArm"]] - rest[rig.humanoid["LeftUpperArm"]])
    for frame in received.values():
        assert np.linalg.norm(frame.bones["LeftLowerArm"][0]) == pytest.approx(upper_arm_m, rel=0.01)
        assert all(np.linalg.norm(position) > 0.009 for position, _ in frame.bones.values())
    for index, frame in _received(received, ARMS_OUT_FRAMES):
        left, right = _upper_arm(frame, "Left"), _upper_arm(frame, "Right")
        assert left[0] < -0.9 and right[0] > 0.9, index
