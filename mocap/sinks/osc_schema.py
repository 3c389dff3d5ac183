"""The plain OSC schema for games (version 1): the performer's joints and bones in world space,
in the receiving engine's axes, for gameplay rather than for driving an avatar (docs/osc.md).

Per frame, in order, packed into bundles of at most 1500 bytes:

- ``/mocap/frame``      ``i`` frame number, ``f`` capture time (s), ``i`` tracked (1/0), ``i`` proportions settled (1/0)
- ``/mocap/joint``      ``s`` bone name, ``f`` x, ``f`` y, ``f`` z: where the bone starts, metres
- ``/mocap/bone``       ``s`` bone name, ``f`` x, ``f`` y, ``f`` z, ``f`` w: its world rotation from the T-pose
- ``/mocap/expression`` ``s`` name, ``f`` weight 0..1: the face's expressions (ARKit-style names), when tracked
- ``/mocap/frame/end``  ``i`` frame number: every message of the frame has been sent

Bone names are Unity HumanBodyBones names (the 30 finger bones too when hands are tracked). Positions are in the room: the floor at height 0,
the performer facing the engine's forward in the T-pose.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from mocap.core.conventions import ENGINE_AXES, continuous_quaternions, to_engine_axes
from mocap.core.errors import MocapError
from mocap.core.frames import SkeletonPose
from mocap.sinks.expressions import expression_weights
from mocap.sinks.osc import OscSender, osc_message

SCHEMA_VERSION = 1
DEFAULT_OSC_PORT = 39540


def schema_messages(pose: SkeletonPose, frame: int, positions_m: NDArray[np.float64],
                    quats: NDArray[np.float64]) -> list[bytes]:
    """The plain schema's messages for one pose, given its bones' world positions and rotations
    in the engine's axes (:func:`engine_pose`)."""
    names = pose.skeleton.names
    messages = [osc_message("/mocap/frame", frame, float(pose.timestamp_s), int(pose.tracked), int(pose.skeleton_settled))]
    messages += [osc_message("/mocap/joint", name, *position) for name, position in zip(names, positions_m.tolist())]
    messages += [osc_message("/mocap/bone", name, *quat) for name, quat in zip(names, quats.tolist())]
    if pose.face is not None:
        messages += [osc_message("/mocap/expression", name, float(weight))
                     for name, weight in expression_weights(pose.face, "arkit").items()]
    messages.append(osc_message("/mocap/frame/end", frame))
    return messages


def engine_pose(pose: SkeletonPose, engine: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each bone's world position (bones, 3), metres, and world rotation (bones, 4) as (x, y, z, w),
    in ``engine``'s axes."""
    world, positions = pose.skeleton.forward_kinematics(pose.local_rotations, pose.root_position_m)
    return to_engine_axes(positions, world, engine)


class OscSchemaSender(OscSender):
    """Sends each pose in the plain schema, in ``engine``'s axes (unity, godot or unreal); each
    bone's quaternion keeps the sign side of the one sent before it."""

    def __init__(self, host: str, port: int, *, engine: str = "unity", max_rate_hz: float = 0.0,
                 on_sent: Callable[[float], None] | None = None) -> None:
        if engine not in ENGINE_AXES:
            raise MocapError(f"unknown --osc-axes '{engine}': use {', '.join(ENGINE_AXES)}")
        super().__init__(host, port, max_rate_hz=max_rate_hz, on_sent=on_sent)
        self.engine = engine
        self._frame = 0
        self._sent_quats: NDArray[np.float64] | None = None

    def messages(self, pose: SkeletonPose) -> list[bytes]:
        positions, quats = engine_pose(pose, self.engine)
        self._sent_quats = continuous_quaternions(quats, self._sent_quats)
        self._frame += 1
        return schema_messages(pose, self._frame, positions, self._sent_quats)
