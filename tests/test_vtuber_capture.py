"""End to end on a real upper-body video (fist, then thumbs-up): `mocap capture --preset vtuber`
sends the fingers and the face over VMC to a loopback receiver, records BVH on Godette (a VRM
with finger bones) and the landmarks with their hand and face keys, which `mocap solve` replays."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import UdpReceiver, run_mocap, shared, unavailable
from pythonosc.osc_bundle import OscBundle
from vmc_receiver import VmcFrame, decode_vmc

from mocap.formats.bvh import read_bvh
from mocap.formats.landmarks_file import load_landmarks

FINGERS = ("Thumb", "Index", "Middle", "Ring", "Little")
VRM0_EXPRESSIONS = {"Blink", "Blink_L", "Blink_R", "A", "I", "U", "E", "O", "LookUp", "LookDown", "LookLeft", "LookRight"}


@dataclass
class VtuberCapture:
    stderr: str
    datagrams: list[bytes]
    frames: list[VmcFrame]
    folder: Path


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> VtuberCapture:
    folder = tmp_path_factory.mktemp("vtuber")
    receiver = UdpReceiver()
    result = run_mocap(
        "capture", "--video", str(shared("hands/video/gesture_recognizer_android_test_video_thumbs_up.mp4")),
        "--preset", "vtuber", "--vmc", f"127.0.0.1:{receiver.port}", "--rig", str(shared("rigs/vrm/Godette_vrm_v4.vrm")),
        "--bvh", str(folder / "godette.bvh"), "--record-landmarks", str(folder / "take.npz"), "--no-progress",
    )
    datagrams = receiver.stop()
    assert result.returncode == 0, result.stderr
    return VtuberCapture(result.stderr, datagrams, decode_vmc(datagrams), folder)


def curl_deg(frame: VmcFrame, bones: list[str]) -> float:
    """The summed rotation (degrees) of ``bones`` from rest, as received."""
    return sum(float(np.degrees(2 * np.arccos(min(abs(frame.bones[bone][1][3]), 1.0)))) for bone in bones)


def test_every_frame_carries_the_fingers_and_the_face(capture: VtuberCapture) -> None:
    assert len(capture.frames) == 195
    assert max(len(datagram) for datagram in capture.datagrams) <= 1500
    assert all(isinstance(OscBundle(datagram), OscBundle) for datagram in capture.datagrams)
    fingers = {f"{side}{finger}{phalanx}" for side in ("Left", "Right") for finger in FINGERS
               for phalanx in ("Proximal", "Intermediate", "Distal")}
    for frame in capture.frames:
        assert fingers | {"LeftEye", "RightEye"} <= set(frame.bones) and len(frame.bones) == 53
        assert set(frame.blends) == VRM0_EXPRESSIONS and frame.blends_applied
        assert all(0.0 <= value <= 1.0 for value in frame.blends.values())
    assert "12 of the 12 vrm0 expressions sent are on it" in capture.stderr


def test_the_performers_right_hand_makes_a_fist_then_a_thumbs_up(capture: VtuberCapture) -> None:
    """She shows only her right hand: its fingers fold into a fist and stay folded under the
    raised thumb; her left hand, never seen, stays at rest."""
    recording = load_landmarks(capture.folder / "take.npz")
    assert recording.hands_px is not None and recording.face_px is not None
    seen = np.isfinite(recording.hands_px[0, :, :, 0, 0])
    assert not seen[:, 0].any() and seen[:, 1].sum() > 150
    assert np.isfinite(recording.face_px[0, :, 0, 0]).all()
    right_fingers = [f"Right{finger}{phalanx}" for finger in FINGERS[1:] for phalanx in ("Proximal", "Intermediate", "Distal")]
    right_thumb = ["RightThumbIntermediate", "RightThumbDistal"]
    held = capture.frames[-50:]   # the last 2 s: the thumbs-up held toward the camera
    assert np.median([curl_deg(frame, right_fingers) / 4 for frame in held]) > 120   # each finger folded (measured 170)
    assert np.median([curl_deg(frame, right_thumb) for frame in held]) < 45          # the thumb up (measured 26)
    assert curl_deg(capture.frames[5], right_fingers) < 1.0          # before the hand appears: at rest
    left = [f"Left{finger}{phalanx}" for finger in FINGERS for phalanx in ("Proximal", "Intermediate", "Distal")]
    assert max(curl_deg(frame, left) for frame in capture.frames) < 1e-3


def test_the_recording_solves_to_a_bvh_with_animated_fingers(capture: VtuberCapture) -> None:
    bvh_path = capture.folder / "solved.bvh"
    result = run_mocap("solve", str(capture.folder / "take.npz"), "--bvh", str(bvh_path), "--no-progress")
    assert result.returncode == 0, result.stderr
    clip = read_bvh(bvh_path)
    index = clip.names.index("RightIndexIntermediate")
    columns = [clip.joints[index].first_channel + k for k, name in enumerate(clip.joints[index].channels)
               if name.lower().endswith("rotation")]
    assert np.ptp(clip.motion[:, columns], axis=0).max() > 60
    assert {f"Left{finger}Distal" for finger in FINGERS} <= set(clip.names)


def test_blender_imports_the_godette_bvh_with_its_fingers_moving(capture: VtuberCapture) -> None:
    try:
        bpy = importlib.import_module("bpy")
    except ImportError:
        unavailable("bpy cannot be imported: Blender as a Python module installs on Python 3.11 only")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_anim.bvh(filepath=str(capture.folder / "godette.bvh"), global_scale=0.01, rotate_mode="NATIVE")
    armature = bpy.context.selected_objects[0]
    finger = next(name for name in armature.pose.bones.keys() if name.startswith("Finger.001.r"))

    def direction(frame: int) -> np.ndarray:
        bpy.context.scene.frame_set(frame + 1)
        bone = armature.pose.bones[finger]
        return np.array(bone.tail - bone.head) / bone.length

    bend = np.degrees(np.arccos(np.clip(direction(5) @ direction(180), -1.0, 1.0)))
    assert bend > 45, bend   # at rest before the hand appears, curled in the thumbs-up
