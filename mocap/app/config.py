"""Capture settings: one dataclass per TOML section, every field documented with its unit.

A config file holds any subset of these sections and keys (see examples/mocap.toml);
command-line options override it. Unknown sections or keys, values of the wrong type and
numbers out of range are errors naming the offending key.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from mocap.core.errors import MocapError
from mocap.formats.toml_files import read_toml

# Command-line options that set a config key, for naming them in range errors.
_OPTION_NAMES = {
    "width": "--width", "height": "--height", "fps": "--fps", "horizontal_fov_deg": "--fov",
    "pitch_deg": "--camera-pitch", "model_complexity": "--model-complexity", "max_skew_s": "--max-skew",
    "rate_hz": "--vmc-rate",
}


def _require_range(
    settings: Any, section: str, key: str, low: float, high: float = math.inf, *, above_low: bool = False
) -> None:
    """Raise a :class:`MocapError` if ``settings.key`` (when set) lies outside [low, high], or at
    ``low`` with ``above_low``."""
    value = getattr(settings, key)
    if value is None:
        return
    inside = (value > low if above_low else value >= low) and value <= high
    if not inside:
        wanted = f"above {low:g}" if above_low else f"at least {low:g}"
        if high < math.inf:
            wanted = f"{wanted} and at most {high:g}"
        option = f"{_OPTION_NAMES[key]} / " if key in _OPTION_NAMES else ""
        raise MocapError(f"{option}[{section}] {key} must be {wanted}, not {value!r}")


@dataclass(frozen=True)
class SourceSettings:
    """[source]: exactly one of camera, video, images. A list of cameras or videos captures
    from all of them at once (needs a calibration with that many cameras)."""

    camera: int | list[int] | None = None   # webcam index (0 is the first camera), or a list of them
    video: str | list[str] | None = None    # path of a video file, or a list of synchronised videos
    images: str | None = None      # folder of images, played in file-name order
    width: int | None = None       # camera capture width, pixels (None: the camera's default)
    height: int | None = None      # camera capture height, pixels
    fps: float | None = None       # camera: requested frames per second; images: their rate (default 30)

    def __post_init__(self) -> None:
        for key in ("width", "height"):
            _require_range(self, "source", key, 1)
        _require_range(self, "source", "fps", 0.0, above_low=True)


@dataclass(frozen=True)
class OpticsSettings:
    """[optics]: how pixels become metres for the hips' position."""

    calib: str | None = None           # calibration TOML (aniposelib/Pose2Sim layout); else the field of view below
    calib_camera: str | list[str] | None = None  # camera name(s) in that file, one per source (default: file order)
    horizontal_fov_deg: float = 60.0   # horizontal field of view, degrees, used without a calibration file
    pitch_deg: float = 0.0             # how far the camera looks down, degrees
    mirror: bool = False               # reflect the performer (selfie view): their left drives the avatar's right
    auto_upright: bool = True          # learn MediaPipe's lean while the performer stands, and remove it

    def __post_init__(self) -> None:
        _require_range(self, "optics", "horizontal_fov_deg", 1.0, 179.0)
        _require_range(self, "optics", "pitch_deg", -90.0, 90.0)


@dataclass(frozen=True)
class EstimatorSettings:
    """[estimator]: MediaPipe Pose."""

    model_complexity: int = 1              # 0 lite (fastest), 1 full (bundled), 2 heavy (most accurate, about 2.5x slower than full); `mocap models` installs lite and heavy
    min_detection_confidence: float = 0.5  # 0..1, to find a person
    min_tracking_confidence: float = 0.5   # 0..1, below it the person is searched for again
    mediapipe_smoothing: bool = False      # MediaPipe's own One Euro filter (off: mocap filters instead)

    def __post_init__(self) -> None:
        _require_range(self, "estimator", "model_complexity", 0, 2)
        for key in ("min_detection_confidence", "min_tracking_confidence"):
            _require_range(self, "estimator", key, 0.0, 1.0)


@dataclass(frozen=True)
class FilterSettings:
    """[filter]: One Euro filters (cutoff_hz = min_cutoff_hz + beta * speed) and tracking loss.

    Body and root use the velocity-predicting variant (no lag at steady speed; see
    :class:`mocap.filtering.temporal.TrendPointFilter`), rotations the plain one, on each bone's rotation
    in the world (so a bone lags by its own filter alone, not its parents' as well). Lower
    min_cutoff_hz: steadier when still, slower to react. Higher beta: quicker in fast moves,
    more jitter.
    """

    min_confidence: float = 0.5          # landmarks below this (0..1) are not trusted
    body_min_cutoff_hz: float = 1.3      # body landmarks around the hips, Hz
    body_beta: float = 8.0               # Hz per m/s
    root_min_cutoff_hz: float = 1.0      # the hips' path through the room, Hz, one camera (several: [multiview])
    root_beta: float = 1.0               # Hz per m/s
    rotation_min_cutoff_hz: float = 0.6  # each bone's rotation in the world, Hz
    rotation_beta: float = 1.0           # Hz per rad/s of the bone's own turning
    hold_s: float = 0.5                  # seconds an untracked bone holds its last rotation
    ease_to_rest_s: float = 0.7          # then it eases to rest with this time constant, seconds
    foot_locking: bool = True            # hold planted feet still (off: feet only kept above the floor, for slides and spins)

    def __post_init__(self) -> None:
        _require_range(self, "filter", "min_confidence", 0.0, 1.0)
        for key in ("body_min_cutoff_hz", "root_min_cutoff_hz", "rotation_min_cutoff_hz", "ease_to_rest_s"):
            _require_range(self, "filter", key, 0.0, above_low=True)
        for key in ("body_beta", "root_beta", "rotation_beta", "hold_s"):
            _require_range(self, "filter", key, 0.0)


@dataclass(frozen=True)
class MultiviewSettings:
    """[multiview]: two or more cameras."""

    max_skew_s: float | None = None       # most time between frames of one set, seconds (None: half a frame period)
    max_reprojection_error: float = 0.02  # drop a view of a joint that misses by more than this fraction of the image height
    swap_check: bool = True               # undo a view whose left/right labels are mirrored
    root_min_cutoff_hz: float = 3.0       # the hips' path filter, Hz: triangulated hips shake far less than one camera's depth

    def __post_init__(self) -> None:
        for key in ("max_skew_s", "max_reprojection_error", "root_min_cutoff_hz"):
            _require_range(self, "multiview", key, 0.0, above_low=True)


@dataclass(frozen=True)
class RigSettings:
    """[rig]: the avatar to drive (default: the canonical humanoid with the performer's proportions)."""

    path: str | None = None      # .vrm, .glb/.gltf (with map) or .bvh: BVH is written on its joints, VMC uses its proportions
    map: str | None = None       # glTF bone map: TOML of HumanBodyBones = "node name" lines (see rigs/)


@dataclass(frozen=True)
class VmcSettings:
    """[vmc]: VMC protocol output."""

    address: str | None = None   # HOST:PORT to send to, e.g. 127.0.0.1:39539; None: no VMC
    rate_hz: float = 0.0         # most frames per second to send; 0: every captured frame

    def __post_init__(self) -> None:
        _require_range(self, "vmc", "rate_hz", 0.0)


@dataclass(frozen=True)
class BvhSettings:
    """[bvh]: BVH recording."""

    path: str | None = None      # file to record to; None: no recording
    units: str = "cm"            # cm or m (Blender: import with Scale 0.01 for cm)
    rotation_order: str = "auto"  # Euler order per joint: auto (middle axis along the bone, no gimbal lock) or e.g. ZXY for all


@dataclass(frozen=True)
class CaptureConfig:
    source: SourceSettings = field(default_factory=SourceSettings)
    optics: OpticsSettings = field(default_factory=OpticsSettings)
    estimator: EstimatorSettings = field(default_factory=EstimatorSettings)
    filter: FilterSettings = field(default_factory=FilterSettings)
    multiview: MultiviewSettings = field(default_factory=MultiviewSettings)
    rig: RigSettings = field(default_factory=RigSettings)
    vmc: VmcSettings = field(default_factory=VmcSettings)
    bvh: BvhSettings = field(default_factory=BvhSettings)
    preview: bool = False        # window with the skeleton over the camera image (needs a display)
    record_landmarks: str | None = None  # .npz file to record every camera's landmarks to (for `mocap solve`)

    def with_overrides(self, overrides: dict[str, dict[str, Any]]) -> CaptureConfig:
        """A copy with ``{section: {key: value}}`` applied; None values are ignored."""
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


def _accepts(annotation: str, value: Any, owner: type) -> bool:
    hint = typing.get_type_hints(owner)[annotation]
    allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for kind in allowed:
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
