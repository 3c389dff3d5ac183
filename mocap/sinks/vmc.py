"""VMC protocol sender (OSC over UDP), as VSeeFace, VNyan, Warudo and VirtualMotionCapture receive it.

Per frame: /VMC/Ext/OK, /VMC/Ext/T, /VMC/Ext/Root/Pos, one /VMC/Ext/Bone/Pos per bone (the
30 finger bones too when hands are tracked) and, when the face is tracked, one
/VMC/Ext/Blend/Val per expression then /VMC/Ext/Blend/Apply, packed into OSC bundles of at most 1500 bytes (one Ethernet MTU, so no IP fragmentation).
Positions and rotations are converted to Unity axes here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from mocap.core.conventions import (
    continuous_quaternions,
    positions_to_unity,
    quaternions_to_unity,
)
from mocap.core.frames import SkeletonPose
from mocap.sinks.expressions import expression_weights
from mocap.sinks.osc import OscSender, osc_message

DEFAULT_VMC_PORT = 39539


def vmc_messages(pose: SkeletonPose, quats_unity: NDArray[np.float64], expressions: str = "vrm0") -> list[bytes]:
    """The VMC messages for one pose whose local rotations are ``quats_unity`` (bones, 4) in
    Unity axes, in sending order; its face's expressions named as ``expressions`` says
    (:data:`mocap.sinks.expressions.EXPRESSION_SCHEMES`). /VMC/Ext/T carries the frame's capture time (seconds since
    the source started).

    Root/Pos is the ground point under the hips; the Hips bone carries the hips' height
    above it. Every other bone carries its real local rest offset (never zeros: receivers
    such as EVMC4U apply positions, and zeros would crush the skeleton).
    """
    skeleton = pose.skeleton
    hips = pose.root_position_m
    root_unity = positions_to_unity(np.array([hips[0], 0.0, hips[2]]))
    offsets = skeleton.rest_offsets_m.copy()
    offsets[0] = (0.0, hips[1], 0.0)
    offsets_unity = positions_to_unity(offsets).tolist()
    messages = [
        osc_message("/VMC/Ext/OK", 1, 3, 0, 1 if pose.tracked else 0),  # loaded, calibrated, mode, tracking
        osc_message("/VMC/Ext/T", float(pose.timestamp_s)),
        osc_message("/VMC/Ext/Root/Pos", "root", *root_unity.tolist(), 0.0, 0.0, 0.0, 1.0),
    ]
    for name, offset, quat in zip(skeleton.names, offsets_unity, quats_unity.tolist()):
        messages.append(osc_message("/VMC/Ext/Bone/Pos", name, *offset, *quat))
    if pose.face is not None:
        for name, weight in expression_weights(pose.face, expressions).items():
            messages.append(osc_message("/VMC/Ext/Blend/Val", name, float(weight)))
        messages.append(osc_message("/VMC/Ext/Blend/Apply"))
    return messages


class VmcSender(OscSender):
    """Sends each pose as VMC. Each bone's quaternion keeps the sign side of the one sent
    before it, so receivers never see q then -q. ``expressions``: the face's blend shape names
    (:data:`mocap.sinks.expressions.EXPRESSION_SCHEMES`)."""

    def __init__(self, host: str, port: int, *, expressions: str = "vrm0", max_rate_hz: float = 0.0,
                 on_sent: Callable[[float], None] | None = None) -> None:
        super().__init__(host, port, max_rate_hz=max_rate_hz, on_sent=on_sent)
        self.expressions = expressions
        self._sent_quats_unity: NDArray[np.float64] | None = None

    def messages(self, pose: SkeletonPose) -> list[bytes]:
        quats_unity = quaternions_to_unity(pose.local_rotations.as_quat())
        self._sent_quats_unity = continuous_quaternions(quats_unity, self._sent_quats_unity)
        return vmc_messages(pose, self._sent_quats_unity, self.expressions)
