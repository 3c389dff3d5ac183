"""Builds a capture session from a :class:`~mocap.app.config.CaptureConfig` and runs it.

One source gives the monocular path; two or more cameras or videos are synchronised,
estimated concurrently and triangulated with the calibration. Recordings replay through
the same filters and solver (:func:`run_replay`).
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np
from threadpoolctl import threadpool_limits

from mocap.app.config import OFFLINE_CUTOFF_HZ, CaptureConfig, VirtualCameraSettings
from mocap.cameras.camera_model import CameraModel
from mocap.core.errors import MocapError, note, require_writable
from mocap.core.frames import Frame, Observations, PoseObservation
from mocap.core.latency import SENT, LatencyLog
from mocap.core.pipeline import (
    Estimator,
    FrameObserver,
    Lifter,
    MotionPipeline,
    PoseSink,
    RunSummary,
)
from mocap.core.skeleton import BONE_NAMES
from mocap.display.avatar_mesh import load_avatar
from mocap.display.scene_view import BACKGROUNDS_BGR, ViewSettings
from mocap.display.viewer import LiveWindow
from mocap.estimation.mediapipe_pose import MediaPipePoseEstimator, PerCameraEstimator
from mocap.filtering.outliers import OutlierGuard
from mocap.filtering.smoothing import smooth_bodies
from mocap.filtering.temporal import BodyFilter, HoldThenRest, OneEuroSettings, RotationFilter
from mocap.formats.calibration_file import load_calibration
from mocap.formats.landmarks_file import (
    LandmarkRecorder,
    LandmarkRecording,
    check_landmarks_path,
    journal_path,
    load_landmarks,
)
from mocap.lifting.body_fit import DEFAULT_FIT
from mocap.lifting.monocular import MonocularLifter
from mocap.lifting.multiview import MultiViewLifter
from mocap.retargeting.retarget import Retargeter
from mocap.retargeting.rigs import load_rig
from mocap.sinks.background import BackgroundSink
from mocap.sinks.bvh import BvhWriter
from mocap.sinks.expressions import describe_rig_expressions
from mocap.sinks.osc import parse_address
from mocap.sinks.osc_schema import DEFAULT_OSC_PORT, OscSchemaSender
from mocap.sinks.rig import RetargetedSink, RigProportionsSink
from mocap.sinks.virtual_camera import AvatarFeed, PreviewFeed, VirtualCamera
from mocap.sinks.vmc import DEFAULT_VMC_PORT, VmcSender
from mocap.sinks.vrchat import DEFAULT_VRCHAT_PORT, VrchatTrackerSender
from mocap.solving.face import FaceTracker
from mocap.solving.foot_contact import ContactSettings, FootContact
from mocap.solving.hands import HandTracker
from mocap.solving.joint_limits import JointLimits
from mocap.solving.measure import BodyMeasurer
from mocap.solving.solver import DirectionSolver
from mocap.sources.frame_sources import FrameSource, open_sources
from mocap.sources.sync import FrameSet, SynchronizedSources, camera_frames

Item = TypeVar("Item")

# numpy's BLAS on one thread in any process that runs sessions: every matrix here is small, and
# beside MediaPipe's threads a multi-threaded BLAS spins for the cores (the two-camera body fit
# took 39 ms a frame instead of 16 on Pose2Sim's take, 2 cores). Set once, on import, so that
# every entry point (capture, solve, batch workers) computes exactly the same numbers.
threadpool_limits(limits=1, user_api="blas")


def as_list(value: Item | list[Item] | None) -> list[Item]:
    """A config value that may be one item, a list of them, or None."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def open_source(config: CaptureConfig) -> FrameSource | SynchronizedSources:
    settings = config.source
    cameras, videos = as_list(settings.camera), as_list(settings.video)
    chosen = [kind for kind, given in (("camera", cameras), ("video", videos), ("images", settings.images)) if given]
    if len(chosen) != 1:
        raise MocapError("choose one kind of source: --camera INDEX, --video FILE (either may be repeated) or --images FOLDER")
    if settings.realtime and not videos:
        raise MocapError("--realtime plays video files as a live camera would: give it with --video")
    sources = open_sources(
        cameras=cameras, videos=[Path(video) for video in videos],
        image_folders=[Path(str(settings.images))] if settings.images is not None else [],
        width=settings.width, height=settings.height, fps=settings.fps, realtime=settings.realtime,
    )
    if len(sources) == 1:
        return sources[0]
    return SynchronizedSources(sources, max_skew_s=config.multiview.max_skew_s)


def frames_dropped(source: FrameSource | SynchronizedSources) -> int:
    """Frames a live source (or several) skipped because capture was still busy."""
    if isinstance(source, SynchronizedSources):
        return sum(one.dropped for one in source.sources)
    return source.dropped


def source_count(config: CaptureConfig) -> int:
    return max(len(as_list(config.source.camera)) + len(as_list(config.source.video)), 1)


def _name_key(name: str) -> str:
    """A camera name compared loosely: lower case, letters and numbers only, numbers without
    leading zeros (``cam_02``, ``Cam02`` and ``cam2`` are one camera)."""
    return re.sub(r"\d+", lambda digits: str(int(digits.group())), re.sub(r"[^a-z0-9]", "", name.lower()))


def cameras_named_in(file_names: Sequence[str], calibration_names: Sequence[str]) -> list[str] | None:
    """The calibration camera each file name says it shows (``cam02.mp4`` or
    ``trial1_cam02.mp4`` -> ``cam_02``), one per file; None unless every file names exactly one
    calibration camera and no two name the same."""
    by_key = {_name_key(name): name for name in calibration_names}
    chosen = []
    for file_name in file_names:
        stem = Path(file_name).stem
        keys = {_name_key(stem)} | {_name_key(part) for part in re.findall(r"[A-Za-z]+[_-]?\d+", stem)}
        matches = {by_key[key] for key in keys if key in by_key}
        if len(matches) != 1:
            return None
        chosen.append(matches.pop())
    return chosen if len(set(chosen)) == len(chosen) else None


def calibrated_cameras(config: CaptureConfig, count: int, names_hint: tuple[str, ...] = ()) -> list[CameraModel] | None:
    """The calibration's camera for each of ``count`` sources, in source order (None: no calibration).

    Cameras are chosen by ``calib_camera`` names, else by ``names_hint`` (a recording's camera
    names) when the calibration has them all, else by what the video files' names say
    (``cam02.mp4`` -> ``cam_02``), else in file order when there are as many sources as
    calibration cameras. Fewer sources than cameras with nothing naming them is an error:
    pairing them by position would silently put a view in the wrong place."""
    optics = config.optics
    if optics.calib is None:
        if count > 1:
            raise MocapError(
                f"{count} cameras need a calibration: run `mocap calibrate` (see docs/multi-camera.md) and pass --calib FILE"
            )
        return None
    path = Path(optics.calib)
    cameras = load_calibration(path)
    by_name = {camera.name: camera for camera in cameras}
    names = as_list(optics.calib_camera)
    if not names and names_hint and all(name in by_name for name in names_hint):
        names = list(names_hint)
    videos = [str(video) for video in as_list(config.source.video)]
    if not names and len(videos) == count:
        names = cameras_named_in(videos, list(by_name)) or []
    if names:
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise MocapError(f"camera '{unknown[0]}' is not in {path} (it has: {', '.join(by_name)})")
        if len(names) != count:
            raise MocapError(f"{len(names)} calibration camera name(s) given for {count} source(s): give one per source")
        return [by_name[name] for name in names]
    if len(cameras) < count:
        raise MocapError(f"{path} holds {len(cameras)} camera(s) but {count} sources were given")
    if len(cameras) > count:
        raise MocapError(
            f"{path} holds {len(cameras)} cameras ({', '.join(by_name)}) for {count} source(s): say which view each "
            "source is with --calib-camera NAME, once per source in source order"
        )
    return cameras


@dataclass
class OpenedSinks:
    sinks: list[PoseSink]
    bvh: BvhWriter | None
    vmc: VmcSender | None
    osc: OscSchemaSender | None = None
    vrchat: VrchatTrackerSender | None = None
    virtual_camera: VirtualCamera | None = None


def load_retargeter(config: CaptureConfig, *, fingers: bool = False, face: bool = False) -> Retargeter | None:
    """The chosen rig, ready to retarget onto (None: the canonical humanoid); ``fingers``: with
    the finger bones. ``face``: with the eyes, and say which of the expressions sent the rig has."""
    if config.rig.path is None:
        return None
    path = Path(config.rig.path)
    retargeter = Retargeter(load_rig(path, Path(config.rig.map) if config.rig.map else None), fingers=fingers, eyes=face)
    if face:
        note(describe_rig_expressions(path.name, retargeter.rig.expressions, config.vmc.expressions))
    return retargeter


def check_outputs(config: CaptureConfig) -> None:
    """Raise a :class:`MocapError` now for an output that would fail later (an address, a path
    that cannot be written), before anything slow starts and before any file is opened."""
    if config.vmc.address is not None:
        parse_address(config.vmc.address, default_port=DEFAULT_VMC_PORT)
    if config.osc.address is not None:
        parse_address(config.osc.address, default_port=DEFAULT_OSC_PORT)
    if config.vrchat.address is not None:
        parse_address(config.vrchat.address, default_port=DEFAULT_VRCHAT_PORT)
    if config.bvh.path is not None:
        require_writable(Path(config.bvh.path), "BVH file")
    if config.record_landmarks is not None:
        check_landmarks_path(Path(config.record_landmarks))


def open_sinks(
    config: CaptureConfig, frame_time_s: float | None, retargeter: Retargeter | None = None,
    latency: LatencyLog | None = None, *, live: bool = True,
) -> OpenedSinks:
    """The VMC, plain OSC and VRChat senders and the BVH writer the config asks for, each on its
    own thread; with a rig (``retargeter``), BVH is written on the rig's joints and VMC carries the
    rig's proportions. ``latency``: where the VMC sender stamps each pose it sends. ``live``:
    network outputs keep only the newest poses when they fall behind (a capture); otherwise
    they send every pose (a recording replayed)."""
    vmc = bvh = osc = vrchat = None
    sinks: list[PoseSink] = []
    newest = 2 if live else None   # poses a network output may have waiting
    if config.vmc.address is not None:
        host, port = parse_address(config.vmc.address, default_port=DEFAULT_VMC_PORT)
        on_sent = None if latency is None else lambda timestamp_s: latency.mark(timestamp_s, SENT, time.monotonic())
        vmc = VmcSender(host, port, expressions=config.vmc.expressions, max_rate_hz=config.vmc.rate_hz, on_sent=on_sent)
        sinks.append(BackgroundSink(vmc if retargeter is None else RigProportionsSink(vmc, retargeter), max_queued=newest))
    if config.osc.address is not None:
        host, port = parse_address(config.osc.address, default_port=DEFAULT_OSC_PORT)
        osc = OscSchemaSender(host, port, engine=config.osc.axes, max_rate_hz=config.osc.rate_hz)
        sinks.append(BackgroundSink(osc, max_queued=newest))
    if config.vrchat.address is not None:
        host, port = parse_address(config.vrchat.address, default_port=DEFAULT_VRCHAT_PORT)
        vrchat = VrchatTrackerSender(host, port, max_rate_hz=config.vrchat.rate_hz)
        sinks.append(BackgroundSink(vrchat, max_queued=newest))
    if config.bvh.path is not None:
        bvh = BvhWriter(
            Path(config.bvh.path),
            frame_time_s=frame_time_s,
            rotation_order=config.bvh.rotation_order,
            units=config.bvh.units,
        )
        sinks.append(BackgroundSink(bvh if retargeter is None else RetargetedSink(bvh, retargeter)))
    return OpenedSinks(sinks, bvh, vmc, osc, vrchat)


VIEWER_FPS = 30.0   # the live view window's most pictures a second


def open_pictures(config: CaptureConfig, stack: ExitStack, opened: OpenedSinks, virtual_camera: VirtualCamera | None,
                  retargeter: Retargeter | None) -> list[FrameObserver]:
    """The pictures a capture draws, each on its own thread, newest pose only: the virtual
    camera's feed and the live view window (``--viewer``), the avatar's mesh when ``--rig`` has
    one. Pose feeds join ``opened.sinks``; returns the frame observers they need (closed by ``stack``)."""
    observers: list[FrameObserver] = []
    draws_avatar = config.viewer or config.virtual_camera.show == "avatar"
    avatar = load_avatar(retargeter.rig, Path(config.rig.path), fingers=config.tracks_hands, eyes=config.tracks_face) \
        if draws_avatar and retargeter is not None and config.rig.path else None
    if virtual_camera is not None and config.virtual_camera.show == "avatar":
        feed = AvatarFeed(virtual_camera, config.virtual_camera.view, avatar,
                          BACKGROUNDS_BGR[config.virtual_camera.background])
        opened.sinks.append(BackgroundSink(feed, max_queued=1))
    elif virtual_camera is not None:
        preview_feed = BackgroundSink(PreviewFeed(virtual_camera), max_queued=1)
        stack.callback(preview_feed.close)
        observers.append(_first_view(lambda frame, observation: preview_feed.write((frame, observation))))
    live_window = LiveWindow.open_if_possible() if config.viewer else None
    if live_window is not None:
        stack.callback(live_window.close)
        settings = ViewSettings()
        window_output = VirtualCamera(settings.width, settings.height, VIEWER_FPS, device=live_window)
        window_feed = AvatarFeed(window_output, settings.view, avatar, azimuth_deg=lambda: live_window.azimuth_deg)
        opened.sinks.append(BackgroundSink(window_feed, max_queued=1))
        observers.append(live_window.show)
    return observers


def open_virtual_camera(settings: VirtualCameraSettings) -> VirtualCamera | None:
    """The virtual camera ``--virtual-camera`` asks for, opened (None when not asked for)."""
    if settings.show is None:
        return None
    return VirtualCamera(settings.width, settings.height, settings.fps)


def make_estimator(config: CaptureConfig, count: int) -> PerCameraEstimator:
    """One MediaPipe Pose per camera; several run concurrently."""
    est = config.estimator

    def one() -> MediaPipePoseEstimator:
        return MediaPipePoseEstimator(
            hands=config.tracks_hands,
            face=config.tracks_face,
            model_complexity=est.model_complexity,
            smooth_landmarks=est.mediapipe_smoothing,
            min_detection_confidence=est.min_detection_confidence,
            min_tracking_confidence=est.min_tracking_confidence,
        )

    return PerCameraEstimator([one() for _ in range(count)])


def make_lifter(config: CaptureConfig, cameras: list[CameraModel] | None) -> Lifter:
    """Monocular lifting for one camera, triangulation and the body fit for two or more (which need ``cameras``)."""
    optics, filt, multiview = config.optics, config.filter, config.multiview
    if cameras is not None and len(cameras) > 1:
        return MultiViewLifter(
            cameras,
            min_confidence=filt.min_confidence,
            max_reprojection_error=multiview.max_reprojection_error,
            swap_check=multiview.swap_check,
            fit=DEFAULT_FIT if multiview.body_fit else None,
        )
    return MonocularLifter(
        cameras[0] if cameras else None,
        horizontal_fov_deg=optics.horizontal_fov_deg,
        camera_pitch_deg=optics.pitch_deg,
        mirror=optics.mirror,
        min_confidence=filt.min_confidence,
        auto_upright=optics.auto_upright,
    )


def hips_filter_settings(config: CaptureConfig, *, multi_camera: bool) -> OneEuroSettings:
    """The hips' path filter: ``[multiview] root_min_cutoff_hz`` behind several cameras (their
    triangulated hips shake far less than one camera's depth), ``[filter]`` behind one."""
    filt = config.filter
    cutoff_hz = config.multiview.root_min_cutoff_hz if multi_camera else filt.root_min_cutoff_hz
    return OneEuroSettings(cutoff_hz, filt.root_beta)


def live_body_filter(config: CaptureConfig, *, multi_camera: bool) -> BodyFilter:
    """The live filter of the lifted body and the hips' path, as ``config`` sets it (lighter
    behind several cameras: ``[multiview]``)."""
    filt = config.filter
    cutoff_hz = config.multiview.body_min_cutoff_hz if multi_camera else filt.body_min_cutoff_hz
    return BodyFilter(
        body=OneEuroSettings(cutoff_hz, filt.body_beta),
        root=hips_filter_settings(config, multi_camera=multi_camera),
        min_confidence=filt.min_confidence,
    )


def live_rotation_filter(config: CaptureConfig, *, multi_camera: bool) -> RotationFilter:
    """The live filter of each bone's rotation in the world (lighter behind several cameras)."""
    filt = config.filter
    cutoff_hz = config.multiview.rotation_min_cutoff_hz if multi_camera else filt.rotation_min_cutoff_hz
    return RotationFilter(OneEuroSettings(cutoff_hz, filt.rotation_beta))


def build_pipeline(
    config: CaptureConfig,
    *,
    estimator: Estimator | None,
    lifter: Lifter | None,
    sinks: list[PoseSink],
    observers: Sequence[FrameObserver] = (),
    live_filters: bool = True,
    latency: LatencyLog | None = None,
    hands: bool = False,
    face: bool = False,
) -> MotionPipeline:
    """The filter and solver stages set up from ``config`` around the given estimator and lifter
    (None for bodies lifted beforehand; ``live_filters=False``: no One Euro filters on the body,
    for bodies smoothed offline); the fingers' and face's stages when ``hands`` and ``face``."""
    filt = config.filter
    multi_camera = isinstance(lifter, MultiViewLifter)
    return MotionPipeline(
        estimator=estimator,
        lifter=lifter,
        outlier_guard=OutlierGuard(),
        body_filter=live_body_filter(config, multi_camera=multi_camera) if live_filters else None,
        foot_contact=FootContact(ContactSettings(lock_feet=filt.foot_locking)),
        rotation_filter=live_rotation_filter(config, multi_camera=multi_camera) if live_filters else None,
        hold_then_rest=HoldThenRest(len(BONE_NAMES), hold_s=filt.hold_s, ease_s=filt.ease_to_rest_s),
        measurer=BodyMeasurer(),
        solver=DirectionSolver(min_confidence=filt.min_confidence),
        joint_limits=JointLimits(),
        sinks=sinks,
        observers=list(observers),
        min_confidence=filt.min_confidence,
        latency=latency,
        hands=HandTracker(mirror=config.optics.mirror) if hands else None,
        face=FaceTracker(mirror=config.optics.mirror) if face else None,
    )


def _first_view(show: Callable[[Frame, PoseObservation], None]) -> FrameObserver:
    """An observer of the first camera: its frame (of a frame set, with several) and observation."""
    def observe(frame: Frame | FrameSet, observations: Observations) -> None:
        show(camera_frames(frame)[0], observations[0])
    return observe


def solves_offline(config: CaptureConfig) -> bool:
    """Whether a capture is offline work: a BVH from files (no camera, no --realtime) with no
    live output (VMC, OSC, VRChat, preview, viewer, virtual camera) and no --live."""
    source = config.source
    live_output = (config.vmc.address or config.osc.address or config.vrchat.address or config.preview
                   or config.virtual_camera.show or config.viewer)
    return (config.bvh.path is not None and not as_list(source.camera) and not source.realtime
            and not live_output and not config.live)


def run_capture(config: CaptureConfig, *, progress: bool = True) -> tuple[RunSummary, OpenedSinks]:
    """Capture until a source ends (or Ctrl-C); offline work (:func:`solves_offline`) records the
    landmarks first and then solves the whole take as ``mocap solve`` does."""
    if not solves_offline(config):
        return _capture_live(config, progress=progress)
    check_outputs(config)
    with tempfile.TemporaryDirectory(prefix="mocap-") as folder:
        landmarks = Path(config.record_landmarks or Path(folder) / "take.npz")
        stopped: KeyboardInterrupt | None = None
        try:
            summary, _ = _capture_live(replace(config, record_landmarks=str(landmarks), bvh=replace(config.bvh, path=None)),
                                       progress=progress)
        except KeyboardInterrupt as error:   # solve what was captured, then stop as asked
            if not (landmarks.exists() or journal_path(landmarks).exists()):
                raise                            # stopped before the first frame: nothing to solve
            stopped, summary = error, None
        recording = load_landmarks(landmarks)
        solved, opened = run_replay(replace(config, record_landmarks=None), recording, progress=progress,
                                    smooth_hz=OFFLINE_CUTOFF_HZ)
    if stopped is not None or summary is None:
        raise stopped or KeyboardInterrupt
    return replace(summary, offline_smoothing_hz=solved.offline_smoothing_hz), opened


def _capture_live(config: CaptureConfig, *, progress: bool = True) -> tuple[RunSummary, OpenedSinks]:
    """Open the sources and sinks, capture until a source ends (or Ctrl-C), close everything.

    Outputs, the rig, sources and calibration are checked before MediaPipe starts, and
    MediaPipe starts before any output file is opened, so a model that fails to load leaves an
    earlier take at the same path as it was; sinks are closed whatever happens, so a recording
    is never lost."""
    from tqdm import tqdm

    check_outputs(config)
    hands, face = config.tracks_hands, config.tracks_face
    retargeter = load_retargeter(config, fingers=hands, face=face)
    with ExitStack() as stack:
        source = open_source(config)
        stack.enter_context(source)
        count = source_count(config)
        frame_time_s = 1.0 / source.nominal_fps if source.frame_count and source.nominal_fps else None
        cameras = calibrated_cameras(config, count)
        if not (config.vmc.address or config.osc.address or config.vrchat.address or config.bvh.path or config.preview
                or config.record_landmarks or config.virtual_camera.show or config.viewer):
            note("no output chosen (--vmc, --osc, --vrchat, --bvh, --record-landmarks, --preview, --viewer or "
                 "--virtual-camera); capturing anyway")
        virtual_camera = open_virtual_camera(config.virtual_camera)
        if virtual_camera is not None:
            stack.callback(virtual_camera.close)
        estimator = make_estimator(config, count)
        stack.callback(estimator.close)
        latency = LatencyLog()
        opened = replace(open_sinks(config, frame_time_s, retargeter, latency), virtual_camera=virtual_camera)
        observers = open_pictures(config, stack, opened, virtual_camera, retargeter)
        for sink in opened.sinks:
            stack.callback(sink.close)
        if config.record_landmarks is not None:
            names = tuple(c.name for c in cameras) if cameras else tuple(f"cam_{i}" for i in range(count))
            recorder = LandmarkRecorder(Path(config.record_landmarks), names, hands=hands, face=face)
            stack.callback(recorder.close)
            observers.append(lambda frame, observations: recorder.add(observations))
        if config.preview:
            from mocap.display.preview import PreviewWindow

            window = PreviewWindow.open_if_possible()
            if window is not None:
                stack.callback(window.close)
                observers.append(_first_view(window.show))
        pipeline = build_pipeline(config, estimator=estimator, lifter=make_lifter(config, cameras), sinks=opened.sinks,
                                  observers=observers, latency=latency, hands=hands, face=face)
        bar = stack.enter_context(
            tqdm(total=source.frame_count, unit="frame", disable=not progress, desc=source.description, leave=False)
        )
        summary = pipeline.run(source, on_frame=lambda: bar.update(1))
    # read once the sinks are closed, so the last poses' datagrams have left
    return replace(summary, latency=latency.report(), dropped_frames=frames_dropped(source)), opened


def _recorded_frames(recording: LandmarkRecording) -> Iterator[tuple[Observations, float]]:
    """(one observation per camera, timestamp in seconds) per frame."""
    for index in range(recording.frame_count):
        yield recording.observations(index), float(recording.timestamps_s[index])


def run_replay(
    config: CaptureConfig, recording: LandmarkRecording, *, progress: bool = True, smooth_hz: float | None = None,
    also: Sequence[PoseSink] = (), lifter: Lifter | None = None,
) -> tuple[RunSummary, OpenedSinks]:
    """Lift, filter and solve a landmarks recording; stream and record like a capture.

    ``smooth_hz``: instead of the live One Euro filters, smooth the whole recording's lifted
    joints with a zero-phase low-pass at this cutoff (Hz) first (:mod:`mocap.filtering.smoothing`).
    ``also``: sinks handed every solved pose besides the config's outputs (on this thread).
    ``lifter``: the lifter to use (default: made from the config), to ask it about the stage afterwards."""
    from tqdm import tqdm

    count = len(recording.cameras)
    if count == 1 and recording.world_m is None:
        raise MocapError(
            "the landmarks file has one camera and no 'world' landmarks: monocular solving needs them "
            "(record with `mocap capture --record-landmarks`), or give two or more calibrated cameras"
        )
    check_outputs(config)
    hands, face = recording.hands_px is not None, recording.face_px is not None
    retargeter = load_retargeter(config, fingers=hands, face=face)
    cameras = calibrated_cameras(config, count, recording.cameras)
    steps = np.diff(recording.timestamps_s)
    frame_time_s = float(np.median(steps)) if steps.size else None
    with ExitStack() as stack:
        opened = open_sinks(config, frame_time_s, retargeter, live=False)
        for sink in opened.sinks:
            stack.callback(sink.close)
        sinks = [*opened.sinks, *also]
        lifter = lifter if lifter is not None else make_lifter(config, cameras)
        bar = stack.enter_context(
            tqdm(total=recording.frame_count, unit="frame", disable=not progress, desc="solve", leave=False)
        )
        if smooth_hz is None:
            pipeline = build_pipeline(config, estimator=None, lifter=lifter, sinks=sinks, hands=hands, face=face)
            summary = pipeline.replay(_recorded_frames(recording), on_frame=lambda: bar.update(1))
        else:
            bodies = smooth_bodies([lifter.lift(observations) for observations, _ in _recorded_frames(recording)], smooth_hz)
            pipeline = build_pipeline(config, estimator=None, lifter=None, sinks=sinks, live_filters=False,
                                      hands=hands, face=face)
            seen = (recording.observations(frame) for frame in range(recording.frame_count))
            summary = replace(pipeline.replay_bodies(zip(bodies, seen), on_frame=lambda: bar.update(1)),
                              offline_smoothing_hz=smooth_hz)
    return summary, opened
