"""`mocap render`: a take drawn frame by frame (:mod:`mocap.display.scene_view`) into a video
file or a folder of PNG frames, optionally beside its source video.

A take is a BVH file (ours or another tool's: its length unit is read from the skeleton's size
unless given), or the poses a landmarks file solves to (the command solves it as `mocap solve`
does), faces included.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.errors import MocapError
from mocap.core.frames import FaceExpression, SkeletonPose
from mocap.core.skeleton import BONE_NAMES, EYE_BONES, FINGER_BONES, humanoid_skeleton
from mocap.display.avatar_mesh import AvatarPoser
from mocap.display.scene_view import PATH_S, SceneView, ViewSettings, framing_camera
from mocap.formats.bvh import BvhClip, read_bvh
from mocap.retargeting.rigs import bvh_metres_per_unit

VIDEO_CODECS = {".mp4": "mp4v", ".mov": "mp4v", ".avi": "MJPG"}
UNIT_SCALES_M = {"m": 1.0, "cm": 0.01}


@dataclass(frozen=True)
class HumanoidMotion:
    """A take's motion on mocap's canonical humanoid (a landmarks file solved, or a BVH mocap
    wrote without ``--rig``): what an avatar is posed with."""

    local_quats: NDArray[np.float64]   # (frames, bones, 4) local rotations, humanoid_skeleton(fingers, eyes) order
    roots_m: NDArray[np.float64]       # (frames, 3) the hips
    hip_height_m: float                # the performer's, as the skeleton says
    fingers: bool
    eyes: bool
    faces: tuple[FaceExpression | None, ...] | None = None   # per frame, where the face was tracked


@dataclass(frozen=True)
class Take:
    """A take's joints: names, parents (-1 for a root) and positions (frames, joints, 3) in metres;
    its humanoid motion when it is on mocap's humanoid."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    positions_m: NDArray[np.float64]
    frame_time_s: float
    humanoid: HumanoidMotion | None = None


def planted_feet(take: Take, floor_y_m: float, *, height_m: float = 0.05, speed_m_s: float = 0.8) -> list[NDArray[np.float64]]:
    """Per frame, the positions (feet, 3) of the feet planted in it: each side's lowest foot or toe
    joint (by name) within ``height_m`` of the floor, moving slower than ``speed_m_s`` across it
    (the thresholds foot locking plants with, mocap.solving.foot_contact)."""
    names = [name.lower() for name in take.names]
    feet = [[j for j, name in enumerate(names) if side in name and ("foot" in name or "toe" in name)]
            for side in ("left", "right")]
    planted: list[list[NDArray[np.float64]]] = [[] for _ in range(len(take.positions_m))]
    for joints in (side for side in feet if side):
        heights = take.positions_m[:, joints, 1]
        lowest = take.positions_m[np.arange(len(heights)), np.array(joints)[np.nanargmin(np.nan_to_num(heights, nan=np.inf), axis=1)]]
        steps = np.linalg.norm(np.diff(lowest[:, [0, 2]], axis=0), axis=1) / take.frame_time_s
        speed = np.concatenate([steps[:1], steps]) if len(steps) else np.zeros(1)
        for frame in np.flatnonzero((lowest[:, 1] - floor_y_m <= height_m) & (speed <= speed_m_s)):
            planted[frame].append(lowest[frame])
    return [np.array(frame).reshape(-1, 3) for frame in planted]


def bvh_take(path: Path, units: str = "auto") -> Take:
    """The joints of every frame of a BVH file, in metres (``units``: cm, m, or auto: judged from
    the skeleton's height as a rig's are, :func:`mocap.retargeting.rigs.bvh_metres_per_unit`)."""
    clip = read_bvh(path)
    if not len(clip.motion):
        raise MocapError(f"{path} has no motion frames: nothing to render")
    rest = clip.rest_positions()
    scale = bvh_metres_per_unit(float(np.ptp(rest[:, 1]))) if units == "auto" else UNIT_SCALES_M[units]
    positions, _ = clip.forward_kinematics()
    return Take(tuple(clip.names), tuple(joint.parent for joint in clip.joints), positions * scale, clip.frame_time_s,
                _humanoid_motion(clip, rest, scale))


def posed_take(poses: list[SkeletonPose]) -> Take:
    """The take the solved ``poses`` make (the last pose's skeleton names the joints), with their
    humanoid motion and faces."""
    if not poses:
        raise MocapError("the take has no frames: nothing to draw")
    skeleton = poses[-1].skeleton
    positions = np.stack([pose.skeleton.forward_kinematics(pose.local_rotations, pose.root_position_m)[1] for pose in poses])
    times = np.array([pose.timestamp_s for pose in poses])
    frame_time_s = float(np.median(np.diff(times))) if len(poses) > 1 else 1.0 / 30.0
    motion = HumanoidMotion(np.stack([pose.local_rotations.as_quat() for pose in poses]),
                            np.stack([pose.root_position_m for pose in poses]), float(skeleton.rest_offsets_m[0, 1]),
                            fingers=FINGER_BONES[0][0] in skeleton.names, eyes=EYE_BONES[0][0] in skeleton.names,
                            faces=tuple(pose.face for pose in poses))
    return Take(skeleton.names, skeleton.parents, positions, frame_time_s, motion)


def _humanoid_motion(clip: BvhClip, rest: NDArray[np.float64], scale_m: float) -> HumanoidMotion | None:
    """The clip's motion on mocap's humanoid, when its joints are the humanoid's bones (None
    otherwise); ``rest``: its joints' rest positions, file units."""
    names = clip.names
    if not set(BONE_NAMES) <= set(names) or clip.joints[0].name != "Hips":
        return None
    fingers = all(bone in names for bone, _ in FINGER_BONES)
    eyes = all(bone in names for bone, _ in EYE_BONES)
    bones = humanoid_skeleton(fingers=fingers, eyes=eyes).names
    local, translations = clip.local_transforms()
    quats = local.as_quat().reshape(len(clip.motion), len(names), 4)[:, [names.index(bone) for bone in bones]]
    hip_height = float(rest[names.index("LeftUpperLeg"), 1] - rest[:, 1].min()) * scale_m
    return HumanoidMotion(quats, translations[:, 0] * scale_m, hip_height, fingers, eyes)


def _frame_writer(out: Path, size: tuple[int, int], fps: float) -> cv2.VideoWriter | None:
    """A video writer for a video file name (None for a folder of PNG frames)."""
    codec = VIDEO_CODECS.get(out.suffix.lower())
    if codec is None:
        if out.suffix:
            raise MocapError(f"--out {out}: write a video ({', '.join(VIDEO_CODECS)}) or a folder of PNG frames (no suffix)")
        out.mkdir(parents=True, exist_ok=True)
        return None
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*codec), fps, size)
    if not writer.isOpened():
        raise MocapError(f"cannot write the video {out}: OpenCV has no {codec} encoder here; write .avi or a PNG folder")
    return writer


class SourceFrames:
    """A video read forward frame by frame, for showing frame ``index`` beside the render."""

    def __init__(self, path: Path) -> None:
        self._capture = cv2.VideoCapture(str(path))
        if not self._capture.isOpened():
            raise MocapError(f"cannot read the video {path}: is it a video file OpenCV can decode?")
        self._index = -1
        self._image: np.ndarray | None = None
        self._width_per_height = 9 / 16   # of the last frame read: the black after the end keeps the size

    def frame(self, index: int, height: int) -> np.ndarray:
        """Frame ``index`` scaled to ``height`` pixels (black once the video has ended)."""
        while self._index < index:
            ok, image = self._capture.read()
            self._index += 1
            self._image = image if ok else None
            if ok:
                self._width_per_height = image.shape[1] / image.shape[0]
        width = max(int(round(height * self._width_per_height)), 1)
        if self._image is None:
            return np.zeros((height, width, 3), dtype=np.uint8)
        return cv2.resize(self._image, (width, height), interpolation=cv2.INTER_AREA)

    def close(self) -> None:
        self._capture.release()


@dataclass(frozen=True)
class StagedTake:
    """A take made ready to draw: its floor moved to y = 0, where its feet are planted, and the
    point and height a camera frames."""

    take: Take
    positions_m: NDArray[np.float64]       # (frames, joints, 3), the floor at y = 0
    planted_m: list[NDArray[np.float64]]   # per frame, (feet, 3) the planted feet
    target_m: NDArray[np.float64]          # what the camera looks at
    height_m: float                        # how much of the scene's height it frames
    floor_y_m: float                       # the take's floor, moved to y = 0
    avatar: AvatarPoser | None = None      # drawn instead of the skeleton
    frusta_m: tuple[NDArray[np.float64], ...] = ()   # the cameras: each its centre and four image corners (5, 3)

    def view(self, settings: ViewSettings, azimuth_deg: float | None = None) -> SceneView:
        """A view of the take from ``settings.view``'s side, or ``azimuth_deg`` round from its front."""
        camera = framing_camera(settings, self.target_m, self.height_m, azimuth_deg)
        return SceneView(self.take.names, self.take.parents, camera, settings, self.target_m, frusta_m=self.frusta_m)

    def picture(self, view: SceneView, frame: int) -> NDArray[np.uint8]:
        """Frame ``frame`` drawn by ``view`` (the avatar, or the skeleton), with the hips' last
        PATH_S seconds of path and the planted feet."""
        first = max(frame - int(round(PATH_S / self.take.frame_time_s)), 0)
        path, planted = self.positions_m[first:frame + 1, self.take.parents.index(-1)], self.planted_m[frame]
        motion = self.take.humanoid
        if self.avatar is None or motion is None:
            return view.skeleton(self.positions_m[frame], path_m=path, planted_m=planted)
        face = motion.faces[frame] if motion.faces is not None else None
        floor = np.array([0.0, self.floor_y_m, 0.0])
        return self.avatar.picture(view, Rotation.from_quat(motion.local_quats[frame]), motion.roots_m[frame] - floor,
                                   motion.hip_height_m, face, path_m=path, planted_m=planted)


def staged(take: Take, avatar: AvatarPoser | None = None, *,
           frusta_m: list[NDArray[np.float64]] | None = None) -> StagedTake:
    """The take with its floor (the 2nd percentile of each frame's lowest joint) at y = 0, framed
    on the hips' median place and the take's height (or the avatar's, if taller); ``avatar``:
    drawn instead of the skeleton (the take must be on mocap's humanoid); ``frusta_m``: cameras to
    draw (each (5, 3): centre and image corners, the take's frame), framed with the performer."""
    if avatar is not None and take.humanoid is None:
        raise MocapError("this BVH is not on mocap's humanoid (recorded with --rig, or by another tool): draw an avatar "
                         "from the landmarks file, or from a BVH recorded without --rig")
    floor_y = float(np.nanpercentile(np.nanmin(take.positions_m[..., 1], axis=1), 2))
    shift = np.array([0.0, floor_y, 0.0])
    positions = take.positions_m - shift
    top_m = max(float(np.nanpercentile(np.nanmax(positions[..., 1], axis=1), 98)),
                avatar.height_m if avatar is not None else 0.0)
    root = positions[:, take.parents.index(-1)]
    target = np.array([float(np.nanmedian(root[:, 0])), top_m / 2.0, float(np.nanmedian(root[:, 2]))])
    height_m = 1.1 * top_m
    planted = [feet - shift for feet in planted_feet(take, floor_y)]
    shifted = tuple(frustum - shift for frustum in frusta_m or [])
    if shifted:   # framed to show the cameras too: centred between them and the performer, wide enough for both
        ground = np.vstack([target[[0, 2]], *(frustum[0, [0, 2]] for frustum in shifted)])
        target[[0, 2]] = (ground.min(axis=0) + ground.max(axis=0)) / 2.0
        height_m = max(height_m, 0.8 * float(np.ptp(ground, axis=0).max()))
    return StagedTake(take, positions, planted, target, height_m, floor_y, avatar, shifted)


def render_take(
    stage: StagedTake, out: Path, settings: ViewSettings, *, fps: float | None = None, source_video: Path | None = None,
    progress: bool = True,
) -> int:
    """Writes the take as pictures at ``fps`` (default: the take's own rate) to ``out`` (a video
    file, or a folder of ``frame_00000.png``...); returns the frames written. ``source_video``:
    shown to the left of each picture, frame for frame."""
    from tqdm import tqdm

    take = stage.take
    view = stage.view(settings)
    frames = len(take.positions_m)
    rate_hz = fps or 1.0 / take.frame_time_s
    count = max(int(round(frames * take.frame_time_s * rate_hz)), 1)
    source = SourceFrames(source_video) if source_video is not None else None
    width = settings.width + (source.frame(0, settings.height).shape[1] if source is not None else 0)
    writer = _frame_writer(out, (width, settings.height), rate_hz)
    try:
        for index in tqdm(range(count), unit="frame", disable=not progress, desc="render", leave=False):
            frame = min(int(round(index / rate_hz / take.frame_time_s)), frames - 1)
            picture = stage.picture(view, frame)
            if source is not None:
                picture = np.hstack([source.frame(frame, settings.height), picture])
            if writer is not None:
                writer.write(picture)
            elif not cv2.imwrite(str(out / f"frame_{index:05d}.png"), picture):
                raise MocapError(f"cannot write {out / f'frame_{index:05d}.png'}: is the folder writable?")
    finally:
        if writer is not None:
            writer.release()
        if source is not None:
            source.close()
    return count
