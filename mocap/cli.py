"""The ``mocap`` command: ``capture``, ``solve``, ``calibrate`` and ``demo``."""

from __future__ import annotations

import sys
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from mocap.config import CaptureConfig, load_config
from mocap.errors import MocapError

if TYPE_CHECKING:
    from mocap.capture import OpenedSinks
    from mocap.pipeline import RunSummary

DEMO_DIR = Path(__file__).resolve().parent.parent / "examples" / "demo"
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


_OUTPUT_OPTIONS = [
    click.option("--calib", type=str, help="Calibration TOML (aniposelib/Pose2Sim layout); needed for two or more cameras."),
    click.option("--calib-camera", multiple=True, help="Camera name in the calibration, once per source (default: file order)."),
    click.option("--vmc", "vmc_address", type=str, help="Send VMC to HOST:PORT (VSeeFace, VNyan, Warudo: 127.0.0.1:39539)."),
    click.option("--vmc-rate", type=float, help="Most VMC frames per second to send (default: every frame)."),
    click.option("--bvh", "bvh_path", type=str, help="Record a BVH file."),
    click.option("--bvh-units", type=click.Choice(["cm", "m"]), help="BVH length unit (default cm)."),
    click.option("--config", "config_path", type=str, help="TOML config file; options given here override it."),
    click.option("--progress/--no-progress", default=True, help="Progress bar for files."),
]


def _output_options(function: Any) -> Any:
    return _options(function, _OUTPUT_OPTIONS)


def _capture_options(function: Any) -> Any:
    return _options(function, [
        click.option("--camera", type=int, multiple=True, help="Webcam index (0 is the first camera); repeat for several cameras."),
        click.option("--video", type=str, multiple=True, help="Video file to capture from; repeat for synchronised views."),
        click.option("--images", type=str, help="Folder of images, in file-name order."),
        click.option("--width", type=int, help="Camera capture width, pixels."),
        click.option("--height", type=int, help="Camera capture height, pixels."),
        click.option("--fps", type=float, help="Camera frame rate to request; rate of an image folder (default 30)."),
        click.option("--fov", "horizontal_fov_deg", type=float, help="Horizontal field of view in degrees, without --calib (default 60)."),
        click.option("--camera-pitch", "pitch_deg", type=float, help="How far the camera looks down, degrees (default 0)."),
        click.option("--mirror/--no-mirror", default=None, help="Reflect the performer (selfie view)."),
        click.option("--model-complexity", type=click.IntRange(0, 2), help="MediaPipe model: 0 lite, 1 full (default, bundled), 2 heavy (lite and heavy are downloaded on first use)."),
        click.option("--max-skew", "max_skew_s", type=float, help="Several sources: most seconds between frames of one set (default: half a frame)."),
        click.option("--record-landmarks", type=str, help="Record every camera's landmarks to FILE.npz (replay with `mocap solve`)."),
        click.option("--preview/--no-preview", default=None, help="Show the camera image with the skeleton (needs a display)."),
        *_OUTPUT_OPTIONS,
    ])


def _config_from_options(options: dict[str, Any]) -> CaptureConfig:
    config = load_config(Path(options["config_path"])) if options["config_path"] else CaptureConfig()
    return config.with_overrides({
        "source": {
            "camera": _one_or_many(options["camera"]), "video": _one_or_many(options["video"]),
            **{k: options[k] for k in ("images", "width", "height", "fps")},
        },
        "optics": {
            "calib": options["calib"], "calib_camera": _one_or_many(options["calib_camera"]),
            "horizontal_fov_deg": options["horizontal_fov_deg"], "pitch_deg": options["pitch_deg"],
            "mirror": options["mirror"],
        },
        "estimator": {"model_complexity": options["model_complexity"]},
        "multiview": {"max_skew_s": options["max_skew_s"]},
        "vmc": {"address": options["vmc_address"], "rate_hz": options["vmc_rate"]},
        "bvh": {"path": options["bvh_path"], "units": options["bvh_units"]},
        "capture": {"preview": options["preview"], "record_landmarks": options["record_landmarks"]},
    })


def _solve_config(options: dict[str, Any]) -> CaptureConfig:
    config = load_config(Path(options["config_path"])) if options["config_path"] else CaptureConfig()
    return config.with_overrides({
        "optics": {"calib": options["calib"], "calib_camera": _one_or_many(options["calib_camera"])},
        "vmc": {"address": options["vmc_address"], "rate_hz": options["vmc_rate"]},
        "bvh": {"path": options["bvh_path"], "units": options["bvh_units"]},
    })


def _report(config: CaptureConfig, work: Callable[[], tuple[RunSummary, OpenedSinks]]) -> None:
    """Run a capture or replay; print its summary, or where the recordings are after Ctrl-C."""
    try:
        summary, sinks = work()
    except KeyboardInterrupt:
        saved = [f"BVH saved to {config.bvh.path}"] if config.bvh.path else []
        saved += [f"landmarks saved to {config.record_landmarks}"] if config.record_landmarks else []
        click.echo("mocap: stopped" + "".join(f"; {line}" for line in saved), err=True)
        sys.exit(130)
    click.echo(summary.describe())
    if config.record_landmarks is not None:
        click.echo(f"Landmarks: written to {config.record_landmarks}")
    if sinks.bvh is not None:
        click.echo(f"BVH: {sinks.bvh.frames_written} frames written to {sinks.bvh.path}")
    if sinks.vmc is not None:
        click.echo(f"VMC: {sinks.vmc.sent_frames} frames sent to {config.vmc.address}")


def _run(config: CaptureConfig, progress: bool) -> None:
    from mocap.capture import run_capture

    if config.vmc.address is None and config.bvh.path is None and not config.preview and not config.record_landmarks:
        click.echo("mocap: note: no output chosen (--vmc, --bvh, --record-landmarks or --preview); capturing anyway", err=True)
    _report(config, lambda: run_capture(config, progress=progress))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """mocap: webcam motion capture to VMC (VSeeFace, VNyan, Warudo, Unity, Godot) and BVH."""


@main.command()
@_capture_options
def capture(**options: Any) -> None:
    """Capture from a camera, video or image folder; stream VMC and/or record BVH."""
    _run(_config_from_options(options), options["progress"])


@main.command()
@click.argument("landmarks", type=str)
@_output_options
def solve(landmarks: str, **options: Any) -> None:
    """Re-run lifting or triangulation, filtering and solving on a landmarks file (.npz)."""
    from mocap.capture import run_replay
    from mocap.landmarks_file import load_landmarks

    config = _solve_config(options)
    if config.vmc.address is None and config.bvh.path is None:
        raise MocapError("choose an output: --bvh FILE and/or --vmc HOST:PORT")
    recording = load_landmarks(Path(landmarks))
    _report(config, lambda: run_replay(config, recording, progress=options["progress"]))



@main.command()
@click.option("--bvh", "bvh_path", default="demo_output/demo.bvh", show_default=True, help="Where to write the BVH.")
@click.option("--vmc", "vmc_address", default="127.0.0.1:39539", show_default=True, help="Where to send VMC.")
def demo(bvh_path: str, vmc_address: str) -> None:
    """Capture the bundled clip: VMC to a local receiver and a BVH file."""
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
    click.echo("Open the BVH in Blender (File > Import > Motion Capture (.bvh), Scale 0.01), or watch the "
               "VMC stream in VSeeFace / VirtualMotionCapture with its VMC receiver on port 39539.")


def run() -> None:
    """Console-script entry point: user errors become one line and exit code 2."""
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
