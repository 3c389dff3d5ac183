"""Builds a capture session from a :class:`~mocap.config.CaptureConfig` and runs it."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from mocap.calibration import CameraModel, load_calibration
from mocap.config import CaptureConfig
from mocap.errors import MocapError
from mocap.estimation import MediaPipePoseEstimator
from mocap.filtering import BodyFilter, HoldThenRest, OneEuroSettings, RotationFilter
from mocap.lifting import MonocularLifter
from mocap.measure import BodyMeasurer
from mocap.pipeline import FrameObserver, MotionPipeline, PoseSink, RunSummary
from mocap.skeleton import BONE_NAMES
from mocap.sinks.background import BackgroundSink
from mocap.sinks.bvh import BvhWriter
from mocap.sinks.vmc import VmcSender, parse_address
from mocap.solver import DirectionSolver
from mocap.sources import CameraSource, FrameSource, ImageFolderSource, VideoFileSource


def open_source(config: CaptureConfig) -> FrameSource:
    settings = config.source
    chosen = [name for name in ("camera", "video", "images") if getattr(settings, name) is not None]
    if len(chosen) != 1:
        raise MocapError("choose exactly one source: --camera INDEX, --video FILE or --images FOLDER")
    if settings.camera is not None:
        return CameraSource(settings.camera, width=settings.width, height=settings.height, fps=settings.fps)
    if settings.video is not None:
        return VideoFileSource(Path(settings.video))
    return ImageFolderSource(Path(str(settings.images)), fps=settings.fps or 30.0)


def camera_model(config: CaptureConfig) -> CameraModel | None:
    optics = config.optics
    if optics.calib is None:
        return None
    cameras = load_calibration(Path(optics.calib))
    if optics.calib_camera is None:
        return cameras[0]
    for camera in cameras:
        if camera.name == optics.calib_camera:
            return camera
    names = ", ".join(c.name for c in cameras)
    raise MocapError(f"camera '{optics.calib_camera}' is not in {optics.calib} (it has: {names})")


@dataclass
class OpenedSinks:
    sinks: list[PoseSink]
    bvh: BvhWriter | None
    vmc: VmcSender | None


def open_sinks(config: CaptureConfig, frame_time_s: float | None) -> OpenedSinks:
    """The VMC sender and BVH writer the config asks for, each on its own thread."""
    vmc = bvh = None
    sinks: list[PoseSink] = []
    if config.vmc.address is not None:
        host, port = parse_address(config.vmc.address)
        vmc = VmcSender(host, port, max_rate_hz=config.vmc.rate_hz)
        sinks.append(BackgroundSink(vmc, max_queued=2))
    if config.bvh.path is not None:
        bvh = BvhWriter(
            Path(config.bvh.path),
            frame_time_s=frame_time_s,
            rotation_order=config.bvh.rotation_order,
            units=config.bvh.units,
        )
        sinks.append(BackgroundSink(bvh))
    return OpenedSinks(sinks, bvh, vmc)


def build_pipeline(
    config: CaptureConfig,
    sinks: list[PoseSink],
    observers: list[FrameObserver],
    camera: CameraModel | None,
) -> MotionPipeline:
    """Every stage of a single-camera capture, set up from ``config``."""
    est, filt, optics = config.estimator, config.filter, config.optics
    return MotionPipeline(
        estimator=MediaPipePoseEstimator(
            model_complexity=est.model_complexity,
            smooth_landmarks=est.mediapipe_smoothing,
            min_detection_confidence=est.min_detection_confidence,
            min_tracking_confidence=est.min_tracking_confidence,
        ),
        lifter=MonocularLifter(
            camera,
            horizontal_fov_deg=optics.horizontal_fov_deg,
            camera_pitch_deg=optics.pitch_deg,
            mirror=optics.mirror,
            min_confidence=filt.min_confidence,
            auto_upright=optics.auto_upright,
        ),
        body_filter=BodyFilter(
            body=OneEuroSettings(filt.body_min_cutoff_hz, filt.body_beta),
            root=OneEuroSettings(filt.root_min_cutoff_hz, filt.root_beta),
            min_confidence=filt.min_confidence,
        ),
        rotation_filter=RotationFilter(OneEuroSettings(filt.rotation_min_cutoff_hz, filt.rotation_beta)),
        hold_then_rest=HoldThenRest(len(BONE_NAMES), hold_s=filt.hold_s, ease_s=filt.ease_to_rest_s),
        measurer=BodyMeasurer(),
        solver=DirectionSolver(min_confidence=filt.min_confidence),
        sinks=sinks,
        observers=list(observers),
        min_confidence=filt.min_confidence,
    )


def run_capture(config: CaptureConfig, *, progress: bool = True) -> tuple[RunSummary, OpenedSinks]:
    """Open the source and sinks, capture until the source ends (or Ctrl-C), close everything.

    Everything a user can get wrong (source, calibration, output paths) is checked before
    MediaPipe starts, and sinks are closed whatever happens, so a recording is never lost."""
    from tqdm import tqdm

    with ExitStack() as stack:
        source = stack.enter_context(open_source(config))
        frame_time_s = 1.0 / source.nominal_fps if source.frame_count and source.nominal_fps else None
        camera = camera_model(config)
        opened = open_sinks(config, frame_time_s)
        for sink in opened.sinks:
            stack.callback(sink.close)
        observers: list[FrameObserver] = []
        if config.preview:
            from mocap.preview import PreviewWindow

            window = PreviewWindow.open_if_possible()
            if window is not None:
                stack.callback(window.close)
                observers.append(window.show)
        pipeline = build_pipeline(config, opened.sinks, observers, camera)
        bar = stack.enter_context(
            tqdm(total=source.frame_count, unit="frame", disable=not progress, desc=source.description, leave=False)
        )
        summary = pipeline.run(source, on_frame=lambda: bar.update(1))
    return summary, opened
