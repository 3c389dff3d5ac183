"""Capture settings: one dataclass per TOML section, every field documented with its unit.

A config file holds any subset of these sections and keys (see examples/mocap.toml);
command-line options override it. Unknown sections or keys, values of the wrong type and
numbers out of range are errors naming the offending key.
"""

from __future__ import annotations

import math
import textwrap
import types
import typing
from dataclasses import MISSING, Field, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import tomli_w

from mocap.core.errors import MocapError
from mocap.display.scene_view import BACKGROUNDS_BGR, VIEWS
from mocap.formats.toml_files import read_toml
from mocap.sinks.expressions import EXPRESSION_SCHEMES


def setting(
    default: Any,
    help: str,
    *,
    low: float | None = None,
    high: float = math.inf,
    above_low: bool = False,
    choices: tuple[str, ...] = (),
    flag: str | None = None,
    shared: bool = False,
    example: Any = None,
) -> Any:
    """One option, declared once: its default, help (unit included), valid range (``low`` to
    ``high``, ``above_low``: strictly above) or ``choices``, its command-line ``flag`` (``shared``:
    `mocap solve` takes it too) and, for options off by default, an ``example`` value.
    Validation, the command line's options and help, and examples/mocap.toml come from here."""
    metadata = {"help": help, "low": low, "high": high, "above_low": above_low, "choices": choices,
                "flag": flag, "shared": shared, "example": example}
    return field(default=default, metadata=metadata)


OFFLINE_CUTOFF_HZ = 6.0   # offline work's zero-phase smoothing cutoff unless --smooth says otherwise (docs/filtering.md)

@dataclass(frozen=True)
class _Section:
    """A [section] of the config file; its values are checked against their declarations."""

    SECTION: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for declared in fields(self):
            _check(self.SECTION, declared, getattr(self, declared.name))


def _check(section: str, declared: Field[Any], value: Any) -> None:
    """Raise a :class:`MocapError` naming the option if ``value`` lies outside its declared range
    or choices (None means unset and passes)."""
    meta = declared.metadata
    option = f"{meta['flag']} / " if meta.get("flag") else ""
    name = f"[{section}] {declared.name}" if section else declared.name
    if value is None:
        return
    if meta.get("choices") and value not in meta["choices"]:
        raise MocapError(f"{option}{name} must be one of {', '.join(meta['choices'])}, not {value!r}")
    low, high = meta.get("low"), meta.get("high", math.inf)
    if low is None:
        return
    inside = (value > low if meta["above_low"] else value >= low) and value <= high
    if not inside:
        wanted = f"above {low:g}" if meta["above_low"] else f"at least {low:g}"
        if high < math.inf:
            wanted = f"{wanted} and at most {high:g}"
        raise MocapError(f"{option}{name} must be {wanted}, not {value!r}")


@dataclass(frozen=True)
class SourceSettings(_Section):
    """[source]: exactly one of camera, video, images. A list of cameras or videos captures
    from all of them at once (needs a calibration with that many cameras)."""

    SECTION: ClassVar[str] = "source"
    camera: int | list[int] | None = setting(
        None, "Webcam index (0 is the first camera); repeat (a list in the file) for several cameras.",
        flag="--camera", example=0)
    video: str | list[str] | None = setting(
        None, "Video file to capture from; repeat (a list in the file) for synchronised views.",
        flag="--video", example="take.mp4")
    images: str | None = setting(None, "Folder of images (or a glob pattern), played in file-name order.",
                                 flag="--images", example="frames/")
    realtime: bool = setting(False, "Videos: deliver each frame at its own time on the wall clock and drop what "
                             "capture cannot keep up with, as a live camera does (to try the live path on a file).",
                             flag="--realtime")
    width: int | None = setting(None, "Camera capture width, pixels (default: the camera's own).", low=1, flag="--width",
                                example=1280)
    height: int | None = setting(None, "Camera capture height, pixels.", low=1, flag="--height", example=720)
    fps: float | None = setting(None, "Camera: frames per second to request; images: their rate (default 30).",
                                low=0.0, above_low=True, flag="--fps", example=30.0)


@dataclass(frozen=True)
class OpticsSettings(_Section):
    """[optics]: how pixels become metres for the hips' position."""

    SECTION: ClassVar[str] = "optics"
    calib: str | None = setting(
        None, "Calibration TOML (aniposelib/Pose2Sim layout, from `mocap calibrate`); needed for two or more cameras.",
        flag="--calib", shared=True, example="calibration.toml")
    calib_camera: str | list[str] | None = setting(
        None, "Camera name in the calibration, one per source (default: file order).",
        flag="--calib-camera", shared=True, example="cam_0")
    horizontal_fov_deg: float = setting(60.0, "Horizontal field of view, degrees, used without a calibration.",
                                        low=1.0, high=179.0, flag="--fov")
    pitch_deg: float = setting(0.0, "How far the camera looks down, degrees.", low=-90.0, high=90.0, flag="--camera-pitch")
    mirror: bool = setting(False, "Reflect the performer (selfie view): their left drives the avatar's right.",
                           flag="--mirror")
    auto_upright: bool = setting(True, "Learn MediaPipe's forward lean while the performer stands, and remove it.")


@dataclass(frozen=True)
class EstimatorSettings(_Section):
    """[estimator]: MediaPipe Pose."""

    SECTION: ClassVar[str] = "estimator"
    model_complexity: int = setting(
        1, "MediaPipe model: 0 lite (fastest), 1 full (bundled), 2 heavy (most accurate, about 2.5x slower "
        "than full); `mocap models` installs lite and heavy.", low=0, high=2, flag="--model-complexity")
    min_detection_confidence: float = setting(0.5, "Confidence (0..1) needed to find a person.", low=0.0, high=1.0)
    min_tracking_confidence: float = setting(0.5, "Confidence (0..1) below which the person is searched for again.",
                                             low=0.0, high=1.0)
    mediapipe_smoothing: bool = setting(False, "MediaPipe's own One Euro filter (off: mocap's filters instead).")
    hands: bool = setting(False, "Track the fingers (MediaPipe Holistic: about twice the time of the body alone).",
                          flag="--hands")
    face: bool = setting(False, "Track the face: blinks, mouth, gaze and brows (MediaPipe Face Mesh).", flag="--face")


@dataclass(frozen=True)
class FilterSettings(_Section):
    """[filter]: One Euro filters (cutoff_hz = min_cutoff_hz + beta * speed) and tracking loss.
    Body and root predict from their velocity, so steady motion is followed without lag;
    rotations are filtered as each bone's rotation in the world. Lower min_cutoff_hz: steadier
    when still, slower to react. Higher beta: quicker in fast moves, more jitter."""

    SECTION: ClassVar[str] = "filter"
    min_confidence: float = setting(0.5, "Landmarks below this confidence (0..1) are not trusted and hold still.",
                                    low=0.0, high=1.0)
    body_min_cutoff_hz: float = setting(1.3, "Body landmarks around the hips, Hz.", low=0.0, above_low=True)
    body_beta: float = setting(8.0, "Body, Hz per m/s.", low=0.0)
    root_min_cutoff_hz: float = setting(
        1.0, "The hips' path through the room, Hz, with one camera ([multiview] root_min_cutoff_hz with several).",
        low=0.0, above_low=True)
    root_beta: float = setting(1.0, "The hips' path, Hz per m/s.", low=0.0)
    rotation_min_cutoff_hz: float = setting(0.6, "Each bone's rotation in the world, Hz.", low=0.0, above_low=True)
    rotation_beta: float = setting(1.0, "Rotations, Hz per rad/s of the bone's own turning.", low=0.0)
    hold_s: float = setting(0.5, "An untracked bone holds its last rotation this long, seconds.", low=0.0)
    ease_to_rest_s: float = setting(0.7, "Then it eases to the T-pose with this time constant, seconds.",
                                    low=0.0, above_low=True)
    foot_locking: bool = setting(True, "Hold planted feet still (off: feet only kept above the floor, for slides "
                                 "and spins).", flag="--foot-lock", shared=True)


@dataclass(frozen=True)
class MultiviewSettings(_Section):
    """[multiview]: two or more cameras."""

    SECTION: ClassVar[str] = "multiview"
    max_skew_s: float | None = setting(
        None, "Most seconds between the frames of one set (default: half the slowest camera's frame period).",
        low=0.0, above_low=True, flag="--max-skew", example=0.0167)
    max_reprojection_error: float = setting(
        0.02, "A view missing a joint by more than this fraction of the image height is dropped for it.",
        low=0.0, above_low=True)
    swap_check: bool = setting(True, "Undo a view whose left/right labels are mirrored.")
    body_fit: bool = setting(
        True, "Fit the whole body to every view at once with each camera's body shape (off: triangulate each joint alone).")
    root_min_cutoff_hz: float = setting(
        3.0, "The hips' path filter with several cameras, Hz (triangulated hips shake far less than one camera's depth).",
        low=0.0, above_low=True)
    body_min_cutoff_hz: float = setting(
        3.0, "Body landmarks around the hips with several cameras, Hz (the fitted body shakes less than one camera's).",
        low=0.0, above_low=True)
    rotation_min_cutoff_hz: float = setting(
        2.0, "Each bone's rotation in the world with several cameras, Hz.", low=0.0, above_low=True)


@dataclass(frozen=True)
class RigSettings(_Section):
    """[rig]: the avatar to drive (default: the canonical humanoid with the performer's proportions)."""

    SECTION: ClassVar[str] = "rig"
    path: str | None = setting(
        None, "Avatar to drive: .vrm, .glb/.gltf (with a bone map) or .bvh; BVH is written on its joints, VMC uses "
        "its proportions.", flag="--rig", shared=True, example="avatar.vrm")
    map: str | None = setting(None, "Bone map for a glTF rig: TOML of HumanBodyBones = \"node name\" lines (see rigs/).",
                              flag="--rig-map", shared=True, example="rigs/kaykit_mannequin.toml")


@dataclass(frozen=True)
class VmcSettings(_Section):
    """[vmc]: VMC protocol output."""

    SECTION: ClassVar[str] = "vmc"
    address: str | None = setting(None, "Send VMC to HOST:PORT (VSeeFace, VNyan, Warudo: 127.0.0.1:39539).",
                                  flag="--vmc", shared=True, example="127.0.0.1:39539")
    rate_hz: float = setting(0.0, "Most VMC frames per second to send (0: every captured frame).", low=0.0,
                             flag="--vmc-rate", shared=True)
    expressions: str = setting(
        "vrm0", "The face's blend shape names: vrm0 presets (VSeeFace, VNyan, VirtualMotionCapture), vrm1 presets, "
        "or arkit (perfect-sync avatars).", choices=EXPRESSION_SCHEMES, flag="--vmc-expressions", shared=True)


@dataclass(frozen=True)
class OscSettings(_Section):
    """[osc]: the plain OSC schema for games (docs/osc.md): joints and bones in world space."""

    SECTION: ClassVar[str] = "osc"
    address: str | None = setting(None, "Send the plain OSC schema to HOST:PORT (e.g. a game on 127.0.0.1:39540).",
                                  flag="--osc", shared=True, example="127.0.0.1:39540")
    axes: str = setting("unity", "The receiving engine's axes for --osc.", choices=("unity", "godot", "unreal"),
                        flag="--osc-axes", shared=True)
    rate_hz: float = setting(0.0, "Most frames per second to send over --osc (0: every frame).", low=0.0,
                             flag="--osc-rate", shared=True)


@dataclass(frozen=True)
class VrchatSettings(_Section):
    """[vrchat]: VRChat OSC trackers (docs/vrchat.md): hip, chest, feet, knees, elbows and the head reference."""

    SECTION: ClassVar[str] = "vrchat"
    address: str | None = setting(None, "Send VRChat OSC trackers to HOST[:PORT] (VRChat listens on 127.0.0.1:9000).",
                                  flag="--vrchat", shared=True, example="127.0.0.1:9000")
    rate_hz: float = setting(0.0, "Most frames per second to send to VRChat (0: every frame).", low=0.0,
                             flag="--vrchat-rate", shared=True)


@dataclass(frozen=True)
class BvhSettings(_Section):
    """[bvh]: BVH recording."""

    SECTION: ClassVar[str] = "bvh"
    path: str | None = setting(None, "Record a BVH file.", flag="--bvh", shared=True, example="take.bvh")
    units: str = setting("cm", "BVH length unit (Blender: import cm with Scale 0.01).", choices=("cm", "m"),
                         flag="--bvh-units", shared=True)
    rotation_order: str = setting(
        "auto", "Euler order per joint: auto (middle axis along the bone, no gimbal lock) or one order for all, "
        "e.g. ZXY.")


@dataclass(frozen=True)
class VirtualCameraSettings(_Section):
    """[virtual_camera]: a virtual camera for OBS and video calls (docs/rendering.md): v4l2loopback
    on Linux, OBS Virtual Camera on Windows and macOS."""

    SECTION: ClassVar[str] = "virtual_camera"
    show: str | None = setting(
        None, "Send to a virtual camera: avatar (the solved skeleton on chroma-key green) or preview "
        "(the camera image with the landmarks).", choices=("avatar", "preview"), flag="--virtual-camera", example="avatar")
    width: int = setting(1280, "Virtual camera width, pixels.", low=16, high=7680, flag="--virtual-camera-width")
    height: int = setting(720, "Virtual camera height, pixels.", low=16, high=4320, flag="--virtual-camera-height")
    fps: float = setting(30.0, "Most frames a second sent to the virtual camera (fewer when capture is slower).",
                         low=0.0, above_low=True, high=240.0, flag="--virtual-camera-fps")
    view: str = setting("front", "avatar: where its camera stands, seen from the performer.", choices=VIEWS,
                        flag="--virtual-camera-view")
    background: str = setting(
        "green", "avatar: the background, a key colour OBS's Chroma Key filter takes out (blue or magenta for a "
        "green avatar).", choices=tuple(BACKGROUNDS_BGR), flag="--virtual-camera-background")


@dataclass(frozen=True)
class CaptureConfig:
    source: SourceSettings = field(default_factory=SourceSettings)
    optics: OpticsSettings = field(default_factory=OpticsSettings)
    estimator: EstimatorSettings = field(default_factory=EstimatorSettings)
    filter: FilterSettings = field(default_factory=FilterSettings)
    multiview: MultiviewSettings = field(default_factory=MultiviewSettings)
    rig: RigSettings = field(default_factory=RigSettings)
    vmc: VmcSettings = field(default_factory=VmcSettings)
    osc: OscSettings = field(default_factory=OscSettings)
    vrchat: VrchatSettings = field(default_factory=VrchatSettings)
    bvh: BvhSettings = field(default_factory=BvhSettings)
    virtual_camera: VirtualCameraSettings = field(default_factory=VirtualCameraSettings)
    preview: bool = setting(False, "Show the camera image with the skeleton (needs a display).", flag="--preview")
    viewer: bool = setting(False, "Show the solved skeleton, or --rig's avatar, in 3D in a window (needs a display).",
                           flag="--viewer")
    preset: str | None = setting(None, "vtuber: the hands and face tracked as well as the body.", choices=("vtuber",),
                                 flag="--preset", example="vtuber")
    live: bool = setting(
        False, "Solve files with the live filters, as a live capture would, instead of the offline smoothing "
        "used when nothing live is asked for.", flag="--live", shared=True)
    record_landmarks: str | None = setting(
        None, "Record every camera's landmarks to FILE.npz (re-solve later with `mocap solve`).",
        flag="--record-landmarks", example="take.npz")

    def __post_init__(self) -> None:
        for declared in fields(self):
            _check("", declared, getattr(self, declared.name))

    @property
    def tracks_hands(self) -> bool:
        return self.estimator.hands or self.preset == "vtuber"

    @property
    def tracks_face(self) -> bool:
        return self.estimator.face or self.preset == "vtuber"

    def with_overrides(self, overrides: dict[str, dict[str, Any]]) -> CaptureConfig:
        """A copy with ``{section: {key: value}}`` applied (section "capture": the top-level keys);
        None values are ignored."""
        config = self
        for section, values in overrides.items():
            values = {k: v for k, v in values.items() if v is not None}
            if not values:
                continue
            if section == "capture":
                config = replace(config, **values)
            else:
                config = replace(config, **{section: replace(getattr(config, section), **values)})
        return config


def declared_options() -> list[tuple[str, Field[Any], tuple[Any, ...]]]:
    """Every option with a command-line flag, as (section, field, the types it accepts), in
    declaration order (section "capture": the top-level keys)."""
    options = []
    for top in fields(CaptureConfig):
        section_type: Any = top.default_factory
        if section_type is not MISSING:
            options += [(top.name, f, field_kinds(section_type, f.name)) for f in fields(section_type) if f.metadata.get("flag")]
        elif top.metadata.get("flag"):
            options.append(("capture", top, field_kinds(CaptureConfig, top.name)))
    return options


def example_toml() -> str:
    """examples/mocap.toml: every option with its default (or, off by default, an example value
    commented out) and its help, from the declarations."""
    lines = ["# mocap capture --config examples/mocap.toml",
             "# Every option, with its default. Command-line options override this file.",
             "# Generated from mocap/app/config.py: python -m mocap.app.config > examples/mocap.toml", ""]
    top_level = [f for f in fields(CaptureConfig) if f.default_factory is MISSING]
    lines += ["# Top-level keys come before the first [section]."] + [_example_line(f) for f in top_level]
    for top in fields(CaptureConfig):
        section_type: Any = top.default_factory
        if section_type is MISSING:
            continue
        doc = " ".join((section_type.__doc__ or "").split()).removeprefix(f"[{top.name}]: ")
        lines += ["", f"[{top.name}]", *textwrap.wrap(doc, 96, initial_indent="# ", subsequent_indent="# ")]
        lines += [_example_line(f) for f in fields(section_type)]
    return "\n".join(lines) + "\n"


def _example_line(declared: Field[Any]) -> str:
    default = declared.default
    value, prefix = (declared.metadata["example"], "# ") if default is None else (default, "")
    return f"{prefix}{tomli_w.dumps({declared.name: value}).strip()}  # {declared.metadata['help']}"


def field_kinds(owner: type, name: str) -> tuple[Any, ...]:
    """The types field ``name`` of ``owner`` accepts: ``int | list[int] | None`` gives
    (int, list[int], NoneType)."""
    hint = typing.get_type_hints(owner)[name]
    return typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)


def _accepts(annotation: str, value: Any, owner: type) -> bool:
    for kind in field_kinds(owner, annotation):
        if typing.get_origin(kind) is list:
            (item_kind,) = typing.get_args(kind)
            if isinstance(value, list) and value and all(_accepts_type(item_kind, item) for item in value):
                return True
        elif _accepts_type(kind, value):
            return True
    return False


def _accepts_type(kind: Any, value: Any) -> bool:
    if kind is type(None) and value is None:
        return True
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return True
    return kind in (str, bool) and isinstance(value, kind)


def load_config(path: Path) -> CaptureConfig:
    """Read a TOML config file."""
    table = read_toml(path, kind="config file", option="--config")
    config = CaptureConfig()
    sections = {f.name: f for f in fields(CaptureConfig)}
    overrides: dict[str, dict[str, Any]] = {"capture": {}}
    for name, value in table.items():
        if name not in sections:
            raise MocapError(f"config file {path}: unknown section or key '{name}' (see examples/mocap.toml)")
        if is_dataclass(getattr(config, name)) != isinstance(value, dict):
            raise MocapError(f"config file {path}: '{name}' has a value of the wrong type ({value!r})")
        if not isinstance(value, dict):
            if not _accepts(name, value, CaptureConfig):
                raise MocapError(f"config file {path}: '{name}' has a value of the wrong type ({value!r})")
            overrides["capture"][name] = value
            continue
        settings_type = type(getattr(config, name))
        known = {f.name for f in fields(settings_type)}
        for key, item in value.items():
            if key not in known:
                raise MocapError(f"config file {path}: unknown key '{key}' in [{name}] (see examples/mocap.toml)")
            if not _accepts(key, item, settings_type):
                raise MocapError(f"config file {path}: [{name}] {key} has a value of the wrong type ({item!r})")
        overrides[name] = dict(value)
    try:
        return config.with_overrides(overrides)
    except MocapError as error:
        raise MocapError(f"config file {path}: {error}") from None


if __name__ == "__main__":
    print(example_toml(), end="")
