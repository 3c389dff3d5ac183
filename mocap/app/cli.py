"""The ``mocap`` command: ``capture``, ``solve``, ``render``, ``view``, ``calibrate``, ``demo`` and ``models``."""

from __future__ import annotations

import json
import shutil
import signal
import sys
import typing
from collections.abc import Callable
from dataclasses import Field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from mocap.app.config import OFFLINE_CUTOFF_HZ, CaptureConfig, declared_options, load_config
from mocap.app.console import quiet_native_logs
from mocap.core.errors import MocapError, note, require_writable
from mocap.display.scene_view import BACKGROUNDS_BGR, VIEWS

if TYPE_CHECKING:
    from mocap.app.session import OpenedSinks
    from mocap.core.pipeline import RunSummary
    from mocap.display.render_take import StagedTake

DEMO_DIR = Path(__file__).resolve().parents[2] / "examples" / "demo"
DEMO_VIDEO = DEMO_DIR / "bodypose3d_cam0_test.mp4"
DEMO_CALIBRATION = DEMO_DIR / "demo_camera.toml"


def _one_or_many(values: tuple[Any, ...]) -> Any:
    """A repeatable option's values as the config holds them: None, one value, or a list."""
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)


def _options(function: Any, options: list[Any]) -> Any:
    for option in reversed(options):
        function = option(function)
    return function


def _declared_option(section: str, declared: Field[Any], accepted: tuple[Any, ...]) -> Any:
    """The click option for a declared setting (mocap.app.config.setting): its flag, type, help
    and default from the one declaration; its value lands in ``options`` as ``section__key``."""
    meta, name = declared.metadata, f"{section}__{declared.name}"
    kinds = [k for k in accepted if k is not type(None)]
    default = declared.default
    shown = ("on" if default else "off") if isinstance(default, bool) else default
    help_text = meta["help"] + (f" Default: {shown}." if default not in (None, "") else "")
    if bool in kinds:
        return click.option(f"{meta['flag']}/--no-{meta['flag'][2:]}", name, default=None, help=help_text)
    many = next((typing.get_args(k)[0] for k in kinds if typing.get_origin(k) is list), None)
    kind = click.Choice(meta["choices"]) if meta["choices"] else (many or kinds[0])
    return click.option(meta["flag"], name, type=kind, multiple=many is not None, help=help_text)


_COMMON_OPTIONS = [
    click.option("--config", "config_path", type=str, help="TOML config file; options given here override it."),
    click.option("--progress/--no-progress", default=True, help="Progress bar for files."),
]


def _output_options(function: Any) -> Any:
    """The declared options `mocap solve` takes too (calibration, outputs, rig, foot locking)."""
    shared = [_declared_option(*option) for option in declared_options() if option[1].metadata["shared"]]
    return _options(function, [*shared, *_COMMON_OPTIONS])


def _capture_options(function: Any) -> Any:
    return _options(function, [*(_declared_option(*option) for option in declared_options()), *_COMMON_OPTIONS])


def _config_from_options(options: dict[str, Any]) -> CaptureConfig:
    """The config file, if any, with the declared options given on the command line over it."""
    config = load_config(Path(options["config_path"])) if options["config_path"] else CaptureConfig()
    overrides: dict[str, dict[str, Any]] = {}
    for name, value in options.items():
        section, separator, key = name.partition("__")
        if separator:
            overrides.setdefault(section, {})[key] = _one_or_many(value) if isinstance(value, tuple) else value
    return config.with_overrides(overrides)


def _report(config: CaptureConfig, work: Callable[[], tuple[RunSummary, OpenedSinks]]) -> None:
    """Run a capture or replay; print its summary, or where the recordings are when a signal
    stopped it (exit status 128 + the signal's number, as shells report it)."""
    try:
        summary, sinks = work()
    except KeyboardInterrupt as stopped:
        by = f" by {stopped}" if isinstance(stopped, Stopped) else ""
        saved = [f"BVH saved to {config.bvh.path}"] if config.bvh.path else []
        saved += [f"landmarks saved to {config.record_landmarks}"] if config.record_landmarks else []
        click.echo(f"mocap: stopped{by}" + "".join(f"; {line}" for line in saved), err=True)
        sys.exit(128 + (stopped.signum if isinstance(stopped, Stopped) else signal.SIGINT))
    click.echo(summary.describe())
    if config.record_landmarks is not None:
        click.echo(f"Landmarks: written to {config.record_landmarks}")
    if sinks.bvh is not None:
        click.echo(f"BVH: {sinks.bvh.frames_written} frames written to {sinks.bvh.path}")
    for label, sender, address in (("VMC", sinks.vmc, config.vmc.address),
                                   (f"OSC ({config.osc.axes} axes)", sinks.osc, config.osc.address),
                                   ("VRChat trackers", sinks.vrchat, config.vrchat.address)):
        if sender is not None:
            per_frame = sender.sent_bytes // max(sender.sent_frames, 1)
            click.echo(f"{label}: {sender.sent_frames} frames sent to {address} ({per_frame} bytes a frame)")
    if sinks.virtual_camera is not None:
        camera = sinks.virtual_camera
        click.echo(f"Virtual camera: {camera.sent_frames} frames sent to {camera.device_name} "
                   f"({camera.width}x{camera.height}, at most {camera.fps:g} a second)")


def _run(config: CaptureConfig, progress: bool) -> None:
    from mocap.app.session import run_capture

    _report(config, lambda: run_capture(config, progress=progress))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show MediaPipe's and TensorFlow Lite's own log lines (hidden by default).")
def main(verbose: bool) -> None:
    """mocap: webcam motion capture to VMC (VSeeFace, VNyan, Warudo, Unity, Godot) and BVH."""
    if not verbose:
        quiet_native_logs()


@main.command()
@_capture_options
def capture(**options: Any) -> None:
    """Capture from a camera, video or image folder; stream VMC and/or record BVH."""
    _run(_config_from_options(options), options["progress"])


@main.command()
@click.argument("landmarks", type=str)
@click.option("--smooth", "smooth_hz", type=click.FloatRange(min=0.1),
              help=f"Zero-phase smoothing cutoff, Hz (default {OFFLINE_CUTOFF_HZ:g}).")
@_output_options
def solve(landmarks: str, smooth_hz: float | None, **options: Any) -> None:
    """Re-run lifting or triangulation, filtering and solving on a landmarks file (.npz): offline
    (the whole take smoothed with no delay) unless --live."""
    from mocap.app.session import run_replay
    from mocap.formats.landmarks_file import journal_path, load_landmarks

    config = replace(_config_from_options(options), record_landmarks=None, preview=False)
    if not (config.vmc.address or config.bvh.path or config.osc.address or config.vrchat.address):
        raise MocapError("choose an output: --bvh FILE, --vmc HOST:PORT, --osc HOST:PORT and/or --vrchat HOST")
    offline_hz = offline_cutoff(config, smooth_hz)
    recording = load_landmarks(Path(landmarks))
    if not Path(landmarks).is_file():
        note(f"{landmarks} was never finished (the capture was killed); using the "
             f"{recording.frame_count} frames saved in {journal_path(Path(landmarks))}")
    _report(config, lambda: run_replay(config, recording, progress=options["progress"], smooth_hz=offline_hz))


def _drawn_take_options(function: Any) -> Any:
    """The options `mocap render` and `mocap view` share: how the take is read and what is drawn."""
    return _options(function, [
        click.option("--units", type=click.Choice(("auto", "cm", "m")), default="auto", show_default=True,
                     help="A BVH file's length unit (auto: from the skeleton's height; a skeleton in no known unit "
                          "is scaled to 1.7 m)."),
        click.option("--calib", type=str, help="Landmarks of two or more cameras: their calibration TOML."),
        click.option("--rig", type=str, help="Draw this avatar (.vrm, or .glb/.gltf with --rig-map) instead of the skeleton."),
        click.option("--rig-map", type=str, help="Bone map for a glTF rig (see rigs/)."),
    ])


@main.command()
@click.argument("take", type=str)
@click.option("--out", required=True, help="Video file (.mp4, .mov, .avi) or a folder for PNG frames.")
@click.option("--width", type=click.IntRange(16, 7680), default=1280, show_default=True, help="Picture width, pixels.")
@click.option("--height", type=click.IntRange(16, 4320), default=720, show_default=True, help="Picture height, pixels.")
@click.option("--fps", type=click.FloatRange(min=1.0, max=240.0), help="Frames a second (default: the take's own).")
@click.option("--view", type=click.Choice(VIEWS), default="front", show_default=True,
              help="Where the camera stands, seen from the performer.")
@click.option("--video", "source_video", type=str, help="The take's source video, shown beside it frame for frame.")
@click.option("--background", type=click.Choice(tuple(BACKGROUNDS_BGR)), default="green", show_default=True,
              help="The background: a key colour a video editor takes out.")
@_drawn_take_options
@click.option("--progress/--no-progress", default=True, help="Progress bar.")
def render(take: str, out: str, width: int, height: int, fps: float | None, view: str, source_video: str | None,
           background: str, units: str, calib: str | None, rig: str | None, rig_map: str | None, progress: bool) -> None:
    """Draw a take (a BVH file, or a landmarks .npz solved as `mocap solve` does) into a video or PNG frames."""
    from mocap.display.render_take import render_take
    from mocap.display.scene_view import ViewSettings

    out_path = Path(out)
    if source_video is not None and not Path(source_video).is_file():
        raise MocapError(f"--video {source_video} not found")
    require_writable(out_path / "frame_00000.png" if out_path.is_dir() else out_path, "render output")
    written = render_take(_staged_take(take, units, calib, rig, rig_map, progress), out_path,
                          ViewSettings(width, height, view, background_bgr=BACKGROUNDS_BGR[background]), fps=fps,
                          source_video=Path(source_video) if source_video else None, progress=progress)
    click.echo(f"Render: {written} frames ({width}x{height}, {view} view) written to {out}")


@main.command()
@click.argument("take", type=str)
@click.option("--width", type=click.IntRange(16, 7680), default=1280, show_default=True, help="Window width, pixels.")
@click.option("--height", type=click.IntRange(16, 4320), default=720, show_default=True, help="Window height, pixels.")
@click.option("--view", type=click.Choice(VIEWS), default="front", show_default=True,
              help="Where the camera stands at first, seen from the performer (keys 1-4 change it).")
@_drawn_take_options
@click.option("--progress/--no-progress", default=True, help="Progress bar while a landmarks file is solved.")
def view(take: str, width: int, height: int, view: str, units: str, calib: str | None, rig: str | None,
         rig_map: str | None, progress: bool) -> None:
    """Look at a take (a BVH file, or a landmarks .npz solved as `mocap solve` does) in a window:
    play, pause, step, scrub, turn."""
    from mocap.display.scene_view import ViewSettings
    from mocap.display.viewer import require_display, view_take

    require_display()
    stage = _staged_take(take, units, calib, rig, rig_map, progress)
    last, azimuth_deg = view_take(stage, ViewSettings(width, height, view))
    click.echo(f"Viewed {take}: frame {last} of {len(stage.positions_m)} shown last, "
               f"the camera {azimuth_deg % 360:g} degrees round from the front")


def _staged_take(take: str, units: str, calib: str | None, rig: str | None, rig_map: str | None,
                 progress: bool) -> StagedTake:
    """A take to draw (a BVH file, or a landmarks file solved offline as `mocap solve` does), with
    the avatar of ``rig`` when given."""
    from mocap.app.session import calibrated_cameras, make_lifter, run_replay
    from mocap.core.pipeline import PoseCollector
    from mocap.display.avatar_mesh import load_avatar
    from mocap.display.render_take import bvh_take, posed_take, staged
    from mocap.formats.landmarks_file import load_landmarks
    from mocap.lifting.multiview import MultiViewLifter
    from mocap.retargeting.rigs import load_rig

    path = Path(take)
    if not path.is_file():
        raise MocapError(f"take {take} not found: give a BVH file or a landmarks .npz file")
    rig_path = Path(rig) if rig else None
    loaded_rig = load_rig(rig_path, Path(rig_map) if rig_map else None) if rig_path else None
    frusta: list[np.ndarray] = []     # the cameras, where a calibrated landmarks file says they stand
    if path.suffix.lower() == ".bvh":
        drawn = bvh_take(path, units)
    elif path.suffix.lower() == ".npz":
        config = CaptureConfig().with_overrides({"optics": {"calib": calib}})
        recording, solved = load_landmarks(path), PoseCollector()
        lifter = make_lifter(config, calibrated_cameras(config, len(recording.cameras), recording.cameras))
        run_replay(config, recording, progress=progress, smooth_hz=OFFLINE_CUTOFF_HZ, also=[solved], lifter=lifter)
        drawn = posed_take(solved.poses)
        frusta = lifter.camera_frusta() if isinstance(lifter, MultiViewLifter) else []
    else:
        raise MocapError(f"cannot draw {take}: give a BVH file (.bvh) or a landmarks file (.npz)")
    if loaded_rig is None or rig_path is None:
        return staged(drawn, frusta_m=frusta)
    motion = drawn.humanoid
    avatar = load_avatar(loaded_rig, rig_path, fingers=motion is not None and motion.fingers,
                         eyes=motion is not None and motion.eyes)
    return staged(drawn, avatar, frusta_m=frusta)


def offline_cutoff(config: CaptureConfig, smooth_hz: float | None) -> float | None:
    """The zero-phase smoothing cutoff offline work uses (Hz), or None with --live."""
    if config.live and smooth_hz is not None:
        raise MocapError("--smooth and --live contradict each other: --live solves with the live filters, no smoothing")
    return None if config.live else smooth_hz or OFFLINE_CUTOFF_HZ



# Declared options batch does not take: each take brings its own sources and calibration, and
# batch chooses the outputs.
_NOT_FOR_BATCH = {"--camera", "--video", "--images", "--realtime", "--width", "--height", "--fps", "--calib",
                  "--calib-camera", "--vmc", "--vmc-rate", "--osc", "--osc-axes", "--osc-rate", "--vrchat", "--vrchat-rate",
                  "--bvh", "--preview", "--viewer", "--virtual-camera", "--virtual-camera-width", "--virtual-camera-height",
                  "--virtual-camera-fps", "--virtual-camera-view", "--virtual-camera-background", "--record-landmarks"}


def _batch_options(function: Any) -> Any:
    chosen = [_declared_option(*option) for option in declared_options() if option[1].metadata["flag"] not in _NOT_FOR_BATCH]
    return _options(function, [*chosen, *_COMMON_OPTIONS])


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "out_dir", required=True, help="Folder for each take's BVH, landmarks (.npz) and report (.json).")
@click.option("--jobs", type=click.IntRange(min=1), help="Takes at a time on this machine. Default: one per core.")
@click.option("--smooth", "smooth_hz", type=click.FloatRange(min=0.1),
              help=f"Zero-phase smoothing cutoff, Hz (default {OFFLINE_CUTOFF_HZ:g}), as `mocap solve --smooth`.")
@click.option("--cluster", help="Run the takes as Ray tasks: ray://HOST:PORT, auto (this machine's cluster) or local "
                                "(a new Ray instance here).")
@click.option("--force", is_flag=True, help="Redo takes already done with these settings.")
@_batch_options
def batch(inputs: tuple[str, ...], out_dir: str, jobs: int | None, smooth_hz: float | None,
          cluster: str | None, force: bool, **options: Any) -> None:
    """Turn many takes (videos, folders, globs, manifests) into BVH files, on every core or a Ray cluster."""
    import os

    from tqdm import tqdm

    from mocap.app.batch import BatchSettings, check_cluster, is_done, run_local, run_ray, write_table
    from mocap.app.batch_takes import find_takes

    if cluster is not None:
        check_cluster(cluster)
    takes = find_takes(list(inputs))
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MocapError(f"cannot make the batch output folder {out}: {error.strerror}; choose another --out") from None
    require_writable(out / "batch_report.csv", "batch output folder")
    config = _config_from_options(options)
    settings = BatchSettings(config, offline_cutoff(config, smooth_hz))
    done = [] if force else [take for take in takes if is_done(take, settings, out)]
    todo = [take for take in takes if take not in done]
    jobs = jobs or os.cpu_count() or 1
    if done:
        note(f"{len(done)} take(s) already done with these settings are skipped (--force redoes them)")
    reports = {take.name: {**json.loads((out / f"{take.name}.json").read_text()), "status": "skipped"} for take in done}
    finished = None
    try:
        if todo:
            finished = run_local(todo, settings, out, jobs) if cluster is None else run_ray(todo, settings, out, cluster, jobs)
            with tqdm(total=len(todo), unit="take", disable=not options["progress"], leave=False) as bar:
                for report in finished:
                    reports[report["take"]] = report
                    bar.update(1)
    except KeyboardInterrupt as stopped:
        by = f" by {stopped}" if isinstance(stopped, Stopped) else ""
        click.echo(f"mocap: stopped{by}; {len(reports) - len(done)} of {len(todo)} takes finished, those in progress "
                   f"discarded (run the batch again to go on)", err=True)
        sys.exit(128 + (stopped.signum if isinstance(stopped, Stopped) else signal.SIGINT))
    finally:
        if finished is not None:
            finished.close()   # ends the workers before their partial outputs are removed
        shutil.rmtree(out / ".partial", ignore_errors=True)
    ordered = [reports[take.name] for take in takes]
    write_table(ordered, out / "batch_report.csv", click.echo)
    failed = sum(report["status"] == "failed" for report in ordered)
    click.echo(f"{len(ordered) - failed} of {len(ordered)} takes done; report in {out / 'batch_report.csv'}")
    if failed:
        sys.exit(1)


def _grid(text: str | None, option: str) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        columns, rows = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise MocapError(f"{option} must look like 5x7 (columns x rows), not '{text}'") from None
    return columns, rows


def _board(kind: str, squares: str | None, corners: str | None, square_m: float, marker_m: float | None, dictionary: str | None) -> Any:
    from mocap.cameras.boards import BoardSpec

    if kind == "charuco":
        grid = _grid(squares, "--squares")
        if grid is None or corners is not None:
            raise MocapError("a ChArUco board is given by --squares CxR (squares, e.g. 5x7), not --corners")
        if dictionary is None:
            raise MocapError("a ChArUco board needs --dictionary, e.g. DICT_6X6_250 (printed on most board generators)")
        return BoardSpec("charuco", grid[0], grid[1], square_m, marker_m, dictionary)
    grid = _grid(corners, "--corners")
    if grid is None or squares is not None:
        raise MocapError("a checkerboard is given by --corners CxR (inner corners, e.g. 9x6), not --squares")
    return BoardSpec("checkerboard", grid[0], grid[1], square_m)


@main.command()
@click.option("--board", "kind", type=click.Choice(["charuco", "checkerboard"]), required=True, help="Board type.")
@click.option("--squares", help="ChArUco: squares, columns x rows (e.g. 5x7).")
@click.option("--corners", help="Checkerboard: inner corners, columns x rows (e.g. 9x6).")
@click.option("--square-size", "square_m", type=float, required=True, help="Side of one square, metres.")
@click.option("--marker-size", "marker_m", type=float, help="ChArUco: side of one marker, metres.")
@click.option("--dictionary", help="ChArUco: OpenCV ArUco dictionary, e.g. DICT_6X6_250.")
@click.option("--images", multiple=True, help="Folder (or glob pattern) of one camera's images; repeat per camera, same order.")
@click.option("--video", multiple=True, help="One camera's video; repeat per camera (synchronised).")
@click.option("--camera", type=int, multiple=True, help="Live webcam index; repeat per camera.")
@click.option("--name", "names", multiple=True, help="Camera names, one per source (default cam_0, cam_1, ...).")
@click.option("--every", type=click.IntRange(min=1), default=None, help="Use every N-th frame of videos (default 15) or images (default 1).")
@click.option("--views", type=click.IntRange(min=3), default=30, show_default=True, help="Live cameras: views to take.")
@click.option("--interval", "interval_s", type=click.FloatRange(min=0.0, min_open=True), default=1.0, show_default=True, help="Live cameras: seconds between views.")
@click.option("--intrinsics", help="Calibration TOML whose intrinsics to keep (one camera per source, by name or order).")
@click.option("--floor", type=click.Choice(["none", "board", "person"]), default="none", show_default=True,
              help="Make the world Y-up with y = 0 on the floor, from the board lying on the floor or a standing performer.")
@click.option("--floor-view", type=int, help="--floor board: the view number where the board lies on the floor (default: the first every camera saw).")
@click.option("--standing", help="--floor person: landmarks file (.npz) of the performer standing, recorded with these cameras.")
@click.option("--output", required=True, help="Calibration TOML to write.")
@click.option("--progress/--no-progress", default=True, help="Progress bar.")
def calibrate(**options: Any) -> None:
    """Calibrate one or more cameras from views of a ChArUco board or checkerboard."""
    from mocap.cameras.board_calibration import calibrate_cameras, collect_views, finish_world
    from mocap.formats.calibration_file import load_calibration, save_calibration

    board = _board(options["kind"], options["squares"], options["corners"], options["square_m"],
                   options["marker_m"], options["dictionary"])
    output = Path(options["output"])
    require_writable(output, "calibration file")
    sources = _calibration_sources(options)
    count = len(sources)
    names = list(options["names"]) or [f"cam_{i}" for i in range(count)]
    if len(names) != count:
        raise MocapError(f"{len(names)} --name values for {count} source(s): give one per source")
    intrinsics = None
    if options["intrinsics"]:
        given = load_calibration(Path(options["intrinsics"]))
        by_name = {camera.name: camera for camera in given}
        intrinsics = [by_name[n] for n in names] if all(n in by_name for n in names) else given[:count]
        if len(intrinsics) != count:
            raise MocapError(f"{options['intrinsics']} holds {len(given)} camera(s) for {count} source(s)")
    every = options["every"] or (15 if options["video"] else 1)
    views = collect_views(board, sources, names, every=every, views=options["views"],
                          interval_s=options["interval_s"], progress=options["progress"])
    cameras, report, boards = calibrate_cameras(board, views, intrinsics=intrinsics, note=note)
    cameras = finish_world(cameras, options["floor"], boards, floor_view=options["floor_view"],
                           standing=Path(options["standing"]) if options["standing"] else None)
    for camera, camera_views in zip(cameras, views):
        found = sum(d is not None for d in camera_views.detections)
        fx, fy, cx, cy = camera.matrix[0, 0], camera.matrix[1, 1], camera.matrix[0, 2], camera.matrix[1, 2]
        rms = report.intrinsic_rms_px[camera.name]
        fitted = f"intrinsic RMS {rms:.3f} px" if rms == rms else "intrinsics kept"
        click.echo(f"{camera.name}: board in {found} of {len(camera_views.detections)} views, {fitted}, "
                   f"fx {fx:.1f} fy {fy:.1f} cx {cx:.1f} cy {cy:.1f} px")
    if count > 1:
        errors = ", ".join(f"{name} {rms:.3f} px" for name, rms in report.reprojection_rms_px.items())
        click.echo(f"bundle adjustment over {report.shared_views} shared views: RMS reprojection {errors}")
        if report.neighbour_error_mm is not None:
            mean_mm, max_mm = report.neighbour_error_mm
            click.echo(f"neighbouring corners triangulated: mean error {mean_mm:.2f} mm, max {max_mm:.2f} mm "
                       f"against the {1000 * board.square_m:.1f} mm square")
        for camera in cameras[1:]:
            click.echo(f"{camera.name}: {100 * _distance_m(cameras[0], camera):.1f} cm from {cameras[0].name}")
    save_calibration(output, cameras)
    click.echo(f"Calibration written to {output}")


def _distance_m(first: Any, second: Any) -> float:

    return float(np.linalg.norm(first.position_m - second.position_m))


def _calibration_sources(options: dict[str, Any]) -> list[Any]:
    from mocap.sources.frame_sources import open_sources

    kinds = [kind for kind in ("images", "video", "camera") if options[kind]]
    if len(kinds) != 1:
        raise MocapError("give the views as --images, --video or --camera (one kind, repeated once per camera)")
    sources = open_sources(
        cameras=options["camera"], videos=[Path(p) for p in options["video"]],
        image_folders=[Path(p) for p in options["images"]], fps=1.0 if options["images"] else None,
    )
    if len({source.frame_count for source in sources if options["images"]}) > 1:
        for source in sources:
            source.close()
        raise MocapError("the image folders hold different numbers of images: each camera needs one image per view, "
                         "in the same order")
    return sources


@main.command()
@click.option("--bvh", "bvh_path", default="demo_output/demo.bvh", show_default=True, help="Where to write the BVH.")
@click.option("--vmc", "vmc_address", default="127.0.0.1:39539", show_default=True, help="Where to send VMC.")
def demo(bvh_path: str, vmc_address: str) -> None:
    """Capture the bundled clip: VMC to a local receiver and a BVH file, drawn beside the clip into a video."""
    if not DEMO_VIDEO.is_file():
        raise MocapError(f"demo clip not found at {DEMO_VIDEO}: run the demo from a checkout of the repository")
    Path(bvh_path).parent.mkdir(parents=True, exist_ok=True)
    config = CaptureConfig().with_overrides({
        "source": {"video": str(DEMO_VIDEO)},
        "optics": {"calib": str(DEMO_CALIBRATION)},
        "vmc": {"address": vmc_address},
        "bvh": {"path": bvh_path},
    })
    _run(config, progress=True)
    from mocap.display.render_take import bvh_take, render_take, staged
    from mocap.display.scene_view import ViewSettings

    video = Path(bvh_path).with_suffix(".mp4")
    written = render_take(staged(bvh_take(Path(bvh_path))), video, ViewSettings(), source_video=DEMO_VIDEO)
    click.echo(f"Render: {written} frames of the take beside the clip written to {video}")
    click.echo("Open the BVH in Blender (File > Import > Motion Capture (.bvh), Scale 0.01), or watch the "
               "VMC stream in VSeeFace / VirtualMotionCapture with its VMC receiver on port 39539.")


@main.command()
@click.option("--progress/--no-progress", default=True, help="Progress bar for the download.")
def models(progress: bool) -> None:
    """Install MediaPipe's lite and heavy pose models (--model-complexity 0 and 2) from the npm registry."""
    from tqdm import tqdm

    from mocap.estimation.models import (
        NPM_PACKAGE_BYTES,
        install_pose_models,
        missing_pose_models,
        pose_model_folder,
    )

    folder = pose_model_folder()
    if not missing_pose_models(folder):
        click.echo(f"The lite and heavy pose models are already in {folder}")
        return
    with tqdm(total=NPM_PACKAGE_BYTES, unit="B", unit_scale=True, disable=not progress, leave=False,
              desc="@mediapipe/pose") as bar:
        written = install_pose_models(folder, on_bytes=bar.update)
    click.echo(f"Installed {', '.join(path.name for path in written)} into {folder}")


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """A capture stopped by a signal (Ctrl-C, SIGTERM from a script or service manager, SIGHUP
    when its terminal closes); it unwinds like Ctrl-C, closing every recording."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, frame: object) -> None:
    """The first stop signal stops the capture; any further one is ignored, so it cannot cut
    short the closing of the recordings."""
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, signal.SIG_IGN)
    raise Stopped(signum)


def _stop_on_signals() -> None:
    """SIGINT, SIGTERM and SIGHUP stop a capture, keeping its recordings, even when the program
    that started mocap ignores or blocks them, as a shell script does with SIGINT for what it
    starts in the background (Python leaves an ignored signal ignored)."""
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _stop)
    if hasattr(signal, "pthread_sigmask"):   # POSIX
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(STOP_SIGNALS))


def run() -> None:
    """Console-script entry point: user errors become one line and exit code 2."""
    _stop_on_signals()
    if hasattr(signal, "SIGUSR1"):   # `kill -USR1 PID` re-centres the VRChat trackers
        from mocap.sinks.vrchat import RECENTER

        signal.signal(signal.SIGUSR1, lambda signum, frame: RECENTER.set())
    try:
        main.main(standalone_mode=False)
    except MocapError as error:
        click.echo(f"mocap: error: {error}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
