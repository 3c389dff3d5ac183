"""Several cameras: triangulation against Pose2Sim's reference, record and replay, bad landmark files."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    DEMO_CALIBRATION,
    DEMO_VIDEO,
    REPO,
    assert_one_line_error,
    run_mocap,
    shared,
)

from mocap.cameras.board_calibration import move_world, standing_person_world
from mocap.core.conventions import HIP_LANDMARKS, LANDMARK_INDEX, mirrored_landmark_order
from mocap.core.errors import MocapError
from mocap.core.frames import PoseObservation
from mocap.filtering.smoothing import smooth_trajectories
from mocap.formats.bvh import read_bvh
from mocap.formats.calibration_file import load_calibration
from mocap.formats.landmarks_file import (
    LandmarkRecorder,
    LandmarkRecording,
    journal_path,
    load_landmarks,
    save_landmarks,
)
from mocap.formats.trc import TRC_TO_CALIBRATION_AXES, landmark_errors_mm, read_trc
from mocap.lifting.multiview import world_alignment
from mocap.lifting.triangulation import Triangulator

POSE2SIM = "multiview_pose2sim"
CALIB = f"{POSE2SIM}/calibration/Calib_qualisys_converted.toml"
REFERENCE = f"{POSE2SIM}/reference_output_pose2sim/S00_P00_T01_BalancingTrial_0-100.trc"
FILTERED_REFERENCE = f"{POSE2SIM}/reference_output_pose2sim/S00_P00_T01_BalancingTrial_0-100_filt_butterworth.trc"
LIMB_JOINTS = ("knee", "ankle", "elbow", "wrist")
LIMB_INDICES = [LANDMARK_INDEX[f"{side}_{joint}"] for joint in LIMB_JOINTS for side in ("left", "right")]
# Pose2Sim's OpenPose keypoints, and so its reference, of frame k show the videos' frame k + 1.
VIDEO_FRAME_OFFSET = 1


def video_frames_paired(points: np.ndarray) -> np.ndarray:
    """Per-video-frame ``points`` re-indexed so that entry k is the frame the reference's
    frame k shows (NaN past the end)."""
    paired = np.full_like(points, np.nan)
    paired[:len(points) - VIDEO_FRAME_OFFSET] = points[VIDEO_FRAME_OFFSET:]
    return paired


def mean_error_mm(points: np.ndarray, frames: slice = slice(None), reference: str = REFERENCE) -> float:
    """Mean distance to Pose2Sim's TRC over left and right knees, ankles, elbows and wrists
    in ``frames`` (TRC X, Y, Z = calibration world Y, Z, X)."""
    errors = landmark_errors_mm(points, read_trc(shared(reference)), axes=TRC_TO_CALIBRATION_AXES)
    return float(np.mean([np.nanmean(errors[f"{side}_{joint}"][frames]) for joint in LIMB_JOINTS for side in ("left", "right")]))


def triangulate_all(recording: LandmarkRecording, cameras: list, **settings: object) -> np.ndarray:
    triangulator = Triangulator(cameras, **settings)
    return np.stack([
        triangulator.triangulate(recording.keypoints[:, f]).points_m for f in range(recording.frame_count)
    ])


@pytest.fixture(scope="module")
def openpose_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pose2Sim's own OpenPose 2D keypoints, converted by the example script into a landmarks file."""
    folders = [str(shared(f"{POSE2SIM}/pose2d_openpose_body25b/cam0{i}_json")) for i in range(1, 5)]
    output = tmp_path_factory.mktemp("openpose") / "openpose.npz"
    subprocess.run(
        [sys.executable, str(REPO / "examples" / "openpose_to_landmarks.py"), *folders, "--calib", str(shared(CALIB)),
         "--fps", "60", "--skeleton", "body25b", "--output", str(output)],
        check=True, capture_output=True,
    )
    return output


def test_another_detectors_keypoints_triangulate_like_pose2sim(openpose_recording: Path) -> None:
    recording = load_landmarks(openpose_recording)
    assert recording.keypoints.shape == (4, 100, 33, 3) and recording.world_m is None
    points = triangulate_all(recording, load_calibration(shared(CALIB)))
    # The same 2D keypoints as Pose2Sim's reference: only the triangulation rules differ.
    assert mean_error_mm(points) < 20.0


def test_swap_check_undoes_a_mirrored_view(openpose_recording: Path) -> None:
    recording = load_landmarks(openpose_recording)
    cameras = load_calibration(shared(CALIB))
    mirrored = recording.keypoints.copy()
    mirrored[2, 30:60] = mirrored[2, 30:60][:, mirrored_landmark_order()]
    damaged = LandmarkRecording(mirrored, None, recording.timestamps_s, recording.cameras, recording.image_sizes)
    clean_mm = mean_error_mm(triangulate_all(recording, cameras))
    assert mean_error_mm(triangulate_all(damaged, cameras)) < clean_mm + 2.0
    # Without the check, only reprojection gating stands between the wrong labels and the result.
    unchecked = triangulate_all(damaged, cameras, swap_check=False, max_reprojection_error=1.0)
    assert mean_error_mm(unchecked, slice(30, 60)) > mean_error_mm(triangulate_all(recording, cameras), slice(30, 60)) + 20.0


def test_world_alignment_stands_the_pose2sim_lab_upright(openpose_recording: Path) -> None:
    recording = load_landmarks(openpose_recording)
    cameras = load_calibration(shared(CALIB))
    points = triangulate_all(recording, cameras)
    world = world_alignment(cameras).apply(points.reshape(-1, 3)).reshape(points.shape)
    lower_ankle = np.minimum(world[:, LANDMARK_INDEX["left_ankle"], 1], world[:, LANDMARK_INDEX["right_ankle"], 1])
    assert np.nanmin(world[:, LANDMARK_INDEX["nose"], 1] - lower_ankle) > 1.0   # the calibration's Z-up became +Y up
    # Right-handed: facing = (left - right) x up, and the nose is in front of the ears that way.
    left_minus_right = world[:, LANDMARK_INDEX["left_shoulder"]] - world[:, LANDMARK_INDEX["right_shoulder"]]
    facing = np.cross(left_minus_right, [0.0, 1.0, 0.0])
    ears = (world[:, LANDMARK_INDEX["left_ear"]] + world[:, LANDMARK_INDEX["right_ear"]]) / 2
    assert np.nanmedian(np.sum((world[:, LANDMARK_INDEX["nose"]] - ears) * facing, axis=1)) > 0


@pytest.fixture(scope="module")
def two_view_capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`mocap capture` on two of Pose2Sim's videos, recording landmarks and a BVH."""
    folder = tmp_path_factory.mktemp("two_views")
    result = run_mocap(
        "capture", "--video", str(shared(f"{POSE2SIM}/videos/cam01.mp4")), "--video", str(shared(f"{POSE2SIM}/videos/cam04.mp4")),
        "--calib", str(shared(CALIB)), "--calib-camera", "cam_01", "--calib-camera", "cam_04",
        "--record-landmarks", str(folder / "take.npz"), "--bvh", str(folder / "take.bvh"), "--no-progress",
    )
    return result, folder


def test_two_videos_are_triangulated_and_recorded(two_view_capture: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, folder = two_view_capture
    assert result.returncode == 0, result.stderr
    assert "100 frames, person detected in 100%" in result.stdout
    recording = load_landmarks(folder / "take.npz")
    assert recording.cameras == ("cam_01", "cam_04")
    assert recording.keypoints.shape == (2, 100, 33, 3) and recording.world_m is not None
    assert np.allclose(np.diff(recording.timestamps_s), 1 / 60.0)
    by_name = {c.name: c for c in load_calibration(shared(CALIB))}
    points = video_frames_paired(triangulate_all(recording, [by_name["cam_01"], by_name["cam_04"]]))
    # MediaPipe's joints against the OpenPose-based reference (docs/accuracy-and-performance.md: 42.4 mm).
    assert mean_error_mm(points) < 45.0
    # Smoothed as `mocap solve --smooth 6` smooths, against Pose2Sim's output filtered at 6 Hz:
    # the two-view target (measured 39.1 mm).
    smoothed = smooth_trajectories(points, recording.timestamps_s, 6.0)
    assert mean_error_mm(smoothed, reference=FILTERED_REFERENCE) <= 40.0


def test_recorded_frames_are_the_videos_frames(two_view_capture: tuple[subprocess.CompletedProcess[str], Path],
                                               openpose_recording: Path) -> None:
    """MediaPipe's keypoints of each recorded frame lie where OpenPose found the same joints in
    that frame of the video (OpenPose's files numbered one frame earlier): a recording that
    dropped or repeated a frame would agree better at another offset."""
    recording = load_landmarks(two_view_capture[1] / "take.npz")
    openpose = load_landmarks(openpose_recording).keypoints[[0, 3]][:, :, LIMB_INDICES, :2]
    ours = recording.keypoints[:, :, LIMB_INDICES, :2]

    def median_px(offset: int) -> float:
        return float(np.nanmedian(np.linalg.norm(ours[:, offset:] - openpose[:, :100 - offset], axis=3)))

    assert median_px(VIDEO_FRAME_OFFSET) < min(median_px(VIDEO_FRAME_OFFSET - 1), median_px(VIDEO_FRAME_OFFSET + 1)) - 1.0


def _with_camera_4_blanked(folder: Path, blanked: slice) -> tuple[np.ndarray, np.ndarray]:
    """The two-view take's joints triangulated as recorded, and again with camera 4 seeing
    nobody in the ``blanked`` frames (world landmarks passed for the monocular fallback)."""
    recording = load_landmarks(folder / "take.npz")
    assert recording.world_m is not None
    by_name = {c.name: c for c in load_calibration(shared(CALIB))}
    cameras = [by_name["cam_01"], by_name["cam_04"]]

    def triangulate(keypoints: np.ndarray, world_m: np.ndarray) -> np.ndarray:
        triangulator = Triangulator(cameras)
        return np.stack([triangulator.triangulate(keypoints[:, f], world_m[:, f]).points_m for f in range(recording.frame_count)])

    keypoints, world_m = recording.keypoints.copy(), recording.world_m.copy()
    keypoints[1, blanked] = np.nan
    keypoints[1, blanked, :, 2] = 0.0
    world_m[1, blanked] = np.nan
    return triangulate(recording.keypoints, recording.world_m), triangulate(keypoints, world_m)


def _hips_apart_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    hips = list(HIP_LANDMARKS)
    return np.linalg.norm(a[:, hips].mean(axis=1) - b[:, hips].mean(axis=1), axis=1)


def test_a_camera_losing_the_performer_hands_the_body_to_the_other(
    two_view_capture: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """Camera 4 loses the performer for half a second (frames 40-69 blanked): camera 1's
    monocular body carries on, its hips on camera 1's ray at the last triangulated distance,
    near where both cameras put it, instead of the frames being lost."""
    gap = slice(40, 70)
    both, one_camera = _with_camera_4_blanked(two_view_capture[1], gap)
    assert np.isfinite(one_camera[gap]).all()
    assert _hips_apart_m(one_camera[gap], both[gap]).mean() < 0.1
    limbs = [LANDMARK_INDEX[f"{side}_{joint}"] for side in ("left", "right") for joint in LIMB_JOINTS]
    assert np.linalg.norm(one_camera[gap][:, limbs] - both[gap][:, limbs], axis=2).mean() < 0.2
    assert np.allclose(one_camera[:40], both[:40], equal_nan=True)


def test_a_take_seen_first_by_one_camera_starts_at_once(
    two_view_capture: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """Camera 4 sees nobody for the first 20 frames: camera 1's monocular body, placed by the
    monocular path's projection fit, starts the take; triangulation takes over at frame 20."""
    start = slice(0, 20)
    both, one_camera = _with_camera_4_blanked(two_view_capture[1], start)
    assert np.isfinite(one_camera[start]).all()
    assert _hips_apart_m(one_camera[start], both[start]).mean() < 0.25
    assert np.allclose(one_camera[20:], both[20:], equal_nan=True)


def test_recording_replays_to_the_same_bvh(two_view_capture: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, folder = two_view_capture
    replay = run_mocap("solve", str(folder / "take.npz"), "--calib", str(shared(CALIB)),
                       "--bvh", str(folder / "replay.bvh"), "--no-progress")
    assert replay.returncode == 0, replay.stderr
    captured = (folder / "take.bvh").read_text().split("MOTION")[1]
    replayed = (folder / "replay.bvh").read_text().split("MOTION")[1]
    assert replayed == captured


def test_live_hips_follow_triangulated_hips_closely(two_view_capture: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """Triangulated hips shake far less than one camera's depth, so with several cameras the
    hips' path filter follows closely: the live take's hips stay near the same take smoothed
    offline (no lag). With the one-camera setting (1 Hz) they trail it further."""
    _, folder = two_view_capture
    (folder / "one_camera_root.toml").write_text("[multiview]\nroot_min_cutoff_hz = 1.0\n")
    runs = {"smoothed": ("--smooth", "6"), "live": ("--live",),
            "one_camera_root": ("--live", "--config", str(folder / "one_camera_root.toml"))}
    hips = {}
    for name, options in runs.items():
        result = run_mocap("solve", str(folder / "take.npz"), "--calib", str(shared(CALIB)), *options,
                           "--bvh", str(folder / f"{name}.bvh"), "--no-progress")
        assert result.returncode == 0, result.stderr
        positions, _ = read_bvh(folder / f"{name}.bvh").forward_kinematics()
        hips[name] = positions[:, 0] / 100.0
    apart_mm = {name: 1000.0 * float(np.mean(np.linalg.norm(hips[name] - hips["smoothed"], axis=1)))
                for name in ("live", "one_camera_root")}
    assert apart_mm["live"] < 25.0                                  # measured 21.5
    assert apart_mm["one_camera_root"] > apart_mm["live"] + 3.0      # measured 27.2


def test_solve_needs_a_calibration_for_several_cameras(openpose_recording: Path, tmp_path: Path) -> None:
    assert_one_line_error(
        run_mocap("solve", str(openpose_recording), "--bvh", str(tmp_path / "x.bvh")), "need a calibration", "--calib"
    )


def test_bad_landmark_files(tmp_path: Path) -> None:
    not_npz = tmp_path / "notes.npz"
    not_npz.write_text("hello")
    assert_one_line_error(run_mocap("solve", str(not_npz), "--bvh", str(tmp_path / "x.bvh")), "cannot read landmarks file")

    good = LandmarkRecording(
        np.zeros((1, 3, 33, 3)), np.zeros((1, 3, 33, 3)), np.arange(3) / 30.0, ("cam_0",), ((640, 480),)
    )
    missing_key = tmp_path / "no_times.npz"
    save_landmarks(missing_key, good)
    with np.load(missing_key) as data:
        np.savez(missing_key, **{k: data[k] for k in data.files if k != "timestamps"})
    assert_one_line_error(run_mocap("solve", str(missing_key), "--bvh", str(tmp_path / "x.bvh")), "missing key(s) timestamps")

    wrong_shape = tmp_path / "flat.npz"
    np.savez(wrong_shape, keypoints=np.zeros((3, 33, 3)), timestamps=np.arange(3.0), joints=np.array(["nose"]),
             cameras=np.array(["cam_0"]), image_size=np.array([[640, 480]]))
    assert_one_line_error(run_mocap("solve", str(wrong_shape), "--bvh", str(tmp_path / "x.bvh")), "'keypoints' has shape")

    no_world = tmp_path / "no_world.npz"
    save_landmarks(no_world, LandmarkRecording(good.keypoints, None, good.timestamps_s, good.cameras, good.image_sizes))
    assert_one_line_error(run_mocap("solve", str(no_world), "--bvh", str(tmp_path / "x.bvh")), "no 'world' landmarks")


def test_floor_from_a_standing_performer(openpose_recording: Path) -> None:
    recording = load_landmarks(openpose_recording)
    cameras = move_world(load_calibration(shared(CALIB)), *standing_person_world(load_calibration(shared(CALIB)), recording))
    points = triangulate_all(recording, cameras)
    feet = points[:, [LANDMARK_INDEX[f"{side}_{part}"] for side in ("left", "right") for part in ("heel", "foot_index")], 1]
    assert abs(np.nanmedian(np.nanmin(feet, axis=1))) < 0.01       # the lowest foot point on the floor, y = 0
    assert np.nanmedian(points[:, LANDMARK_INDEX["nose"], 1]) > 1.3  # up is +Y
    hips = (points[:, LANDMARK_INDEX["left_hip"]] + points[:, LANDMARK_INDEX["right_hip"]]) / 2
    # Origin under the hips (median over the frames with the whole body; the performer moves about 0.7 m)
    assert np.linalg.norm(np.nanmedian(hips[:, [0, 2]], axis=0)) < 0.1


def test_a_capture_killed_outright_keeps_its_landmarks(tmp_path: Path) -> None:
    """SIGKILL in the middle of a recording: no .npz is written, but `mocap solve` reads the
    frames the journal kept and writes a BVH of them."""
    landmarks = tmp_path / "take.npz"
    journal = tmp_path / "take.npz.journal"
    capture = subprocess.Popen(
        [sys.executable, "-m", "mocap", "capture", "--video", str(DEMO_VIDEO), "--calib", str(DEMO_CALIBRATION),
         "--record-landmarks", str(landmarks), "--no-progress"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120.0
    while (not journal.exists() or journal.stat().st_size < 150_000) and time.monotonic() < deadline and capture.poll() is None:
        time.sleep(0.05)
    capture.kill()
    capture.wait()
    assert capture.returncode == -signal.SIGKILL, "the capture finished before it could be killed"
    assert not landmarks.exists()
    output = tmp_path / "take.bvh"
    result = run_mocap("solve", str(landmarks), "--calib", str(DEMO_CALIBRATION), "--bvh", str(output), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "was never finished" in result.stderr
    frames = len(read_bvh(output).motion)
    assert frames >= 30 and frames % 30 == 0   # whole journal chunks of 30 frames


def test_a_journal_cut_short_by_a_crash_keeps_its_whole_chunks(tmp_path: Path) -> None:
    path = tmp_path / "take.npz"
    recorder = LandmarkRecorder(path, ("cam",), journal_frames=2)
    for frame in range(5):
        keypoints = np.full((33, 3), float(frame))
        recorder.add((PoseObservation(frame / 30.0, (640, 480), keypoints, None),))
    journal = journal_path(path)
    journal.write_bytes(journal.read_bytes()[:-10])   # the second chunk's last array cut short
    recording = load_landmarks(path)
    assert recording.frame_count == 2 and recording.cameras == ("cam",) and recording.image_sizes == ((640, 480),)
    assert np.array_equal(recording.keypoints[0, :, 0, 0], [0.0, 1.0])
    journal.write_bytes(journal.read_bytes()[:100])
    with pytest.raises(MocapError, match="never finished"):
        load_landmarks(path)


def test_a_finished_recording_replaces_its_journal(tmp_path: Path) -> None:
    path = tmp_path / "take.npz"
    recorder = LandmarkRecorder(path, ("cam",), journal_frames=2)
    for frame in range(5):
        recorder.add((PoseObservation(frame / 30.0, (640, 480), np.full((33, 3), float(frame)), None),))
    assert journal_path(path).exists()
    recorder.close()
    assert not journal_path(path).exists()
    assert load_landmarks(path).frame_count == 5
