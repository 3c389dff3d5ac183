"""Sink adapters for a chosen rig: BVH on the rig's own joints, VMC with the rig's proportions."""

from __future__ import annotations

from dataclasses import replace

from mocap.core.frames import SkeletonPose
from mocap.core.pipeline import PoseSink
from mocap.retargeting.retarget import Retargeter


def performer_hip_height_m(pose: SkeletonPose) -> float:
    """The performer's hip height in the pose's canonical skeleton, metres."""
    return float(pose.skeleton.rest_offsets_m[0, 1])


class RetargetedSink:
    """Hands ``sink`` every pose retargeted onto the rig: its joints, names and rest pose."""

    def __init__(self, sink: PoseSink, retargeter: Retargeter) -> None:
        self.sink = sink
        self._retargeter = retargeter
        self._skeleton = retargeter.skeleton()

    def write(self, pose: SkeletonPose) -> None:
        local, root = self._retargeter.retarget(pose.local_rotations, pose.root_position_m, performer_hip_height_m(pose))
        self.sink.write(SkeletonPose(pose.timestamp_s, self._skeleton, root, local, pose.tracked, skeleton_settled=True))

    def close(self) -> None:
        self.sink.close()


class RigProportionsSink:
    """Hands ``sink`` the canonical (VRM0-normalised) rotations with the rig's bone offsets, and
    the root scaled by the ratio of hip heights so the avatar's feet stay on the floor."""

    def __init__(self, sink: PoseSink, retargeter: Retargeter) -> None:
        self.sink = sink
        self._skeleton = retargeter.canonical_skeleton()
        self._hip_height_m = retargeter.hip_height_m

    def write(self, pose: SkeletonPose) -> None:
        scale = self._hip_height_m / max(performer_hip_height_m(pose), 1e-6)
        self.sink.write(replace(pose, skeleton=self._skeleton, root_position_m=pose.root_position_m * scale,
                                skeleton_settled=True))

    def close(self) -> None:
        self.sink.close()
