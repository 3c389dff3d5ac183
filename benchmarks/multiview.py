"""Multi-camera figures on Pose2Sim's 4-camera demo (../shared/data/multiview_pose2sim).

1. Throughput: bare MediaPipe on one camera, the full single-camera pipeline, and the full
   two-camera pipeline (concurrent estimation + triangulation), on the same decoded frames.
2. Accuracy: MediaPipe (its full and heavy models) on every view, triangulated from all 4
   views and from every pair, against Pose2Sim's reference TRC (triangulated from OpenPose)
   and against Pose2Sim's Butterworth-filtered output of it: mean distance over knees, ankles,
   elbows and wrists, with hips and shoulders beside them (and their steady offset). The
   reference's frame k shows the videos' frame k + 1 (MediaPipe's keypoints, frame by frame,
   agree best with Pose2Sim's OpenPose keypoints one frame on), so frames are paired that way.
   Also smoothed offline as `mocap solve --smooth 6` smooths them, which compares like with
   like against the filtered output, and through the live body filter. The same for Pose2Sim's
   own OpenPose keypoints through mocap's triangulation, and with the views chosen per joint by
   Pose2Sim's own rule (which reproduces the reference from its OpenPose keypoints); the
   monocular path after rigid alignment to the reference, to show what stereo buys; and each
   detector's 2D limb landmarks against the reference projected into each camera.
3. One camera alone: cameras 1 + 4 with camera 4 blanked for half a second mid-take and for
   the first 20 frames, against the same frames triangulated from both.

    .venv/bin/mocap models    # once: the heavy model
    .venv/bin/python benchmarks/multiview.py
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mocap.app.config import CaptureConfig
from mocap.app.session import (
    build_pipeline,
    hips_filter_settings,
    live_body_filter,
    make_lifter,
)
from mocap.core.conventions import HIP_LANDMARKS, LANDMARK_INDEX, NUM_POSE_LANDMARKS
from mocap.core.frames import BodyPose, PoseObservation
from mocap.core.skeleton import BONE_NAMES
from mocap.estimation.mediapipe_pose import MediaPipePoseEstimator, PerCameraEstimator
from mocap.filtering.smoothing import smooth_trajectories
from mocap.formats.calibration_file import load_calibration
from mocap.formats.openpose import SKELETONS, read_camera
from mocap.formats.trc import (
    POSE2SIM_MARKERS,
    TRC_TO_CALIBRATION_AXES,
    landmark_errors_mm,
    read_trc,
)
from mocap.lifting.monocular import MonocularLifter
from mocap.lifting.triangulation import Triangulator
from mocap.sources.frame_sources import VideoFileSource, decode_all
from mocap.sources.sync import FrameSet

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "multiview_pose2sim"
CALIB = DATA / "calibration" / "Calib_qualisys_converted.toml"
REFERENCE = DATA / "reference_output_pose2sim" / "S00_P00_T01_BalancingTrial_0-100.trc"
FILTERED_REFERENCE = DATA / "reference_output_pose2sim" / "S00_P00_T01_BalancingTrial_0-100_filt_butterworth.trc"
LIMBS = ("knee", "ankle", "elbow", "wrist")
LIMB_LANDMARKS = tuple(f"{side}_{joint}" for side in ("left", "right") for joint in LIMBS)
OFFLINE_SMOOTHING_HZ = 6.0
MODEL_NAMES = {1: "full", 2: "heavy"}   # model_complexity -> MediaPipe's name (heavy: installed by `mocap models`)


def throughput(frames: list[list], cameras: list) -> None:
    config = CaptureConfig()
    one = frames[0]
    with MediaPipePoseEstimator() as estimator:
        start = time.perf_counter()
        for frame in one:
            estimator.estimate(frame)
        bare_fps = len(one) / (time.perf_counter() - start)
    single = build_pipeline(config, estimator=PerCameraEstimator([MediaPipePoseEstimator()]), lifter=make_lifter(config, cameras[:1]), sinks=[])
    start = time.perf_counter()
    single.run(one)
    single_fps = len(one) / (time.perf_counter() - start)
    estimator_pair = PerCameraEstimator([MediaPipePoseEstimator(), MediaPipePoseEstimator()])
    double = build_pipeline(config, estimator=estimator_pair, lifter=make_lifter(config, cameras[:2]), sinks=[])
    sets = [FrameSet((a, b), a.timestamp_s, i) for i, (a, b) in enumerate(zip(frames[0], frames[1]))]
    start = time.perf_counter()
    double.run(sets)
    double_fps = len(sets) / (time.perf_counter() - start)
    estimator_pair.close()
    stages = ", ".join(f"{k} {v:.2f}" for k, v in double.timer.mean_ms().items())
    print(f"throughput on {len(one)} frames of {one[0].size[0]}x{one[0].size[1]}:")
    print(f"  bare MediaPipe, 1 camera     {bare_fps:6.1f} frames/s")
    print(f"  pipeline, 1 camera           {single_fps:6.1f} frames/s")
    print(f"  pipeline, 2 cameras          {double_fps:6.1f} frame sets/s  "
          f"(ratio to 1 camera: {double_fps / single_fps:.2f}; target at least 0.6)")
    print(f"  2-camera per-stage ms: {stages}")


def estimate(frames: list[list], model_complexity: int) -> tuple[NDArray[np.float64], NDArray[np.float64], list[list[PoseObservation]]]:
    """MediaPipe on every view: keypoints and world landmarks (cameras, frames, 33, 3), the observations.
    Prints the model's milliseconds per frame."""
    keypoints, world, observations = [], [], []
    start = time.perf_counter()
    for views in frames:
        with MediaPipePoseEstimator(model_complexity=model_complexity) as estimator:
            seen = [estimator.estimate(frame) for frame in views]
        observations.append(seen)
        keypoints.append([o.keypoints for o in seen])
        world.append([o.world_m if o.world_m is not None else np.full((NUM_POSE_LANDMARKS, 3), np.nan) for o in seen])
    ms = 1000.0 * (time.perf_counter() - start) / sum(len(views) for views in frames)
    print(f"  MediaPipe {MODEL_NAMES[model_complexity]} model: {ms:.0f} ms per frame")
    return np.array(keypoints), np.array(world), observations


def paired(values: NDArray[np.float64], offset: int, axis: int = 0) -> NDArray[np.float64]:
    """``values`` indexed by video frame along ``axis``, re-indexed so that entry k is video
    frame k + ``offset`` (the one the reference's frame k shows); entries past the end are NaN."""
    values = np.moveaxis(values, axis, 0)
    result = np.full_like(values, np.nan)
    result[:len(values) - offset] = values[offset:]
    return np.moveaxis(result, 0, axis)


def frame_offset(keypoints: NDArray[np.float64], openpose: NDArray[np.float64]) -> tuple[int, dict[int, float]]:
    """The video frame (k + offset) whose MediaPipe keypoints agree best with Pose2Sim's OpenPose
    keypoints of frame k, and for each offset tried the median limb distance (pixels, all cameras).
    Both detectors look at single images, so a steady best offset is how the reference's frames
    are numbered against the videos."""
    limbs = [LANDMARK_INDEX[name] for name in LIMB_LANDMARKS]
    medians = {}
    for offset in range(-1, 3):
        ours = paired(keypoints, offset, axis=1) if offset >= 0 else paired(openpose, -offset, axis=1)
        theirs = openpose if offset >= 0 else keypoints
        medians[offset] = float(np.nanmedian(np.linalg.norm(ours[:, :, limbs, :2] - theirs[:, :, limbs, :2], axis=3)))
    return min(medians, key=medians.get), medians


def summary(points: NDArray[np.float64], reference) -> dict[str, float]:
    errors = landmark_errors_mm(points, reference, axes=TRC_TO_CALIBRATION_AXES)

    def mean(joints: tuple[str, ...]) -> float:
        return float(np.mean([np.nanmean(errors[f"{s}_{j}"]) for j in joints for s in ("left", "right")]))

    return {"limbs": mean(LIMBS), "hips": mean(("hip",)), "shoulders": mean(("shoulder",))}


def triangulated(keypoints: NDArray[np.float64], world: NDArray[np.float64] | None, cameras: list, views: tuple[int, ...]) -> NDArray[np.float64]:
    triangulator = Triangulator([cameras[v] for v in views])
    return np.stack([
        triangulator.triangulate(keypoints[list(views), f], None if world is None else world[list(views), f]).points_m
        for f in range(keypoints.shape[1])
    ])


def with_pose2sim_view_choice(keypoints: NDArray[np.float64], cameras: list, threshold_px: float = 15.0) -> NDArray[np.float64]:
    """Triangulated joints (frames, 33, 3) with the views chosen as Pose2Sim chooses them: all
    views if their mean reprojection error is under ``threshold_px``, else the subset of one view
    fewer with the lowest error if that is under it, and so on down to two views (Pose2Sim's
    ``reproj_error_threshold_triangulation``, 15 px in the reference's config)."""
    count = len(cameras)
    best = np.full(keypoints.shape[1:3] + (3,), np.nan)
    settled = np.zeros(keypoints.shape[1:3], dtype=bool)
    for size in range(count, 1, -1):
        error = np.full(keypoints.shape[1:3], np.inf)
        points = np.full_like(best, np.nan)
        for views in itertools.combinations(range(count), size):
            triangulator = Triangulator([cameras[v] for v in views], max_reprojection_error=1.0, swap_check=False)
            results = [triangulator.triangulate(keypoints[list(views), f]) for f in range(keypoints.shape[1])]
            subset_error = np.stack([np.where(r.views == size, r.reprojection_px, np.inf) for r in results])
            better = subset_error < error
            error[better] = subset_error[better]
            points[better] = np.stack([r.points_m for r in results])[better]
        chosen = ~settled & (error < threshold_px)
        best[chosen] = points[chosen]
        settled |= chosen
    return best


def through_live_filter(points: NDArray[np.float64], timestamps_s: NDArray[np.float64], multi_camera: bool) -> NDArray[np.float64]:
    """Triangulated joints (frames, 33, 3) through the live body filter of the default config,
    the hips' path filtered as behind several cameras or behind one."""
    body_filter = live_body_filter(CaptureConfig(), multi_camera=multi_camera)
    confidence = np.ones(points.shape[1])
    return np.stack([
        body_filter(BodyPose(t, joints, confidence, detected=True)).joints_m if np.isfinite(joints).any() else joints
        for t, joints in zip(timestamps_s, points)
    ])


def reference_points(reference, landmark: str) -> NDArray[np.float64]:
    """The reference marker matching ``landmark``, (frames, 3) metres in the calibration's axes."""
    return reference.marker(POSE2SIM_MARKERS[landmark])[:, list(TRC_TO_CALIBRATION_AXES)]


def steady_offset_mm(points: NDArray[np.float64], reference, landmark: str) -> NDArray[np.float64]:
    """Median of (mocap - reference) for one joint, in the reference's Y-up axes (mm)."""
    difference = np.nanmedian(points[:, LANDMARK_INDEX[landmark]] - reference_points(reference, landmark), axis=0)
    return 1000.0 * difference[[1, 2, 0]]     # calibration (X, Y, Z) -> TRC (X, Y, Z)


def limbs_without_steady_offsets_mm(points: NDArray[np.float64], reference) -> float:
    """Mean limb distance (mm) to the reference after taking away each joint's median offset:
    what is left is frame-to-frame disagreement."""
    distances = []
    for landmark in LIMB_LANDMARKS:
        difference = points[:, LANDMARK_INDEX[landmark]] - reference_points(reference, landmark)
        distances.append(np.nanmean(np.linalg.norm(difference - np.nanmedian(difference, axis=0), axis=1)))
    return 1000.0 * float(np.mean(distances))


def rigid_align(source: NDArray[np.float64], target: NDArray[np.float64]) -> NDArray[np.float64]:
    """``source`` points (N, 3) moved by the rotation and translation that best fit ``target``."""
    ok = np.isfinite(source).all(axis=1) & np.isfinite(target).all(axis=1)
    if not ok.any():
        return np.full_like(source, np.nan)
    source_mean, target_mean = source[ok].mean(axis=0), target[ok].mean(axis=0)
    u, _, vt = np.linalg.svd((source[ok] - source_mean).T @ (target[ok] - target_mean))
    d = np.sign(np.linalg.det(u @ vt))
    rotation = u @ np.diag([1.0, 1.0, d]) @ vt
    return (source - source_mean) @ rotation + target_mean


def monocular(observations: list[PoseObservation], camera, reference, offset: int) -> tuple[float, float]:
    """Limb error (mm) of the monocular path after one rigid alignment of the whole take, and per
    frame; video frame k + ``offset`` against the reference's frame k."""
    lifter = MonocularLifter(camera)
    points = paired(np.stack([lifter.lift((o,)).joints_m for o in observations]), offset)
    expected = expected_points(points, reference)
    per_frame = np.stack([rigid_align(p, e) for p, e in zip(points, expected)])
    return aligned_limbs_mm(points, reference), summary(per_frame, reference)["limbs"]


def expected_points(points: NDArray[np.float64], reference) -> NDArray[np.float64]:
    """The reference's limbs, hips and shoulders in calibration axes, shaped as ``points``
    (frames, 33, 3); NaN elsewhere."""
    expected = np.full_like(points, np.nan)
    for landmark in (f"{side}_{joint}" for side in ("left", "right") for joint in LIMBS + ("hip", "shoulder")):
        expected[:, LANDMARK_INDEX[landmark]] = reference_points(reference, landmark)
    return expected


def aligned_limbs_mm(points: NDArray[np.float64], reference) -> float:
    """Limb error (mm) of ``points`` (frames, 33, 3; any frame of axes) after the one rigid
    alignment of the whole take that best fits them to the reference."""
    whole = rigid_align(points.reshape(-1, 3), expected_points(points, reference).reshape(-1, 3)).reshape(points.shape)
    return summary(whole, reference)["limbs"]


# The solved skeleton's joint at each landmark: a bone's joint is where it starts.
LANDMARK_BONES = {"hip": "UpperLeg", "knee": "LowerLeg", "ankle": "Foot", "shoulder": "UpperArm",
                  "elbow": "LowerArm", "wrist": "Hand"}


def body_fit_and_solve(observations: list[list[PoseObservation]], cameras: list, reference, offset: int) -> None:
    """Limb error (mm, one rigid alignment for the take) of the lifted joints and of the solved
    skeleton's joints (what the BVH holds), live, with the body fit and with each joint
    triangulated alone; all 4 views and views 2+3."""
    print("\nlifted and solved (the BVH's joints), live, one rigid alignment for the take (limbs, mm):")
    for views in ((0, 1, 2, 3), (1, 2)):
        for fit in (True, False):
            config = CaptureConfig().with_overrides({"multiview": {"body_fit": fit}})
            chosen = [cameras[v] for v in views]
            lifted = make_lifter(config, chosen)
            pipeline = build_pipeline(config, estimator=None, lifter=make_lifter(config, chosen), sinks=[])
            frames = list(zip(*(observations[v] for v in views)))
            lifted_points, solved_points = [], []
            for frame in frames:
                lifted_points.append(lifted.lift(frame).joints_m)
                pose = pipeline.process_observations(frame, frame[0].timestamp_s)
                joints = pose.skeleton.forward_kinematics(pose.local_rotations, pose.root_position_m)[1]
                solved = np.full((NUM_POSE_LANDMARKS, 3), np.nan)
                for landmark, bone in LANDMARK_BONES.items():
                    for side in ("left", "right"):
                        solved[LANDMARK_INDEX[f"{side}_{landmark}"]] = joints[BONE_NAMES.index(side.capitalize() + bone)]
                solved_points.append(solved)
            label = "+".join(str(v + 1) for v in views)
            print(f"  views {label:<8} {'body fit' if fit else 'triangulated alone':<20}"
                  f" lifted {aligned_limbs_mm(paired(np.stack(lifted_points), offset), reference):6.1f}"
                  f"   solved {aligned_limbs_mm(paired(np.stack(solved_points), offset), reference):6.1f}")


def openpose_keypoints(count: int) -> NDArray[np.float64]:
    """Pose2Sim's OpenPose keypoints, BlazePose order, (cameras, frames, 33, 3)."""
    folders = [DATA / "pose2d_openpose_body25b" / f"cam0{c + 1}_json" for c in range(count)]
    return np.stack([read_camera(folder, SKELETONS["body25b"]) for folder in folders])


def pixels_from_reference(keypoints: NDArray[np.float64], cameras: list, reference) -> list[float]:
    """Per camera, the median distance (pixels) of the limb landmarks (``keypoints``: cameras,
    frames, 33, 3) from the reference markers projected into that camera."""
    medians = []
    for camera, views in zip(cameras, keypoints):
        distances = []
        for landmark in LIMB_LANDMARKS:
            projected = camera.project(reference_points(reference, landmark))
            distances.append(np.linalg.norm(views[:, LANDMARK_INDEX[landmark], :2] - projected, axis=1))
        medians.append(float(np.nanmedian(np.concatenate(distances))))
    return medians


def one_camera_alone(keypoints: NDArray[np.float64], world: NDArray[np.float64], cameras: list) -> None:
    """Cameras 1 + 4, camera 4 blanked in some frames: how far camera 1 alone puts the hips and
    limbs from where both cameras put them."""
    views = (0, 3)
    both = triangulated(keypoints, world, cameras, views)
    hips = list(HIP_LANDMARKS)
    limbs = [LANDMARK_INDEX[name] for name in LIMB_LANDMARKS]
    print("\none camera alone (cameras 1 + 4, camera 4 blanked), against both cameras (mm):")
    for label, blanked in (("half a second mid-take", slice(40, 70)), ("the first 20 frames", slice(0, 20))):
        lost_keypoints, lost_world = keypoints.copy(), world.copy()
        lost_keypoints[3, blanked] = np.nan
        lost_keypoints[3, blanked, :, 2] = 0.0
        lost_world[3, blanked] = np.nan
        alone = triangulated(lost_keypoints, lost_world, cameras, views)[blanked]
        hips_apart = 1000.0 * np.linalg.norm(alone[:, hips].mean(axis=1) - both[blanked][:, hips].mean(axis=1), axis=1)
        limbs_apart = 1000.0 * np.linalg.norm(alone[:, limbs] - both[blanked][:, limbs], axis=2)
        print(f"  {label:<24} frames with a body {np.isfinite(alone[:, hips]).all(axis=(1, 2)).sum()}/{len(alone)}, "
              f"hips {hips_apart.mean():.0f} (most {hips_apart.max():.0f}), limbs {limbs_apart.mean():.0f}")


def main() -> None:
    cameras = load_calibration(CALIB)
    reference = read_trc(REFERENCE)
    frames = [decode_all(VideoFileSource(DATA / "videos" / f"cam0{i}.mp4")) for i in range(1, 5)]
    throughput([frames[0], frames[3]], [cameras[0], cameras[3]])

    print("\nestimating every view with each MediaPipe model (one thread):")
    estimated = {name: estimate(frames, complexity) for complexity, name in MODEL_NAMES.items()}
    keypoints, world, _ = estimated["full"]
    openpose = openpose_keypoints(len(cameras))

    print("\nframe pairing: MediaPipe's video frame k + offset against the reference's OpenPose keypoints of frame k"
          " (median limb distance, px, all cameras):")
    offsets = {}
    for name, (model_keypoints, _, _) in estimated.items():
        offsets[name], medians = frame_offset(model_keypoints, openpose)
        print(f"  MediaPipe {name:<6}" + "".join(f"  offset {k:+d}: {v:5.1f}" for k, v in medians.items())
              + f"  -> paired at offset {offsets[name]:+d}")
    rows = [(f"MediaPipe {name} (mocap)", paired(model_keypoints, offsets[name], axis=1), paired(model_world, offsets[name], axis=1))
            for name, (model_keypoints, model_world, _) in estimated.items()]
    rows.append(("OpenPose (Pose2Sim's 2D)", openpose, None))

    filtered_reference = read_trc(FILTERED_REFERENCE)
    print("\naccuracy against Pose2Sim's reference TRC (mean distance, mm; frames paired as above):")
    print(f"  {'input':<34}{'views':<10}{'limbs':>8}{'limbs vs filtered':>19}{'hips':>8}{'shoulders':>11}")

    def print_row(label: str, views: str, points: NDArray[np.float64]) -> None:
        result, filtered = summary(points, reference), summary(points, filtered_reference)
        print(f"  {label:<34}{views:<10}{result['limbs']:>8.1f}{filtered['limbs']:>19.1f}{result['hips']:>8.1f}{result['shoulders']:>11.1f}")

    for label, points_2d, world_3d in rows:
        for views in [(0, 1, 2, 3), *itertools.combinations(range(4), 2)]:
            print_row(label, "+".join(str(v + 1) for v in views), triangulated(points_2d, world_3d, cameras, views))
    timestamps_s = np.array([frame.timestamp_s for frame in frames[0]])
    print(f"  smoothed offline as `mocap solve --smooth {OFFLINE_SMOOTHING_HZ:g}` smooths (Pose2Sim filtered its output at 6 Hz too):")
    for label, points_2d, world_3d in rows[:-1]:
        for views in ((0, 1, 2, 3), (0, 3)):
            points = smooth_trajectories(triangulated(points_2d, world_3d, cameras, views), timestamps_s, OFFLINE_SMOOTHING_HZ)
            print_row(label, "+".join(str(v + 1) for v in views), points)
    print("  through the live body filter, the hips' path filtered as with several cameras and as with one:")
    for label, points_2d, world_3d in rows[:-1]:
        for views in ((0, 1, 2, 3), (0, 3)):
            points = triangulated(points_2d, world_3d, cameras, views)
            for multi_camera in (True, False):
                root_hz = hips_filter_settings(CaptureConfig(), multi_camera=multi_camera).min_cutoff_hz
                print_row(f"{label}, {root_hz:g} Hz", "+".join(str(v + 1) for v in views),
                          through_live_filter(points, timestamps_s, multi_camera))
    print("  with Pose2Sim's own choice of views per joint (mean reprojection error under 15 px):")
    for label, points_2d, _ in rows:
        print_row(label, "1+2+3+4", with_pose2sim_view_choice(points_2d, cameras))
    all_views = {label: triangulated(points_2d, world_3d, cameras, (0, 1, 2, 3)) for label, points_2d, world_3d in rows[:-1]}
    for label, points in all_views.items():
        print(f"  {label}, all 4 views, each limb joint's steady offset taken away: "
              f"{limbs_without_steady_offsets_mm(points, reference):.1f}")
    for landmark in ("left_hip", "right_hip", "left_shoulder", "right_shoulder"):
        offset = steady_offset_mm(all_views[rows[0][0]], reference, landmark)
        print(f"  steady offset of MediaPipe full's {landmark} from Pose2Sim's (TRC X, Y up, Z; mm): {np.round(offset).astype(int)}")
    print("\n2D limb landmarks against the reference projected into each camera (median pixels):")
    for label, points_2d, _ in rows:
        print(f"  {label:<28}" + "".join(f"  camera {c + 1}: {px:5.1f}" for c, px in enumerate(pixels_from_reference(points_2d, cameras, reference))))
    print("\nmonocular path (one camera, MediaPipe world landmarks + intrinsics), rigidly aligned to the reference:")
    for name, (_, _, model_observations) in estimated.items():
        for c in range(4):
            whole, per_frame = monocular(model_observations[c], cameras[c], reference, offsets[name])
            print(f"  {name:<6}camera {c + 1}: limbs {whole:.1f} mm with one alignment for the take, "
                  f"{per_frame:.1f} mm aligned per frame")
    one_camera_alone(keypoints, world, cameras)
    body_fit_and_solve(estimated["full"][2], cameras, reference, offsets["full"])


if __name__ == "__main__":
    main()
