"""The VMC sender at poses where a wrong convention shows: what a real parser receives over
loopback, read by forward kinematics in Unity's axes (tests/vmc_receiver.py)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import UdpReceiver
from pythonosc.osc_bundle import OscBundle
from scipy.spatial.transform import Rotation
from vmc_receiver import VmcFrame, decode_vmc, type_tags

from mocap.core.errors import MocapError
from mocap.core.frames import FaceExpression, SkeletonPose
from mocap.core.skeleton import BONE_INDEX, BONE_NAMES, humanoid_skeleton
from mocap.sinks.osc import pack_bundles, parse_address
from mocap.sinks.vmc import DEFAULT_VMC_PORT, VmcSender

pytestmark = pytest.mark.unit

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
    """What a receiver decodes of ``poses`` sent over loopback; every message's arguments are
    checked to be only i, f and s, in the full count the VMC message defines."""
    receiver = UdpReceiver()
    sender = VmcSender("127.0.0.1", receiver.port)
    for pose in poses:
        sender.write(pose)
    sender.close()
    deadline = time.monotonic() + 5.0
    while len(decode_vmc(receiver.datagrams)) < len(poses) and time.monotonic() < deadline:
        time.sleep(0.01)
    datagrams = receiver.stop()
    expected = {"/VMC/Ext/OK": ",iiii", "/VMC/Ext/T": ",f", "/VMC/Ext/Root/Pos": ",sfffffff", "/VMC/Ext/Bone/Pos": ",sfffffff",
                "/VMC/Ext/Blend/Val": ",sf", "/VMC/Ext/Blend/Apply": ","}
    for address, tags in type_tags(datagrams):
        assert tags == expected[address], (address, tags)
    frames = decode_vmc(datagrams)
    assert len(frames) == len(poses)
    return frames


def direction(positions: dict[str, np.ndarray], start: str, end: str) -> np.ndarray:
    vector = positions[end] - positions[start]
    return vector / np.linalg.norm(vector)


@pytest.fixture
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


def test_fingers_and_expressions_arrive_with_the_body() -> None:
    """With hands and face tracked: the 30 finger bones after the body's, then each expression
    and one Apply; a curled finger arrives curled, the blink on its own eye."""
    skeleton = humanoid_skeleton(fingers=True)
    rotvecs = np.zeros((len(skeleton.names), 3))
    rotvecs[skeleton.names.index("LeftIndexProximal")] = np.radians([0.0, 0.0, -80.0])   # curled toward the palm (-Y)
    face = FaceExpression(blink_left=1.0, blink_right=0.0, jaw_open=0.4, vowels=(0.4, 0, 0, 0, 0),
                          brow_up=0.0, brow_down=0.0, gaze_yaw_deg=0.0, gaze_pitch_deg=0.0)
    pose = SkeletonPose(0.5, skeleton, HIPS_M.copy(), Rotation.from_rotvec(rotvecs), True, True, face)
    [frame] = send_and_receive(pose)
    assert len(frame.bones) == 51 and frame.blends_applied
    _, positions = frame.forward_kinematics()
    knuckle_to_tip = direction(positions, "LeftIndexProximal", "LeftIndexIntermediate")
    assert knuckle_to_tip[1] < -0.9                      # Unity axes: down
    assert frame.blends["Blink_L"] == 1.0 and frame.blends["Blink_R"] == 0.0 and frame.blends["Blink"] == 0.0
    assert frame.blends["A"] == pytest.approx(0.4)
    [plain] = send_and_receive(seated_pose())
    assert not plain.blends and not plain.blends_applied   # no face tracked: no expressions


def test_capture_time_and_tracking_state_are_sent() -> None:
    tracked, lost = send_and_receive(seated_pose(timestamp_s=1.25), seated_pose(tracked=False, timestamp_s=1.3))
    assert tracked.ok == (1, 3, 0, 1)      # loaded, calibrated, mode, tracking
    assert lost.ok == (1, 3, 0, 0)
    assert tracked.time_s == pytest.approx(1.25) and lost.time_s == pytest.approx(1.3)


def test_each_bone_keeps_its_quaternions_side_from_frame_to_frame() -> None:
    """The same pose sent with every quaternion negated (the same rotations) arrives unchanged."""
    pose = seated_pose()
    negated = SkeletonPose(1.3, pose.skeleton, pose.root_position_m, Rotation.from_quat(-pose.local_rotations.as_quat()),
                           True, True)
    first, second = send_and_receive(pose, negated)
    for name, (_, quat) in first.bones.items():
        np.testing.assert_allclose(second.bones[name][1], quat, atol=1e-7, err_msg=name)


def test_a_rate_limit_sends_at_most_that_many_frames_a_second() -> None:
    receiver = UdpReceiver()
    limited = VmcSender("127.0.0.1", receiver.port, max_rate_hz=0.5)
    for _ in range(5):
        limited.write(seated_pose())
    limited.close()
    time.sleep(0.2)
    assert limited.sent_frames == 1 and len(decode_vmc(receiver.stop())) == 1


def test_bytes_sent_and_the_sent_callback_are_what_left_the_socket() -> None:
    """The bytes counted are the datagrams' bytes received; the callback gets each sent pose's
    capture time, once."""
    receiver = UdpReceiver()
    sent_times: list[float] = []
    sender = VmcSender("127.0.0.1", receiver.port, on_sent=sent_times.append)
    for frame in range(3):
        sender.write(seated_pose(timestamp_s=0.5 + frame / 30.0))
    sender.close()
    time.sleep(0.2)
    datagrams = receiver.stop()
    assert sender.sent_bytes == sum(len(d) for d in datagrams) and sender.sent_frames == 3
    assert sent_times == pytest.approx([0.5, 0.5 + 1 / 30.0, 0.5 + 2 / 30.0])


def test_a_send_that_fails_is_counted_and_capture_goes_on() -> None:
    sender = VmcSender("127.0.0.1", DEFAULT_VMC_PORT)
    sender.close()
    sender.write(seated_pose())           # the socket is gone: nothing raises
    assert sender.send_errors == 2 and sender.sent_frames == 1      # a frame is two bundles


def test_sending_goes_on_while_the_receiver_is_absent_and_after_it_restarts() -> None:
    """No receiver on the port (loopback answers each datagram with ICMP port unreachable, which
    the sender's unconnected socket never sees as an error): sending goes on; a receiver
    started on that port then gets every frame from then on."""
    absent = UdpReceiver()
    port = absent.port
    absent.stop()                         # the port is closed now
    sender = VmcSender("127.0.0.1", port)
    for frame in range(20):
        sender.write(seated_pose(timestamp_s=frame / 30.0))
    receiver = UdpReceiver(port)
    for frame in range(20, 25):
        sender.write(seated_pose(timestamp_s=frame / 30.0))
    sender.close()
    time.sleep(0.2)
    received = decode_vmc(receiver.stop())
    assert sender.sent_frames == 25
    assert [round(f.time_s * 30.0) for f in received] == list(range(20, 25))


def test_an_unknown_host_is_one_clear_error() -> None:
    with pytest.raises(MocapError, match="cannot resolve host 'no-such-host.invalid': use an IP address"):
        VmcSender("no-such-host.invalid", DEFAULT_VMC_PORT)


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:39540", ("127.0.0.1", 39540)),
    ("localhost", ("localhost", DEFAULT_VMC_PORT)),
    ("studio-pc:1", ("studio-pc", 1)),
    ("studio-pc:65535", ("studio-pc", 65535)),
    ("::1:39540", ("::1", 39540)),
])
def test_addresses_are_host_and_port(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text, default_port=DEFAULT_VMC_PORT) == expected


@pytest.mark.parametrize("text", ["127.0.0.1:port", "127.0.0.1:-5", ":39539", " :39539", "127.0.0.1:"])
def test_bad_addresses_say_what_is_expected(text: str) -> None:
    with pytest.raises(MocapError, match=f"bad address '{text}': expected HOST:PORT, e.g. 127.0.0.1:39539"):
        parse_address(text, default_port=DEFAULT_VMC_PORT)


@pytest.mark.parametrize(("text", "port"), [("127.0.0.1:0", 0), ("127.0.0.1:65536", 65536), ("127.0.0.1:99999", 99999)])
def test_a_port_out_of_range_is_named_with_the_range(text: str, port: int) -> None:
    with pytest.raises(MocapError, match=f"bad address '{text}': port {port} is out of range; use a port from 1 to 65535"):
        parse_address(text, default_port=DEFAULT_VMC_PORT)


def test_bundles_fill_up_to_the_size_limit_and_keep_the_order() -> None:
    """Messages of 40 bytes (44 with their size) fill a 16-byte bundle header up to 236 bytes
    exactly: five a bundle."""
    messages = [b"/m\x00\x00,is\x00" + i.to_bytes(4, "big") + b"x" * 27 + b"\x00" for i in range(12)]
    assert all(len(m) == 40 for m in messages)
    bundles = pack_bundles(messages, max_bytes=16 + 5 * 44)
    assert [len(b) for b in bundles] == [236, 236, 16 + 2 * 44]
    received = [message for bundle in bundles for message in OscBundle(bundle)]
    assert [m.params[0] for m in received] == list(range(12))
