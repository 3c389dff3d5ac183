"""The capture loop: source -> estimator -> lifting -> filter -> solver -> sinks.

It knows the stages only by their interfaces, not MediaPipe, OSC or BVH, nor how many
cameras there are: a frame is a :class:`~mocap.core.frames.Frame` (a
:class:`~mocap.sources.sync.FrameSet` with several cameras), and its observations are always a
tuple, one :class:`~mocap.core.frames.PoseObservation` per camera. A recording is replayed from
its observations (:meth:`MotionPipeline.process_observations`), skipping the estimator; bodies
lifted and smoothed beforehand from :meth:`MotionPipeline.process_body` on.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy.spatial.transform import Rotation

from mocap.core.conventions import HIP_LANDMARKS
from mocap.core.frames import BodyPose, Observations, SkeletonPose
from mocap.core.latency import CAPTURED, ESTIMATED, SOLVED, LatencyLog, LatencyReport
from mocap.core.skeleton import BodyProportions, Skeleton, humanoid_skeleton
from mocap.filtering.outliers import OutlierGuard
from mocap.filtering.temporal import BodyFilter, HoldThenRest, RotationFilter
from mocap.solving.face import FaceTracker, best_face, eye_rotations
from mocap.solving.foot_contact import FootContact
from mocap.solving.hands import HandTracker
from mocap.solving.joint_limits import JointLimits
from mocap.solving.measure import BodyMeasurer
from mocap.solving.solver import DirectionSolver


class TimedInput(Protocol):
    @property
    def timestamp_s(self) -> float: ...

    @property
    def captured_monotonic_s(self) -> float | None: ...


class Estimator(Protocol):
    def estimate(self, frame: Any) -> Observations: ...


class Lifter(Protocol):
    def lift(self, observations: Observations) -> BodyPose: ...


class PoseSink(Protocol):
    def write(self, pose: SkeletonPose) -> None: ...
    def close(self) -> None: ...


class PoseCollector:
    """A pose sink keeping every solved pose, to use them afterwards (draw them, check them)."""

    def __init__(self) -> None:
        self.poses: list[SkeletonPose] = []

    def write(self, pose: SkeletonPose) -> None:
        self.poses.append(pose)

    def close(self) -> None:
        """Nothing to close."""


FrameObserver = Callable[[Any, Observations], None]  # (frame or frame set, its observations), on the capture thread


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
    held_landmarks: int = 0      # landmark-frames the outlier guard did not trust (they jumped)
    swaps_undone: int = 0        # left/right swaps the outlier guard undid
    latency: LatencyReport | None = None
    dropped_frames: int = 0      # live sources: frames skipped because capture was still busy
    offline_smoothing_hz: float | None = None   # the take was solved offline, smoothed at this cutoff

    @property
    def detection_rate(self) -> float:
        return self.detected_frames / self.frames if self.frames else 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    def describe(self) -> str:
        stages = ", ".join(f"{name} {ms:.2f}" for name, ms in self.stage_ms.items())
        text = (
            f"{self.frames} frames, person detected in {100 * self.detection_rate:.0f}%, "
            f"{self.fps:.1f} frames/s; per-stage ms: {stages}"
        )
        if self.offline_smoothing_hz is not None:
            text += (f"\nSolved offline: the whole take smoothed at {self.offline_smoothing_hz:g} Hz with no delay "
                     "(--live: the live filters instead)")
        if self.dropped_frames:
            text += f"\nDropped {self.dropped_frames} frames the capture could not keep up with (live source)"
        if self.held_landmarks or self.swaps_undone:
            text += (f"\nOutlier guard: {self.held_landmarks} jumping landmark-frames held, "
                     f"{self.swaps_undone} left/right swaps undone")
        if self.latency is not None and self.latency.frames:
            text += "\nLatency:\n" + self.latency.describe()
        return text


class InOrderWorker:
    """Runs ``work`` on each handed item, in order, on one thread. At most ``max_waiting`` items
    wait (the caller blocks beyond that, so a slow consumer slows capture instead of piling up
    frames). An error in ``work`` is raised in the caller at the next hand-off or at ``join``."""

    _DONE = object()

    def __init__(self, work: Callable[[Any], None], *, max_waiting: int = 2) -> None:
        self._work = work
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_waiting)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="finish frames", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (item := self._queue.get()) is not self._DONE:
            try:
                self._work(item)
            except BaseException as error:  # handed to the caller
                self._error = error
                return

    def hand(self, item: Any) -> None:
        while True:
            if self._error is not None:
                raise self._error
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def join(self) -> None:
        """Finish every handed item, then stop."""
        if self._error is None:
            self.hand(self._DONE)
            self._thread.join()
        if self._error is not None:
            raise self._error


class MotionPipeline:
    """Turns frames into solved skeleton poses and hands them to the sinks.

    ``body_filter`` and ``rotation_filter`` may be None for bodies already smoothed offline."""

    def __init__(
        self,
        *,
        estimator: Estimator | None,
        lifter: Lifter | None,
        outlier_guard: OutlierGuard,
        body_filter: BodyFilter | None,
        foot_contact: FootContact,
        rotation_filter: RotationFilter | None,
        hold_then_rest: HoldThenRest,
        measurer: BodyMeasurer,
        solver: DirectionSolver,
        joint_limits: JointLimits,
        sinks: Iterable[PoseSink] = (),
        observers: Iterable[FrameObserver] = (),
        min_confidence: float = 0.5,
        latency: LatencyLog | None = None,
        hands: HandTracker | None = None,
        face: FaceTracker | None = None,
    ) -> None:
        self.estimator = estimator
        self.lifter = lifter
        self.outlier_guard = outlier_guard
        self.body_filter = body_filter
        self.foot_contact = foot_contact
        self.rotation_filter = rotation_filter
        self.hold_then_rest = hold_then_rest
        self.measurer = measurer
        self.solver = solver
        self.joint_limits = joint_limits
        self.sinks = list(sinks)
        self.observers = list(observers)
        self.min_confidence = min_confidence
        self.latency = latency if latency is not None else LatencyLog()
        self.hands = hands
        self.face = face
        self.timer = StageTimer()
        self._skeletons_for: tuple[BodyProportions, Skeleton, Skeleton] | None = None
        self._root_m = np.array([0.0, BodyProportions().hip_height_m, 0.0])

    def _skeletons(self) -> tuple[Skeleton, Skeleton]:
        """The performer's body skeleton, and the one sent (with fingers and eyes when hands and face are tracked)."""
        proportions = self.measurer.proportions
        if self._skeletons_for is None or self._skeletons_for[0] != proportions:
            body = humanoid_skeleton(proportions)
            sent = body if self.hands is None and self.face is None else humanoid_skeleton(
                proportions, fingers=self.hands is not None, eyes=self.face is not None)
            self._skeletons_for = (proportions, body, sent)
        return self._skeletons_for[1], self._skeletons_for[2]

    def process(self, frame: TimedInput) -> SkeletonPose:
        """Estimate (observers see the frame and its observations), then :meth:`process_observations`."""
        return self.process_observations(self._estimate(frame), frame.timestamp_s)

    def _estimate(self, frame: TimedInput) -> Observations:
        """The estimator's observations of the frame; then the observers (the preview window,
        the landmark recorder) see both, on this thread."""
        if self.estimator is None:
            raise ValueError("this pipeline replays observations; it has no estimator")
        captured = frame.captured_monotonic_s
        self.latency.mark(frame.timestamp_s, CAPTURED, time.monotonic() if captured is None else captured)
        start = time.perf_counter()
        observations = self.estimator.estimate(frame)
        estimated = time.perf_counter()
        self.latency.mark(frame.timestamp_s, ESTIMATED, time.monotonic())
        for observer in self.observers:
            observer(frame, observations)
        self.timer.total_ms["estimate"] += 1000 * (estimated - start)
        self.timer.total_ms["observers"] += 1000 * (time.perf_counter() - estimated)
        return observations

    def process_observations(self, observations: Observations, timestamp_s: float) -> SkeletonPose:
        """Lift one frame's observations (one per camera), then :meth:`process_body`."""
        if self.lifter is None:
            raise ValueError("this pipeline takes bodies lifted beforehand; it has no lifter")
        start = time.perf_counter()
        body = self.lifter.lift(observations)
        self.timer.total_ms["lift+filter"] += 1000 * (time.perf_counter() - start)
        return self.process_body(body, timestamp_s, observations)

    def process_body(self, body: BodyPose, timestamp_s: float, observations: Observations = ()) -> SkeletonPose:
        """Guard, filter, solve and send one lifted body; the fingers and face (when tracked)
        from ``observations``."""
        times = self.timer.total_ms
        start = time.perf_counter()
        body = self.outlier_guard(body)
        if self.body_filter is not None:
            body = self.body_filter(body)
        filtered = time.perf_counter()
        self.measurer.add(body)
        skeleton, sent_skeleton = self._skeletons()
        solved = self.solver.solve(body)
        if body.detected and np.all(body.confidence[list(HIP_LANDMARKS)] >= self.min_confidence):
            self._root_m = body.joints_m[list(HIP_LANDMARKS)].mean(axis=0)
        local = self.hold_then_rest(self.joint_limits(solved.local), solved.tracked, timestamp_s)
        if self.rotation_filter is not None:   # on world rotations: a bone lags by its own filter alone
            world, _ = skeleton.forward_kinematics(local, self._root_m)
            local = skeleton.local_rotations(self.rotation_filter(world, timestamp_s))
        hands_and_face = time.perf_counter()
        face = None
        if self.hands is not None:
            local = Rotation.concatenate([local, self.hands(observations, timestamp_s)])
        if self.face is not None:
            face = self.face(best_face(observations), timestamp_s)
            local = Rotation.concatenate([local, eye_rotations(face)])
        hands_and_face_ms = 1000 * (time.perf_counter() - hands_and_face)
        if self.hands is not None or self.face is not None:
            times["hands+face"] += hands_and_face_ms
        pose = self.foot_contact(SkeletonPose(
            timestamp_s=timestamp_s,
            skeleton=sent_skeleton,
            root_position_m=self._root_m.copy(),
            local_rotations=local,
            tracked=body.detected,
            skeleton_settled=self.measurer.settled,
            face=face,
        ))
        solved_at = time.perf_counter()
        self.latency.mark(timestamp_s, SOLVED, time.monotonic())
        for sink in self.sinks:
            sink.write(pose)
        done = time.perf_counter()
        times["lift+filter"] += 1000 * (filtered - start)
        times["solve"] += 1000 * (solved_at - filtered) - hands_and_face_ms
        times["sinks"] += 1000 * (done - solved_at)
        self.timer.frames += 1
        return pose

    def run(self, frames: Iterable[TimedInput], on_frame: Callable[[], None] | None = None) -> RunSummary:
        """Process every frame (or frame set). Estimation runs on this thread and everything after
        it on one worker thread, in order, so the two overlap (MediaPipe releases the GIL while it
        computes) and the pipeline keeps up with the estimator. The caller closes the sinks (also
        on Ctrl-C or error); frames already estimated are finished first."""
        start = time.perf_counter()
        counts = {"frames": 0, "detected": 0}

        def finish(item: tuple[TimedInput, Any]) -> None:
            frame, observations = item
            pose = self.process_observations(observations, frame.timestamp_s)
            counts["frames"] += 1
            counts["detected"] += pose.tracked
            if on_frame is not None:
                on_frame()

        worker = InOrderWorker(finish)
        try:
            for frame in frames:
                worker.hand((frame, self._estimate(frame)))
        finally:
            worker.join()
        return self._summary(counts["frames"], counts["detected"], time.perf_counter() - start)

    def replay(
        self, recorded: Iterable[tuple[Observations, float]], on_frame: Callable[[], None] | None = None
    ) -> RunSummary:
        """Process recorded (observations, timestamp in seconds) pairs."""
        return self._count((self.process_observations(o, t) for o, t in recorded), on_frame)

    def replay_bodies(
        self, bodies: Iterable[tuple[BodyPose, Observations]], on_frame: Callable[[], None] | None = None
    ) -> RunSummary:
        """Process bodies lifted (and smoothed) beforehand, each with its frame's observations (for the hands and face)."""
        return self._count((self.process_body(body, body.timestamp_s, observations) for body, observations in bodies),
                           on_frame)

    def _count(self, poses: Iterable[SkeletonPose], on_frame: Callable[[], None] | None) -> RunSummary:
        start = time.perf_counter()
        count = detected = 0
        for pose in poses:
            count += 1
            detected += pose.tracked
            if on_frame is not None:
                on_frame()
        return self._summary(count, detected, time.perf_counter() - start)

    def _summary(self, frames: int, detected: int, wall_s: float) -> RunSummary:
        return RunSummary(frames, detected, wall_s, self.timer.mean_ms(),
                          self.outlier_guard.held, self.outlier_guard.swaps, self.latency.report())
