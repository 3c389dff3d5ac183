"""VRChat OSC trackers: full-body tracking for VRChat from a webcam (docs/vrchat.md).

Per frame, one bundle: ``/tracking/trackers/N/position`` and ``/tracking/trackers/N/rotation``
for the eight trackers VRChat takes (:data:`TRACKERS`), then ``/tracking/trackers/head/...``,
which VRChat uses to align the trackers with the headset. Positions are metres in Unity's axes
(VRChat is a Unity game); rotations are Euler angles in degrees as Unity's
``Quaternion.Euler(x, y, z)`` takes them: z about Z first, then x about X, then y about Y.

Re-centring (:data:`RECENTER`, set by SIGUSR1) moves the trackers' origin under the
performer's hips and turns it so the performer faces forward (+Z); the floor stays at 0.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.conventions import to_engine_axes
from mocap.core.frames import SkeletonPose
from mocap.sinks.osc import OscSender, osc_message

DEFAULT_VRCHAT_PORT = 9000
# Tracker number -> the bone at whose joint it sits and whose rotation it carries: hip, chest,
# feet, knees, elbows (VRChat's own list; the numbers are the ones tracker tools use).
TRACKERS: dict[int, str] = {1: "Hips", 2: "Chest", 3: "LeftFoot", 4: "RightFoot", 5: "LeftLowerLeg",
                            6: "RightLowerLeg", 7: "LeftLowerArm", 8: "RightLowerArm"}
RECENTER = threading.Event()   # set it (SIGUSR1) to re-centre at the next frame


def unity_euler_deg(quats_xyzw: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unity quaternions (n, 4) -> (x, y, z) degrees with q = Ry(y) Rx(x) Rz(z), as
    ``Quaternion.Euler(x, y, z)`` builds it."""
    y, x, z = Rotation.from_quat(quats_xyzw).as_euler("YXZ", degrees=True).T
    return np.stack([x, y, z], axis=-1)


class VrchatTrackerSender(OscSender):
    """Sends the trackers and the head reference of each pose (see the module doc)."""

    def __init__(self, host: str, port: int, *, max_rate_hz: float = 0.0,
                 on_sent: Callable[[float], None] | None = None) -> None:
        super().__init__(host, port, max_rate_hz=max_rate_hz, on_sent=on_sent)
        self._origin_m = np.zeros(3)             # Unity axes
        self._turn = Rotation.identity()         # applied to positions and rotations after the origin

    def _recenter(self, positions: NDArray[np.float64], quats: NDArray[np.float64], hips: int) -> None:
        """Origin under the hips; yaw so the hips face +Z."""
        self._origin_m = np.array([positions[hips, 0], 0.0, positions[hips, 2]])
        forward = Rotation.from_quat(quats[hips]).apply([0.0, 0.0, 1.0])
        self._turn = Rotation.from_euler("y", -np.degrees(np.arctan2(forward[0], forward[2])), degrees=True)

    def messages(self, pose: SkeletonPose) -> list[bytes]:
        world, positions = pose.skeleton.forward_kinematics(pose.local_rotations, pose.root_position_m)
        positions, quats = to_engine_axes(positions, world, "unity")
        names = list(pose.skeleton.names)
        if RECENTER.is_set():
            RECENTER.clear()
            self._recenter(positions, quats, names.index("Hips"))
        positions = self._turn.apply(positions - self._origin_m)
        quats = (self._turn * Rotation.from_quat(quats)).as_quat()
        angles = unity_euler_deg(quats)
        messages = []
        for number, bone in TRACKERS.items():
            index = names.index(bone)
            messages.append(osc_message(f"/tracking/trackers/{number}/position", *positions[index].tolist()))
            messages.append(osc_message(f"/tracking/trackers/{number}/rotation", *angles[index].tolist()))
        head = names.index("Head")
        messages.append(osc_message("/tracking/trackers/head/position", *positions[head].tolist()))
        messages.append(osc_message("/tracking/trackers/head/rotation", *angles[head].tolist()))
        return messages
