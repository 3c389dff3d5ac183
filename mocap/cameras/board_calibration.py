"""Camera calibration from board views: intrinsics, extrinsics, bundle adjustment, floor.

The views of all cameras are synchronised: view ``k`` of every camera was taken at the same
moment (the k-th image of each folder, or the k-th sampled frame of each video).

1. Intrinsics per camera (``cv2.calibrateCamera``), unless given.
2. Flips: a checkerboard's corner order can come out turned by 180 degrees in one view; the
   relative camera pose each shared view implies shows it, and the view's ids are reversed.
3. Extrinsics: pairwise ``cv2.stereoCalibrate`` with fixed intrinsics, chained outward from
   camera 0 along the pairs that share most views.
4. Bundle adjustment (``scipy.optimize.least_squares``, Huber loss): every camera's pose
   and every shared view's board pose, minimising the reprojection error of all corners.
5. Floor and up: the world becomes Y-up with y = 0 on the floor, from a view of the board
   lying on the floor, or from a recording of the performer standing.

Extrinsics map world -> camera in metres (camera 0 at the origin until the floor is set).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares
from scipy.sparse import lil_matrix
from scipy.spatial.transform import Rotation

from mocap.cameras.boards import BoardDetector, BoardSpec, Detection
from mocap.cameras.camera_model import CameraModel
from mocap.core.conventions import LANDMARK_INDEX
from mocap.core.errors import MocapError
from mocap.formats.landmarks_file import LandmarkRecording, load_landmarks
from mocap.lifting.multiview import level_rotation
from mocap.lifting.triangulation import Triangulator
from mocap.sources.frame_sources import FrameSource
from mocap.sources.sync import SynchronizedSources

MIN_VIEWS = 3
FLIP_ANGLE_DEG = 45.0

Note = Callable[[str], None]


@dataclass(frozen=True)
class CameraViews:
    """One camera's board detections, one entry per synchronised view (None: board not found)."""

    name: str
    image_size: tuple[int, int]   # (width, height) pixels
    detections: list[Detection | None]


@dataclass(frozen=True)
class CalibrationReport:
    intrinsic_rms_px: dict[str, float]        # per camera, from its own views (nan when intrinsics were given)
    reprojection_rms_px: dict[str, float]     # per camera, after bundle adjustment
    neighbour_error_mm: tuple[float, float] | None   # mean and max |triangulated - nominal| square size
    shared_views: int


def _points(board: BoardSpec, detection: Detection) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    return board.object_points()[detection.ids].astype(np.float32), detection.image_points.astype(np.float32)


def calibrate_intrinsics(board: BoardSpec, views: CameraViews) -> tuple[CameraModel, float]:
    """The camera's matrix and distortion from its views, and the RMS reprojection error (pixels)."""
    found = [d for d in views.detections if d is not None]
    if len(found) < MIN_VIEWS:
        raise MocapError(
            f"camera {views.name}: the board was found in {len(found)} of {len(views.detections)} images; "
            f"at least {MIN_VIEWS} are needed: show the whole board at more positions and angles "
            "(and check --squares/--corners match the board)"
        )
    object_points, image_points = zip(*(_points(board, d) for d in found))
    rms, matrix, distortion, _, _ = cv2.calibrateCamera(  # type: ignore[call-overload]  # stubs omit None outputs
        list(object_points), list(image_points), views.image_size, None, None)
    return CameraModel(views.name, views.image_size, matrix, distortion.reshape(-1)), float(rms)


def _board_pose(board: BoardSpec, camera: CameraModel, detection: Detection) -> Rotation | None:
    object_points, image_points = _points(board, detection)
    ok, rvec, _ = cv2.solvePnP(object_points, image_points, camera.matrix, camera.distortion)
    return Rotation.from_rotvec(rvec.reshape(3)) if ok else None


def fix_flips(board: BoardSpec, cameras: list[CameraModel], views: list[CameraViews], note: Note) -> list[CameraViews]:
    """Reverse the corner ids of views whose checkerboard came out turned by 180 degrees.

    For each camera against camera 0, each shared view implies a relative rotation; a view
    more than 45 degrees from the others' mean is flipped in one of the two cameras."""
    if board.kind != "checkerboard" or len(cameras) < 2:
        return views
    fixed = [list(v.detections) for v in views]
    for other in range(1, len(cameras)):
        shared = [k for k in range(len(fixed[0])) if fixed[0][k] is not None and fixed[other][k] is not None]
        relative: dict[int, Rotation] = {}
        for k in shared:
            first_seen, other_seen = fixed[0][k], fixed[other][k]
            assert first_seen is not None and other_seen is not None   # shared: both views found the board
            first = _board_pose(board, cameras[0], first_seen)
            second = _board_pose(board, cameras[other], other_seen)
            if first is not None and second is not None:
                relative[k] = second * first.inv()
        if len(relative) < 2:
            continue
        for k, rotation in relative.items():
            rest = [r for j, r in relative.items() if j != k]
            typical = Rotation.concatenate(rest).mean()
            if np.degrees((typical.inv() * rotation).magnitude()) < FLIP_ANGLE_DEG:
                continue
            detection, first_detection = fixed[other][k], fixed[0][k]
            assert detection is not None and first_detection is not None   # k is one of the shared views
            turned = Detection(board.reversed_ids(detection.ids), detection.image_points)
            second = _board_pose(board, cameras[other], turned)
            first = _board_pose(board, cameras[0], first_detection)
            if second is None or first is None or np.degrees((typical.inv() * second * first.inv()).magnitude()) >= FLIP_ANGLE_DEG:
                advice = ("this checkerboard looks the same turned round: use one with an odd and an even number "
                          "of inner corners (e.g. 9x6), or a ChArUco board" if board.symmetric
                          else "take that image again with the whole board in both views, or leave it out")
                raise MocapError(
                    f"view {k} of cameras {cameras[0].name} and {cameras[other].name} disagrees with the other views "
                    f"about where the cameras are (the board's corners flipped or were mismatched): {advice}"
                )
            fixed[other][k] = turned
            note(f"view {k}, camera {cameras[other].name}: board corners came in turned by 180 degrees; reordered")
    return [replace(v, detections=d) for v, d in zip(views, fixed)]


def _shared(board: BoardSpec, a: CameraViews, b: CameraViews) -> list[tuple[NDArray, NDArray, NDArray]]:
    """(object points, points in a, points in b) for every view both saw, on their common corners."""
    pairs = []
    for first, second in zip(a.detections, b.detections):
        if first is None or second is None:
            continue
        common, in_first, in_second = np.intersect1d(first.ids, second.ids, return_indices=True)
        if len(common) >= 6:
            pairs.append((
                board.object_points()[common].astype(np.float32),
                first.image_points[in_first].astype(np.float32),
                second.image_points[in_second].astype(np.float32),
            ))
    return pairs


def chain_extrinsics(board: BoardSpec, cameras: list[CameraModel], views: list[CameraViews]) -> list[CameraModel]:
    """Each camera's pose relative to camera 0 from pairwise stereo calibration (intrinsics fixed)."""
    poses: dict[int, tuple[Rotation, NDArray[np.float64]]] = {0: (Rotation.identity(), np.zeros(3))}
    while len(poses) < len(cameras):
        best: tuple[int, int, list] | None = None
        for known in poses:
            for new in range(len(cameras)):
                if new in poses:
                    continue
                shared = _shared(board, views[known], views[new])
                if len(shared) >= 2 and (best is None or len(shared) > len(best[2])):
                    best = (known, new, shared)
        if best is None:
            lost = ", ".join(cameras[i].name for i in range(len(cameras)) if i not in poses)
            raise MocapError(
                f"camera(s) {lost} never saw the whole board at the same time as a calibrated camera in at least 2 "
                "views: take views where the board is visible to two cameras at once"
            )
        known, new, shared = best
        object_points, first_points, second_points = (list(column) for column in zip(*shared))
        a, b = cameras[known], cameras[new]
        _, _, _, _, _, rotation, translation, _, _ = cv2.stereoCalibrate(
            object_points, first_points, second_points, a.matrix, a.distortion, b.matrix, b.distortion,
            a.image_size, flags=cv2.CALIB_FIX_INTRINSIC,
        )
        pair_rotation = Rotation.from_matrix(rotation)
        known_rotation, known_translation = poses[known]
        poses[new] = (pair_rotation * known_rotation, pair_rotation.apply(known_translation) + translation.reshape(3))
    return [
        replace(camera, rotation=poses[i][0], translation_m=poses[i][1])
        for i, camera in enumerate(cameras)
    ]


def _observations(views: list[CameraViews]) -> list[tuple[int, int, Detection]]:
    """(camera, view, detection) for every view that two or more cameras saw."""
    counts = np.sum([[d is not None for d in v.detections] for v in views], axis=0)
    return [
        (c, k, d) for c, v in enumerate(views) for k, d in enumerate(v.detections)
        if d is not None and counts[k] >= 2
    ]


def bundle_adjust(
    board: BoardSpec, cameras: list[CameraModel], views: list[CameraViews]
) -> tuple[list[CameraModel], dict[int, tuple[Rotation, NDArray[np.float64]]], dict[str, float]]:
    """Refine camera poses (camera 0 fixed) and board poses together.

    Returns the cameras, each shared view's board pose (board -> world) and the per-camera RMS
    reprojection error in pixels."""
    observations = _observations(views)
    shared_views = sorted({k for _, k, _ in observations})
    view_slot = {k: i for i, k in enumerate(shared_views)}
    board_points = board.object_points()
    initial_boards = []
    for k in shared_views:
        c, _, detection = next(o for o in observations if o[1] == k)
        object_points, image_points = _points(board, detection)
        _, rvec, tvec = cv2.solvePnP(object_points, image_points, cameras[c].matrix, cameras[c].distortion)
        camera_rotation = cameras[c].rotation
        board_rotation = camera_rotation.inv() * Rotation.from_rotvec(rvec.reshape(3))
        board_origin = camera_rotation.inv().apply(tvec.reshape(3) - cameras[c].translation_m)
        initial_boards.append(np.concatenate([board_rotation.as_rotvec(), board_origin]))
    camera_params = [np.concatenate([c.rotation.as_rotvec(), c.translation_m]) for c in cameras[1:]]
    start = np.concatenate(camera_params + initial_boards)
    n_cameras = 6 * (len(cameras) - 1)

    def camera_pose(params: NDArray[np.float64], c: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if c == 0:
            return cameras[0].rotation.as_rotvec(), cameras[0].translation_m
        block = params[6 * (c - 1): 6 * c]
        return block[:3], block[3:]

    def residuals(params: NDArray[np.float64]) -> NDArray[np.float64]:
        out = []
        for c, k, detection in observations:
            slot = n_cameras + 6 * view_slot[k]
            world = Rotation.from_rotvec(params[slot:slot + 3]).apply(board_points[detection.ids]) + params[slot + 3:slot + 6]
            rvec, tvec = camera_pose(params, c)
            projected, _ = cv2.projectPoints(world, rvec, tvec, cameras[c].matrix, cameras[c].distortion)
            out.append((projected.reshape(-1, 2) - detection.image_points).ravel())
        return np.concatenate(out)

    sparsity = lil_matrix((sum(2 * len(d.ids) for _, _, d in observations), len(start)), dtype=int)
    row = 0
    for c, k, detection in observations:
        rows = slice(row, row + 2 * len(detection.ids))
        if c > 0:
            sparsity[rows, 6 * (c - 1): 6 * c] = 1
        slot = n_cameras + 6 * view_slot[k]
        sparsity[rows, slot:slot + 6] = 1
        row += 2 * len(detection.ids)
    result = least_squares(residuals, start, jac_sparsity=sparsity, loss="huber", f_scale=1.0, x_scale="jac", method="trf")
    refined = [cameras[0]] + [
        replace(camera, rotation=Rotation.from_rotvec(result.x[6 * (c - 1): 6 * c - 3]), translation_m=result.x[6 * c - 3: 6 * c].copy())
        for c, camera in enumerate(cameras) if c > 0
    ]
    errors = residuals(result.x).reshape(-1, 2)
    per_camera: dict[str, list[float]] = {camera.name: [] for camera in cameras}
    row = 0
    for c, _, detection in observations:
        per_camera[cameras[c].name] += list(np.sum(errors[row:row + len(detection.ids)] ** 2, axis=1))
        row += len(detection.ids)
    rms = {name: float(np.sqrt(np.mean(values))) if values else float("nan") for name, values in per_camera.items()}
    boards = {
        k: (Rotation.from_rotvec(result.x[n_cameras + 6 * i: n_cameras + 6 * i + 3]), result.x[n_cameras + 6 * i + 3: n_cameras + 6 * i + 6])
        for k, i in view_slot.items()
    }
    return refined, boards, rms


def neighbour_distance_error_mm(board: BoardSpec, cameras: list[CameraModel], views: list[CameraViews]) -> tuple[float, float] | None:
    """Mean and max |distance - square size| of neighbouring corners triangulated from all cameras, mm."""
    triangulator = Triangulator(cameras, min_confidence=0.5, max_reprojection_error=1.0, swap_check=False)
    corners = len(board.object_points())
    errors = []
    for k in range(len(views[0].detections)):
        keypoints = np.full((len(cameras), corners, 3), np.nan)
        for c, v in enumerate(views):
            detection = v.detections[k]
            if detection is not None:
                keypoints[c, detection.ids, :2] = detection.image_points
                keypoints[c, detection.ids, 2] = 1.0
        points = triangulator.triangulate(keypoints).points_m
        pairs = board.neighbours()
        distances = np.linalg.norm(points[pairs[:, 0]] - points[pairs[:, 1]], axis=1)
        errors += list(np.abs(distances[np.isfinite(distances)] - board.square_m))
    if not errors:
        return None
    return 1000 * float(np.mean(errors)), 1000 * float(np.max(errors))


def move_world(cameras: list[CameraModel], rotation: Rotation, origin_m: NDArray[np.float64]) -> list[CameraModel]:
    """Re-express extrinsics in a new world: ``x_new = rotation (x_old - origin_m)``."""
    moved = []
    for camera in cameras:
        new_translation = camera.rotation.apply(origin_m) + camera.translation_m
        moved.append(replace(camera, rotation=camera.rotation * rotation.inv(), translation_m=new_translation))
    return moved


def board_floor_world(board_pose: tuple[Rotation, NDArray[np.float64]]) -> tuple[Rotation, NDArray[np.float64]]:
    """The world of a board lying face up on the floor: origin at its first corner, Y up
    (the board's -Z), X along its rows, Z along its columns."""
    board_rotation, board_origin = board_pose
    board_axes = board_rotation.as_matrix()             # columns: board x, y, z in the old world
    new_axes = np.stack([board_axes[:, 0], -board_axes[:, 2], board_axes[:, 1]])   # rows: new X, Y, Z
    return Rotation.from_matrix(new_axes), board_origin


def standing_person_world(cameras: list[CameraModel], recording: LandmarkRecording) -> tuple[Rotation, NDArray[np.float64]]:
    """The world from a recording of the performer standing upright: up along their body
    (mid-ankles -> mid-shoulders, median over frames), floor under their feet, origin below
    their hips, +Z horizontally toward camera 0."""
    if len(recording.cameras) != len(cameras):
        raise MocapError(
            f"the standing recording has {len(recording.cameras)} camera(s) but the calibration {len(cameras)}: "
            "record it with every calibrated camera"
        )
    triangulator = Triangulator(cameras)
    index = LANDMARK_INDEX
    bodies = [triangulator.triangulate(recording.keypoints[:, f]).points_m for f in range(recording.frame_count)]
    bodies = [b for b in bodies if np.isfinite(b[[index[n] for n in ("left_ankle", "right_ankle", "left_shoulder", "right_shoulder")]]).all()]
    if len(bodies) < 5:
        raise MocapError("the standing recording shows the whole body in fewer than 5 frames: stand fully in view of every camera")
    joints = np.stack(bodies)

    def mid(a: str, b: str) -> NDArray[np.float64]:
        return (joints[:, index[a]] + joints[:, index[b]]) / 2.0

    up = np.median(mid("left_shoulder", "right_shoulder") - mid("left_ankle", "right_ankle"), axis=0)
    rotation = level_rotation(cameras, up / np.linalg.norm(up))
    feet = [index[n] for n in ("left_heel", "right_heel", "left_foot_index", "right_foot_index")]
    foot_heights = joints[:, feet] @ rotation.as_matrix()[1]          # height of each foot point along up
    floor_height = float(np.nanmedian(np.nanmin(foot_heights, axis=1)))  # the lowest foot point, median over frames
    hips = rotation.apply(np.nanmedian(mid("left_hip", "right_hip"), axis=0))
    origin = rotation.inv().apply(np.array([hips[0], floor_height, hips[2]]))
    return rotation, origin


def collect_views(
    board: BoardSpec,
    sources: list[FrameSource],
    names: list[str],
    *,
    every: int = 1,
    views: int = 30,
    interval_s: float = 1.0,
    progress: bool = True,
) -> list[CameraViews]:
    """Board detections per camera over synchronised views: every ``every``-th frame set of
    files, or for live cameras one set each ``interval_s`` seconds until ``views`` sets."""
    from tqdm import tqdm

    detector = BoardDetector(board)
    detections: list[list[Detection | None]] = [[] for _ in sources]
    sizes: list[tuple[int, int]] = []
    with SynchronizedSources(sources) as synced:
        live = synced.frame_count is None
        last_s = -np.inf
        for frame_set in tqdm(synced, total=synced.frame_count, unit="view", disable=not progress, leave=False):
            if (live and frame_set.timestamp_s - last_s < interval_s) or (not live and frame_set.index % every):
                continue
            last_s = frame_set.timestamp_s
            sizes = [frame.size for frame in frame_set.frames]
            for found, frame in zip(detections, frame_set.frames):
                found.append(detector.detect(cv2.cvtColor(frame.image_rgb, cv2.COLOR_RGB2GRAY)))
            if live and len(detections[0]) >= views:
                break
    if not sizes:
        raise MocapError("no images were read from the calibration sources")
    return [CameraViews(name, size, found) for name, size, found in zip(names, sizes, detections)]


def calibrate_cameras(
    board: BoardSpec, views: list[CameraViews], *, intrinsics: list[CameraModel] | None, note: Note
) -> tuple[list[CameraModel], CalibrationReport, dict[int, tuple[Rotation, NDArray[np.float64]]]]:
    """Intrinsics (unless given), then for two or more cameras flips, extrinsics and bundle
    adjustment. Returns the cameras, the report and each shared view's board pose in the world."""
    if intrinsics is not None:
        cameras = [replace(given.scaled_to(v.image_size), name=v.name, image_size=v.image_size) for given, v in zip(intrinsics, views)]
        intrinsic_rms = {v.name: float("nan") for v in views}
    else:
        fitted = [calibrate_intrinsics(board, v) for v in views]
        cameras = [camera for camera, _ in fitted]
        intrinsic_rms = {camera.name: rms for camera, rms in fitted}
    if len(cameras) == 1:
        return cameras, CalibrationReport(intrinsic_rms, intrinsic_rms, None, 0), {}
    views = fix_flips(board, cameras, views, note)
    cameras = chain_extrinsics(board, cameras, views)
    cameras, boards, rms = bundle_adjust(board, cameras, views)
    report = CalibrationReport(intrinsic_rms, rms, neighbour_distance_error_mm(board, cameras, views), len(boards))
    return cameras, report, boards


def finish_world(
    cameras: list[CameraModel],
    floor: str,
    boards: dict[int, tuple[Rotation, NDArray[np.float64]]],
    *,
    floor_view: int | None = None,
    standing: Path | None = None,
) -> list[CameraModel]:
    """Apply the chosen floor alignment: "none" (camera 0's frame), "board" or "person"."""
    if floor == "board":
        if not boards:
            raise MocapError("--floor board needs two or more cameras that saw the board together")
        view = min(boards) if floor_view is None else floor_view
        if view not in boards:
            raise MocapError(f"--floor-view {view}: that view was not seen by two cameras (usable: {', '.join(map(str, sorted(boards)))})")
        return move_world(cameras, *board_floor_world(boards[view]))
    if floor == "person":
        if standing is None:
            raise MocapError("--floor person needs --standing FILE.npz: record the performer standing with "
                             "`mocap capture --video ... --calib THIS.toml --record-landmarks FILE.npz`")
        return move_world(cameras, *standing_person_world(cameras, load_landmarks(standing)))
    return cameras
