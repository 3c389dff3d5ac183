"""Accuracy with the noise where it is in life: in each camera's pixels.

A BVH clip's BlazePose landmarks (:func:`mocap.evaluation.accuracy.synthesize_landmarks`) stand
in front of virtual calibrated cameras; each camera sees them as a 2D detector does (pixel
noise, outliers at low confidence, dropouts, points off the image unseen) and gets its own
MediaPipe-style world landmarks (camera axes, origin mid-hips, with their own noise). The
recording goes through ``mocap solve`` itself (:func:`mocap.app.session.run_replay`: live
filters, or the offline method), onto the clip's own skeleton as the rig; the BVH it writes is
read back from disk and compared with the clip.

Camera set-ups (the performer's mean hips 4 m in front of camera 0, which looks along -Z at
hip height, so the output's facing is the clip's):
- ``one``: camera 0 alone;
- ``desk``: camera 0 and a second camera 1.2 m to its side, toed in to the performer (two
  webcams on a desk);
- ``apart60``: camera 0 and a second camera 60 degrees round the performer;
- ``four``: cameras at 0, 60, 180 and -60 degrees round the performer (for timings).
1280x720 pixels, 70 degrees horizontal field of view (a Logitech C920).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.app.config import OFFLINE_CUTOFF_HZ, CaptureConfig
from mocap.app.session import run_replay
from mocap.cameras.camera_model import CameraModel
from mocap.core.conventions import HIP_LANDMARKS, LANDMARK_INDEX, NUM_POSE_LANDMARKS
from mocap.evaluation.accuracy import ClipMotion, bone_errors_deg, foot_skate_mm, jitter, lag_frames, synthesize_landmarks
from mocap.formats.bvh import read_bvh
from mocap.formats.calibration_file import save_calibration
from mocap.formats.landmarks_file import LandmarkRecording
from mocap.retargeting.retarget import Retargeter

IMAGE_SIZE = (1280, 720)
FIELD_OF_VIEW_DEG = 70.0
DISTANCE_M = 4.0
CAMERA_HEIGHT_M = 1.0
SETUPS = ("one", "desk", "apart60", "four")


@dataclass(frozen=True)
class DetectorNoise:
    """How a 2D detector and its world landmarks err, per camera and landmark-frame."""

    pixel_sd_px: float = 2.0                              # Gaussian, each coordinate
    outlier_rate: float = 0.01                            # landmark-frames that jump ...
    outlier_px: tuple[float, float] = (20.0, 60.0)        # ... this far (uniform), ...
    outlier_confidence: tuple[float, float] = (0.3, 0.7)  # ... at this confidence
    dropout_rate: float = 0.02                            # landmark-frames lost: half NaN at confidence 0,
    dropout_confidence: tuple[float, float] = (0.0, 0.45)  # half guessed 10-30 px off at this confidence
    world_sd_m: float = 0.01                              # Gaussian on the world landmarks, each coordinate
    world_lean_deg: float = 0.0                           # each camera's world body turned this far (random axis)
    world_shape_sd_m: float = 0.0                         # slow shape error of each world landmark (1 s correlation)


NO_NOISE = DetectorNoise(0.0, 0.0, (0.0, 0.0), (1.0, 1.0), 0.0, (0.0, 0.0), 0.0)
# World landmarks as MediaPipe's are on Pose2Sim's take (benchmarks/multiview.py): turned 2-30
# degrees from the camera's axes, and a median 6-12 cm off the triangulated body once turned onto it.
MEDIAPIPE_WORLD = DetectorNoise(world_lean_deg=15.0, world_shape_sd_m=0.06)


WEBCAM = CameraModel.from_field_of_view(IMAGE_SIZE, FIELD_OF_VIEW_DEG)


def camera_setup(setup: str) -> list[CameraModel]:
    """The cameras of a set-up (see the module docstring), the performer's mean hips at the origin."""
    centre = np.array([0.0, CAMERA_HEIGHT_M, 0.0])
    first = np.array([0.0, CAMERA_HEIGHT_M, DISTANCE_M])
    cameras = [WEBCAM.looking_at("cam_0", first, centre)]
    if setup == "desk":
        cameras.append(WEBCAM.looking_at("cam_1", first + np.array([1.2, 0.0, 0.0]), centre))
    elif setup == "four":
        for number, degrees in enumerate((60.0, 180.0, -60.0), start=1):
            angle = np.radians(degrees)
            position = np.array([DISTANCE_M * np.sin(angle), CAMERA_HEIGHT_M, DISTANCE_M * np.cos(angle)])
            cameras.append(WEBCAM.looking_at(f"cam_{number}", position, centre))
    elif setup == "apart60":
        angle = np.radians(60.0)
        cameras.append(WEBCAM.looking_at("cam_1", np.array([DISTANCE_M * np.sin(angle), CAMERA_HEIGHT_M, DISTANCE_M * np.cos(angle)]), centre))
    elif setup != "one":
        raise ValueError(f"unknown camera set-up {setup!r}: one of {SETUPS}")
    return cameras


def stage_landmarks(motion: ClipMotion) -> NDArray[np.float64]:
    """The clip's landmarks (frames, 33, 3) in the internal frame (+Y up, rest facing +Z), the
    mean hips above the origin and the lowest foot point of the take on the floor."""
    landmarks = synthesize_landmarks(motion)
    internal = Retargeter(motion.rig).facing.apply(landmarks.reshape(-1, 3)).reshape(landmarks.shape)
    hips = internal[:, list(HIP_LANDMARKS)].mean(axis=1).mean(axis=0)
    feet = [LANDMARK_INDEX[f"{side}_{part}"] for side in ("left", "right") for part in ("heel", "foot_index")]
    return internal - np.array([hips[0], np.nanmin(internal[:, feet, 1]), hips[2]])


def observe(
    landmarks_m: NDArray[np.float64], cameras: list[CameraModel], noise: DetectorNoise, frame_time_s: float, seed: int = 0
) -> LandmarkRecording:
    """What each camera's detector reports for ``landmarks_m`` (frames, 33, 3), as a recording."""
    rng = np.random.default_rng(seed)
    frames = len(landmarks_m)
    shape = (frames, NUM_POSE_LANDMARKS)
    keypoints, world = [], []
    for camera in cameras:
        pixels = camera.project(landmarks_m.reshape(-1, 3)).reshape(*shape, 2)
        pixels += rng.normal(0.0, noise.pixel_sd_px, pixels.shape) if noise.pixel_sd_px > 0 else 0.0
        confidence = rng.uniform(0.9, 1.0, shape)
        outliers = rng.random(shape) < noise.outlier_rate
        pixels[outliers] += _random_offsets(rng, int(outliers.sum()), noise.outlier_px)
        confidence[outliers] = rng.uniform(*noise.outlier_confidence, int(outliers.sum()))
        dropped = rng.random(shape) < noise.dropout_rate
        lost = dropped & (rng.random(shape) < 0.5)
        guessed = dropped & ~lost
        pixels[guessed] += _random_offsets(rng, int(guessed.sum()), (10.0, 30.0))
        confidence[guessed] = rng.uniform(*noise.dropout_confidence, int(guessed.sum()))
        width, height = camera.image_size
        off_image = (pixels[..., 0] < 0) | (pixels[..., 0] >= width) | (pixels[..., 1] < 0) | (pixels[..., 1] >= height)
        confidence[lost | off_image] = 0.0
        pixels[lost] = np.nan
        keypoints.append(np.concatenate([pixels, confidence[..., None]], axis=2))
        body = landmarks_m - landmarks_m[:, list(HIP_LANDMARKS)].mean(axis=1, keepdims=True)
        body = body + _slow_noise(rng, body.shape, noise.world_shape_sd_m, int(round(1.0 / frame_time_s)))
        lean_axis = np.append(_random_offsets(rng, 1, (1.0, 1.0))[0], 0.0)       # in the image plane
        lean = Rotation.from_rotvec(np.radians(noise.world_lean_deg) * lean_axis)
        in_camera = (lean * camera.rotation).apply(body.reshape(-1, 3)).reshape(body.shape)
        world.append(in_camera + (rng.normal(0.0, noise.world_sd_m, in_camera.shape) if noise.world_sd_m > 0 else 0.0))
    return LandmarkRecording(
        np.stack(keypoints), np.stack(world), np.arange(frames) * frame_time_s,
        tuple(c.name for c in cameras), tuple(c.image_size for c in cameras),
    )


def _slow_noise(rng: np.random.Generator, shape: tuple[int, ...], sd: float, frames: int) -> NDArray[np.float64]:
    """Gaussian noise of standard deviation ``sd`` along the first axis, averaged over ``frames``."""
    if sd <= 0:
        return np.zeros(shape)
    white = rng.normal(0.0, 1.0, (shape[0] + frames, *shape[1:]))
    kernel = np.ones(frames) / np.sqrt(frames)
    return sd * np.apply_along_axis(lambda column: np.convolve(column, kernel, mode="valid")[:shape[0]], 0, white)


def _random_offsets(rng: np.random.Generator, count: int, span_px: tuple[float, float]) -> NDArray[np.float64]:
    angle = rng.uniform(0.0, 2.0 * np.pi, count)
    return rng.uniform(*span_px, count)[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)


@dataclass(frozen=True)
class ViewsAccuracy:
    """A clip solved from virtual cameras, judged on the BVH read back from disk."""

    mean_error_deg: float       # bone-direction error, mean over evaluated bones and frames
    p95_error_deg: float        # its 95th percentile over bones and frames
    jitter_ratio: float         # mean |acceleration| of the joints relative to the hips, against the clip's own
    lag_frames: int             # frame shift best matching the body's shape to the clip's
    foot_skate_mm: float        # horizontal movement per frame of the ankles the clip has planted
    ms_per_frame: float         # everything after estimation: lifting, filters, solving, retargeting, the BVH


def solve_views(
    clip_path: Path, motion: ClipMotion, setup: str, noise: DetectorNoise, *, offline: bool, seed: int = 0,
    config: CaptureConfig | None = None,
) -> ViewsAccuracy:
    """Observe ``motion`` (the clip at ``clip_path``, as :func:`load_motion` reads it) from the set-up's cameras, solve it as ``mocap solve`` does (live
    filters, or offline) onto the clip's own skeleton, and judge the BVH it writes."""
    cameras = camera_setup(setup)
    recording = observe(stage_landmarks(motion), cameras, noise, motion.frame_time_s, seed)
    with tempfile.TemporaryDirectory() as folder:
        calibration, bvh = Path(folder) / "calibration.toml", Path(folder) / "take.bvh"
        save_calibration(calibration, cameras)
        base = config if config is not None else CaptureConfig()
        settings = base.with_overrides({
            "optics": {"calib": str(calibration)},
            "rig": {"path": str(clip_path)}, "bvh": {"path": str(bvh), "units": "m"},
        })
        summary, _ = run_replay(settings, recording, progress=False, smooth_hz=OFFLINE_CUTOFF_HZ if offline else None)
        clip = read_bvh(bvh)
        positions, _ = clip.forward_kinematics()
    rig = motion.rig
    solved = positions[:, [clip.names.index(name) for name in rig.skeleton.names]]
    truth = motion.positions_m[:, [motion.names.index(name) for name in rig.skeleton.names]]
    count = min(len(solved), len(truth))
    solved, truth = solved[:count], truth[:count]
    errors = np.stack(list(bone_errors_deg(solved, truth, rig).values()))
    hips = rig.humanoid["Hips"]

    def shape(points: NDArray[np.float64]) -> NDArray[np.float64]:
        return points - points[:, hips:hips + 1]

    dt = motion.frame_time_s
    return ViewsAccuracy(
        float(np.mean(errors)), float(np.percentile(errors, 95)),
        jitter(shape(solved), dt) / jitter(shape(truth), dt), lag_frames(shape(solved), shape(truth)),
        foot_skate_mm(solved, truth, rig), sum(summary.stage_ms.values()),
    )
