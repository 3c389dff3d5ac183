"""The VMC sender at poses where a wrong convention shows: what a real parser receives over
loopback, read by forward kinematics in Unity's axes (tests/vmc_receiver.py)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import UdpReceiver
from scipy.spatial.transform import Rotation
from vmc_receiver import VmcFrame, decode_vmc

from mocap.frames import SkeletonPose
from mocap.sinks.vmc import VmcSender
from mocap.skeleton import BONE_INDEX, BONE_NAMES, humanoid_skeleton

HIPS_M = np.array([0.3, 0.55, -0.5])   # internal frame: 30 cm to the performer's left, 50 cm back, seated


def seated_pose(*, tracked: bool = True, timestamp_s: float = 1.25) -> SkeletonPose:
    """Sitting upright: thighs forward, shins down, the left elbow bent 90 degrees to the front,
    the right upper arm raised 45 degrees forward (internal frame, facing +Z, left +X)."""
    rotvecs = np.zeros((len(BONE_NAMES), 3))
    for side in ("Left", "Right"):
        rotvecs[BONE_INDEX[f"{side}UpperLeg"]] = np.radians([-90.0, 0.0, 0.0])   # -Y (down) -> +Z (forward)
        rotvecs[BONE_INDEX[f"{side}LowerLeg"]] = np.radians([90.0, 0.0, 0.0])    # back to down
    rotvecs[BONE_INDEX["LeftLowerArm"]] = np.radians([0.0, -90.0, 0.0])          # +X (left) -> +Z (forward)
    rotvecs[BONE_INDEX["RightUpperArm"]] = np.radians([0.0, 45.0, 0.0])          # -X (right) -> halfway to +Z
    return SkeletonPose(timestamp_s, humanoid_skeleton(), HIPS_M.copy(), Rotation.from_rotvec(rotvecs), tracked, True)


def send_and_receive(*poses: SkeletonPose) -> list[VmcFrame]:
    receiver = UdpReceiver()
    sender = VmcSender("127.0.0.1", receiver.port)
    for pose in poses:
        sender.write(pose)
    sender.close()
    deadline = time.monotonic() + 5.0
    while len(decode_vmc(receiver.datagrams)) < len(poses) and time.monotonic() < deadline:
        time.sleep(0.01)
    frames = decode_vmc(receiver.stop())
    assert len(frames) == len(poses)
    return frames


def direction(positions: dict[str, np.ndarray], start: str, end: str) -> np.ndarray:
    vector = positions[end] - positions[start]
    return vector / np.linalg.norm(vector)


@pytest.fixture(scope="module")
def seated() -> VmcFrame:
    return send_and_receive(seated_pose())[0]


def test_a_seated_performers_thighs_point_forward_and_shins_down(seated: VmcFrame) -> None:
    _, positions = seated.forward_kinematics()
    for side in ("Left", "Right"):
        # Unity axes: the avatar faces +Z, up is +Y.
        np.testing.assert_allclose(direction(positions, f"{side}UpperLeg", f"{side}LowerLeg"), [0, 0, 1], atol=1e-5)
        np.testing.assert_allclose(direction(positions, f"{side}LowerLeg", f"{side}Foot"), [0, -1, 0], atol=1e-5)


def test_a_bent_elbow_brings_the_forearm_to_the_front_and_each_arm_stays_on_its_side(seated: VmcFrame) -> None:
    _, positions = seated.forward_kinematics()
    # Unity is left-handed: an avatar facing +Z has its left hand toward -X.
    np.testing.assert_allclose(direction(positions, "LeftUpperArm", "LeftLowerArm"), [-1, 0, 0], atol=1e-5)
    np.testing.assert_allclose(direction(positions, "LeftLowerArm", "LeftHand"), [0, 0, 1], atol=1e-5)
    half = np.sqrt(0.5)
    np.testing.assert_allclose(direction(positions, "RightUpperArm", "RightLowerArm"), [half, 0, half], atol=1e-5)


def test_root_is_the_ground_point_under_the_hips_in_unity_metres(seated: VmcFrame) -> None:
    assert seated.root[0] == "root"
    np.testing.assert_allclose(seated.root[1:4], [-0.3, 0.0, -0.5], atol=1e-6)   # X mirrored, metres
    np.testing.assert_allclose(seated.root[4:8], [0, 0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(seated.bones["Hips"][0], [0.0, 0.55, 0.0], atol=1e-6)   # the hips' height
    _, positions = seated.forward_kinematics()
    np.testing.assert_allclose(positions["Hips"], [-0.3, 0.55, -0.5], atol=1e-6)


def test_bone_offsets_are_the_skeletons_rest_offsets_in_unity_axes(seated: VmcFrame) -> None:
    skeleton = humanoid_skeleton()
    for name in ("LeftUpperLeg", "LeftLowerArm", "RightToes", "Head"):
        expected = skeleton.rest_offsets_m[BONE_INDEX[name]] * [-1.0, 1.0, 1.0]
        np.testing.assert_allclose(seated.bones[name][0], expected, atol=1e-6)


def test_capture_time_and_tracking_state_are_sent() -> None:
    tracked, lost = send_and_receive(seated_pose(timestamp_s=1.25), seated_pose(tracked=False, timestamp_s=1.3))
    assert tracked.ok == (1, 3, 0, 1)      # loaded, calibrated, mode, tracking
    assert lost.ok == (1, 3, 0, 0)
    assert tracked.time_s == pytest.approx(1.25) and lost.time_s == pytest.approx(1.3)
