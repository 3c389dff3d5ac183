"""The capture loop: source -> estimator -> lifting -> filter -> solver -> sinks.

It knows the stages only by their interfaces, not MediaPipe, OSC or BVH.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from mocap.conventions import HIP_LANDMARKS
from mocap.filtering import BodyFilter, HoldThenRest, RotationFilter
from mocap.frames import BodyPose, Frame, PoseObservation, SkeletonPose
from mocap.measure import BodyMeasurer
from mocap.skeleton import BodyProportions, Skeleton, humanoid_skeleton
from mocap.solver import DirectionSolver


class Estimator(Protocol):
    def estimate(self, frame: Frame) -> PoseObservation: ...


class Lifter(Protocol):
    def lift(self, observation: PoseObservation) -> BodyPose: ...


class PoseSink(Protocol):
    def write(self, pose: SkeletonPose) -> None: ...
    def close(self) -> None: ...


FrameObserver = Callable[[Frame, PoseObservation, SkeletonPose], None]


@dataclass
class StageTimer:
    """Milliseconds spent per stage, accumulated over a run."""

    total_ms: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    frames: int = 0

    def mean_ms(self) -> dict[str, float]:
        return {stage: ms / max(self.frames, 1) for stage, ms in self.total_ms.items()}


@dataclass
class RunSummary:
    frames: int
    detected_frames: int
    wall_s: float
    stage_ms: dict[str, float]

    @property
    def detection_rate(self) -> float:
        return self.detected_frames / self.frames if self.frames else 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    def describe(self) -> str:
        stages = ", ".join(f"{name} {ms:.2f}" for name, ms in self.stage_ms.items())
        return (
            f"{self.frames} frames, person detected in {100 * self.detection_rate:.0f}%, "
            f"{self.fps:.1f} frames/s; per-stage ms: {stages}"
        )


class MotionPipeline:
    """Turns frames into solved skeleton poses and hands them to the sinks."""

    def __init__(
        self,
        *,
        estimator: Estimator,
        lifter: Lifter,
        body_filter: BodyFilter,
        rotation_filter: RotationFilter,
        hold_then_rest: HoldThenRest,
        measurer: BodyMeasurer,
        solver: DirectionSolver,
        sinks: Iterable[PoseSink] = (),
        observers: Iterable[FrameObserver] = (),
        min_confidence: float = 0.5,
    ) -> None:
        self.estimator = estimator
        self.lifter = lifter
        self.body_filter = body_filter
        self.rotation_filter = rotation_filter
        self.hold_then_rest = hold_then_rest
        self.measurer = measurer
        self.solver = solver
        self.sinks = list(sinks)
        self.observers = list(observers)
        self.min_confidence = min_confidence
        self.timer = StageTimer()
        self._skeleton_for: tuple[BodyProportions, Skeleton] | None = None
        self._root_m = np.array([0.0, BodyProportions().hip_height_m, 0.0])

    def _skeleton(self) -> Skeleton:
        proportions = self.measurer.proportions
        if self._skeleton_for is None or self._skeleton_for[0] != proportions:
            self._skeleton_for = (proportions, humanoid_skeleton(proportions))
        return self._skeleton_for[1]

    def process(self, frame: Frame) -> SkeletonPose:
        times = self.timer.total_ms
        start = time.perf_counter()
        observation = self.estimator.estimate(frame)
        estimated = time.perf_counter()
        body = self.body_filter(self.lifter.lift(observation))
        filtered = time.perf_counter()
        self.measurer.add(body)
        skeleton = self._skeleton()
        solved = self.solver.solve(body)
        if body.detected and np.all(body.confidence[list(HIP_LANDMARKS)] >= self.min_confidence):
            self._root_m = body.joints_m[list(HIP_LANDMARKS)].mean(axis=0)
        local = self.hold_then_rest(solved.local, solved.tracked, frame.timestamp_s)
        local = self.rotation_filter(local, frame.timestamp_s)
        pose = SkeletonPose(
            timestamp_s=frame.timestamp_s,
            skeleton=skeleton,
            root_position_m=self._root_m.copy(),
            local_rotations=local,
            tracked=body.detected,
            skeleton_settled=self.measurer.settled,
        )
        solved_at = time.perf_counter()
        for sink in self.sinks:
            sink.write(pose)
        for observer in self.observers:
            observer(frame, observation, pose)
        done = time.perf_counter()
        times["estimate"] += 1000 * (estimated - start)
        times["lift+filter"] += 1000 * (filtered - estimated)
        times["solve"] += 1000 * (solved_at - filtered)
        times["sinks"] += 1000 * (done - solved_at)
        self.timer.frames += 1
        return pose

    def run(self, frames: Iterable[Frame], on_frame: Callable[[], None] | None = None) -> RunSummary:
        """Process every frame. The caller closes the sinks (also on Ctrl-C or error)."""
        start = time.perf_counter()
        count = detected = 0
        for frame in frames:
            pose = self.process(frame)
            count += 1
            detected += pose.tracked
            if on_frame is not None:
                on_frame()
        return RunSummary(count, detected, time.perf_counter() - start, self.timer.mean_ms())

