"""The ``mocap`` command: ``mocap capture`` and ``mocap demo``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from mocap.config import CaptureConfig, load_config
from mocap.errors import MocapError

DEMO_DIR = Path(__file__).resolve().parent.parent / "examples" / "demo"
DEMO_VIDEO = DEMO_DIR / "bodypose3d_cam0_test.mp4"
DEMO_CALIBRATION = DEMO_DIR / "demo_camera.toml"


def _capture_options(function: Any) -> Any:
    options = [
        click.option("--camera", type=int, help="Webcam index (0 is the first camera)."),
        click.option("--video", type=str, help="Video file to capture from."),
        click.option("--images", type=str, help="Folder of images, in file-name order."),
        click.option("--width", type=int, help="Camera capture width, pixels."),
        click.option("--height", type=int, help="Camera capture height, pixels."),
        click.option("--fps", type=float, help="Camera frame rate to request; rate of an image folder (default 30)."),
        click.option("--calib", type=str, help="Calibration TOML (aniposelib/Pose2Sim layout) for the camera intrinsics."),
        click.option("--calib-camera", type=str, help="Camera name in the calibration file (default: the first)."),
        click.option("--fov", "horizontal_fov_deg", type=float, help="Horizontal field of view in degrees, without --calib (default 60)."),
        click.option("--camera-pitch", "pitch_deg", type=float, help="How far the camera looks down, degrees (default 0)."),
        click.option("--mirror/--no-mirror", default=None, help="Reflect the performer (selfie view)."),
        click.option("--model-complexity", type=click.IntRange(0, 2), help="MediaPipe model: 0 lite, 1 full (default), 2 heavy."),
        click.option("--vmc", "vmc_address", type=str, help="Send VMC to HOST:PORT (VSeeFace, VNyan, Warudo: 127.0.0.1:39539)."),
        click.option("--vmc-rate", type=float, help="Most VMC frames per second to send (default: every frame)."),
        click.option("--bvh", "bvh_path", type=str, help="Record a BVH file."),
        click.option("--bvh-units", type=click.Choice(["cm", "m"]), help="BVH length unit (default cm)."),
        click.option("--preview/--no-preview", default=None, help="Show the camera image with the skeleton (needs a display)."),
        click.option("--config", "config_path", type=str, help="TOML config file; options given here override it."),
        click.option("--progress/--no-progress", default=True, help="Progress bar for files."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _config_from_options(options: dict[str, Any]) -> CaptureConfig:
    config = load_config(Path(options["config_path"])) if options["config_path"] else CaptureConfig()
    return config.with_overrides({
        "source": {k: options[k] for k in ("camera", "video", "images", "width", "height", "fps")},
        "optics": {
            "calib": options["calib"], "calib_camera": options["calib_camera"],
            "horizontal_fov_deg": options["horizontal_fov_deg"], "pitch_deg": options["pitch_deg"],
            "mirror": options["mirror"],
        },
        "estimator": {"model_complexity": options["model_complexity"]},
        "vmc": {"address": options["vmc_address"], "rate_hz": options["vmc_rate"]},
        "bvh": {"path": options["bvh_path"], "units": options["bvh_units"]},
        "capture": {"preview": options["preview"]},
    })


def _run(config: CaptureConfig, progress: bool) -> None:
    from mocap.capture import run_capture

    if config.vmc.address is None and config.bvh.path is None and not config.preview:
        click.echo("mocap: note: no output chosen (--vmc, --bvh or --preview); capturing anyway", err=True)
    try:
        summary, sinks = run_capture(config, progress=progress)
    except KeyboardInterrupt:
        saved = f"; BVH saved to {config.bvh.path}" if config.bvh.path else ""
        click.echo(f"mocap: stopped{saved}", err=True)
        sys.exit(130)
    click.echo(summary.describe())
    if sinks.bvh is not None:
        click.echo(f"BVH: {sinks.bvh.frames_written} frames written to {sinks.bvh.path}")
    if sinks.vmc is not None:
        click.echo(f"VMC: {sinks.vmc.sent_frames} frames sent to {config.vmc.address}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """mocap: webcam motion capture to VMC (VSeeFace, VNyan, Warudo, Unity, Godot) and BVH."""


@main.command()
@_capture_options
def capture(**options: Any) -> None:
    """Capture from a camera, video or image folder; stream VMC and/or record BVH."""
    _run(_config_from_options(options), options["progress"])


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
