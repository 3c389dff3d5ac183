"""BVH recording, streamed to disk so a recording is never lost.

The hierarchy is the solved skeleton (HumanBodyBones names, the performer's proportions),
in centimetres by default. Every joint declares its rotation channels (intrinsic, as BVH
readers apply them left to right): by default ("auto") an order whose middle axis lies along
the bone, so no joint meets gimbal lock in ordinary motion (ZXY for arms along X, ZYX for legs
and spine along Y, XZY for feet along Z, YXZ for the freely turning root), or one ``rotation_order`` for all; angles are made continuous from frame
to frame, so no 360-degree or gimbal-branch jumps appear. Frames are written as they come;
the header's ``Frames`` and ``Frame Time`` fields are fixed-width and rewritten in place
at every flush and at the end (normal end, Ctrl-C or error), so the file on disk is always
a valid BVH of what was captured so far.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

import numpy as np
from numpy.typing import NDArray

from mocap.core.errors import MocapError
from mocap.core.frames import SkeletonPose
from mocap.core.skeleton import Skeleton
from mocap.formats.bvh import AXIS_CHANNEL, UNITS_PER_METRE, continuous_euler, end_site_offset, gimbal_safe_order

_COUNT_FIELD = "Frames: {:<12d}"
_TIME_FIELD = "Frame Time: {:<14.8f}"


class BvhWriter:
    """Writes solved poses to ``path`` as BVH.

    The header is written once the performer's proportions are settled (poses before that
    are held in memory, a couple of seconds at most) or at close, whichever comes first.
    ``frame_time_s``: seconds per frame if known (video files); otherwise it is measured
    from the pose timestamps.
    """

    def __init__(
        self,
        path: Path,
        *,
        frame_time_s: float | None = None,
        rotation_order: str = "auto",
        units: str = "cm",
        flush_every: int = 30,
    ) -> None:
        if rotation_order != "auto" and sorted(rotation_order.upper()) != ["X", "Y", "Z"]:
            raise MocapError(f"bad BVH rotation order '{rotation_order}': use auto or a permutation of XYZ such as ZXY")
        if units not in UNITS_PER_METRE:
            raise MocapError(f"bad BVH units '{units}': use cm or m")
        self.path = path
        self._order = rotation_order if rotation_order == "auto" else rotation_order.upper()
        self._orders: list[str] = []                               # per joint, as the header declares
        self._written_order: list[int] = []                        # joints in the header's (depth-first) order
        self._order_groups: list[tuple[str, list[int]]] = []       # (order, joints using it)
        self._scale = UNITS_PER_METRE[units]
        self._frame_time_s = frame_time_s
        self._flush_every = flush_every
        try:
            self._file: TextIO = open(path, "w", encoding="ascii", newline="\n")
        except OSError as error:
            raise MocapError(f"cannot write BVH file {path}: {error.strerror} (choose a writable path for --bvh)") from None
        self._pending: list[SkeletonPose] = []
        self._skeleton: Skeleton | None = None
        self._count_offset = self._time_offset = 0
        self._frames = 0
        self._first_s = self._last_s = 0.0
        self._previous_deg: NDArray[np.float64] | None = None
        self._last_flush = time.monotonic()

    def write(self, pose: SkeletonPose) -> None:
        if self._skeleton is None:
            self._pending.append(pose)
            if pose.skeleton_settled:
                self._start(pose.skeleton)
            return
        self._write_frame(pose)

    def _start(self, skeleton: Skeleton) -> None:
        self._skeleton = skeleton
        self._write_header(skeleton)
        pending, self._pending = self._pending, []
        for pose in pending:
            self._write_frame(pose)

    def _write_header(self, skeleton: Skeleton) -> None:
        children: dict[int, list[int]] = {i: [] for i in range(len(skeleton.names))}
        for bone, parent in enumerate(skeleton.parents):
            if parent >= 0:
                children[parent].append(bone)
        self._orders = [
            gimbal_safe_order(skeleton, bone, children[bone]) if self._order == "auto" else self._order
            for bone in range(len(skeleton.names))
        ]
        self._order_groups = [
            (order, [bone for bone, bone_order in enumerate(self._orders) if bone_order == order])
            for order in sorted(set(self._orders))
        ]
        lines = ["HIERARCHY"]
        self._written_order = []   # the joints in the order the header declares them (depth first)

        def emit(bone: int, depth: int) -> None:
            self._written_order.append(bone)
            pad = "  " * depth
            offset = np.zeros(3) if skeleton.parents[bone] < 0 else skeleton.rest_offsets_m[bone] * self._scale
            keyword = "ROOT" if skeleton.parents[bone] < 0 else "JOINT"
            lines.append(f"{pad}{keyword} {skeleton.names[bone]}")
            lines.append(f"{pad}{{")
            lines.append(f"{pad}  OFFSET {offset[0]:.4f} {offset[1]:.4f} {offset[2]:.4f}")
            channels = " ".join(AXIS_CHANNEL[axis] for axis in self._orders[bone])
            if skeleton.parents[bone] < 0:
                lines.append(f"{pad}  CHANNELS 6 Xposition Yposition Zposition {channels}")
            else:
                lines.append(f"{pad}  CHANNELS 3 {channels}")
            for child in children[bone]:
                emit(child, depth + 1)
            if not children[bone]:
                end = end_site_offset(skeleton, bone) * self._scale
                lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET {end[0]:.4f} {end[1]:.4f} {end[2]:.4f}", f"{pad}  }}"])
            lines.append(f"{pad}}}")

        emit(0, 0)
        header = "\n".join(lines) + "\nMOTION\n"
        self._file.write(header)
        self._count_offset = len(header)
        self._file.write(_COUNT_FIELD.format(0) + "\n")
        self._time_offset = self._file.tell()
        self._file.write(_TIME_FIELD.format(self._frame_time_s or 1.0 / 30.0) + "\n")
        self._file.flush()

    def _write_frame(self, pose: SkeletonPose) -> None:
        if self._frames == 0:
            self._first_s = pose.timestamp_s
        self._last_s = pose.timestamp_s
        angles = np.empty((len(self._orders), 3))
        for order, bones in self._order_groups:
            previous = None if self._previous_deg is None else self._previous_deg[bones]
            angles[bones] = continuous_euler(pose.local_rotations[bones], order, previous)
        self._previous_deg = angles
        values = np.concatenate([pose.root_position_m * self._scale, angles[self._written_order].reshape(-1)])
        self._file.write(" ".join(f"{v:.4f}" for v in values) + "\n")
        self._frames += 1
        if self._frames % self._flush_every == 0 or time.monotonic() - self._last_flush > 1.0:
            self._update_header()

    def _measured_frame_time_s(self) -> float:
        if self._frame_time_s is not None:
            return self._frame_time_s
        if self._frames > 1 and self._last_s > self._first_s:
            return (self._last_s - self._first_s) / (self._frames - 1)
        return 1.0 / 30.0

    def _update_header(self) -> None:
        self._file.flush()
        end = self._file.tell()
        self._file.seek(self._count_offset)
        self._file.write(_COUNT_FIELD.format(self._frames))
        self._file.seek(self._time_offset)
        self._file.write(_TIME_FIELD.format(self._measured_frame_time_s()))
        self._file.seek(end)
        self._file.flush()
        self._last_flush = time.monotonic()

    @property
    def frames_written(self) -> int:
        return self._frames

    def close(self) -> None:
        if self._file.closed:
            return
        try:
            if self._skeleton is None and self._pending:
                self._start(self._pending[-1].skeleton)
            if self._skeleton is not None:
                self._update_header()
        finally:
            self._file.close()
