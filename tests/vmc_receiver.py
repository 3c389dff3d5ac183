"""Test-side VMC decoding and forward kinematics, independent of the package's own code.

The bone hierarchy is Unity's humanoid (HumanBodyBones), written out here so the check
does not lean on the sender's definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.parsing import osc_types
from scipy.spatial.transform import Rotation

UNITY_PARENTS: dict[str, str] = {
    "Spine": "Hips", "Chest": "Spine", "UpperChest": "Chest", "Neck": "Chest", "Head": "Neck",
    "LeftShoulder": "Chest", "LeftUpperArm": "LeftShoulder", "LeftLowerArm": "LeftUpperArm",
    "LeftHand": "LeftLowerArm", "RightShoulder": "Chest", "RightUpperArm": "RightShoulder",
    "RightLowerArm": "RightUpperArm", "RightHand": "RightLowerArm",
    "LeftUpperLeg": "Hips", "LeftLowerLeg": "LeftUpperLeg", "LeftFoot": "LeftLowerLeg", "LeftToes": "LeftFoot",
    "RightUpperLeg": "Hips", "RightLowerLeg": "RightUpperLeg", "RightFoot": "RightLowerLeg", "RightToes": "RightFoot",
    "LeftEye": "Head", "RightEye": "Head", "Jaw": "Head",
} | {
    f"{side}{finger}{segment}": f"{side}{finger}{parent}" if parent != "Hand" else f"{side}Hand"
    for side in ("Left", "Right")
    for finger in ("Thumb", "Index", "Middle", "Ring", "Little")
    for segment, parent in (("Proximal", "Hand"), ("Intermediate", "Proximal"), ("Distal", "Intermediate"))
}
HUMAN_BODY_BONES = {"Hips", *UNITY_PARENTS} | {
    f"{side}{finger}{segment}"
    for side in ("Left", "Right")
    for finger in ("Thumb", "Index", "Middle", "Ring", "Little")
    for segment in ("Proximal", "Intermediate", "Distal")
}


@dataclass
class VmcFrame:
    ok: tuple = ()
    time_s: float = float("nan")
    root: tuple = ()
    bones: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # name -> (pos, quat)
    blends: dict[str, float] = field(default_factory=dict)    # /VMC/Ext/Blend/Val name -> value
    blends_applied: bool = False                               # /VMC/Ext/Blend/Apply came after them

    def forward_kinematics(self) -> tuple[dict[str, Rotation], dict[str, np.ndarray]]:
        """Global rotations and positions (Unity axes) of every received bone."""
        root_rotation = Rotation.from_quat(self.root[4:8])
        rotations = {"Hips": root_rotation * Rotation.from_quat(self.bones["Hips"][1])}
        positions = {"Hips": np.array(self.root[1:4]) + root_rotation.apply(self.bones["Hips"][0])}
        pending = [b for b in self.bones if b != "Hips"]
        while pending:
            for bone in list(pending):
                parent = UNITY_PARENTS[bone]
                if parent in rotations:
                    rotations[bone] = rotations[parent] * Rotation.from_quat(self.bones[bone][1])
                    positions[bone] = positions[parent] + rotations[parent].apply(self.bones[bone][0])
                    pending.remove(bone)
        return rotations, positions


def type_tags(datagrams: list[bytes]) -> list[tuple[str, str]]:
    """(address, OSC type tag string) of every message, in order, read from the raw bytes."""
    tags = []
    for datagram in datagrams:
        for message in OscBundle(datagram):
            address, index = osc_types.get_string(message.dgram, 0)
            tags.append((address, osc_types.get_string(message.dgram, index)[0]))
    return tags


def decode_vmc(datagrams: list[bytes]) -> list[VmcFrame]:
    """Frames in arrival order; a frame starts at each /VMC/Ext/OK."""
    frames: list[VmcFrame] = []
    for datagram in datagrams:
        for message in OscBundle(datagram):
            assert isinstance(message, OscMessage)
            if message.address == "/VMC/Ext/OK":
                frames.append(VmcFrame(ok=tuple(message.params)))
            elif message.address == "/VMC/Ext/T":
                frames[-1].time_s = message.params[0]
            elif message.address == "/VMC/Ext/Root/Pos":
                frames[-1].root = tuple(message.params)
            elif message.address == "/VMC/Ext/Bone/Pos":
                name, *values = message.params
                frames[-1].bones[name] = (np.array(values[:3]), np.array(values[3:7]))
            elif message.address == "/VMC/Ext/Blend/Val":
                name, value = message.params
                frames[-1].blends[name] = value
                frames[-1].blends_applied = False
            elif message.address == "/VMC/Ext/Blend/Apply":
                frames[-1].blends_applied = True
    return frames
