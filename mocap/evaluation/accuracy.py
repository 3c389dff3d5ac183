"""Accuracy of filtering, solving and retargeting, measured on real motion-capture clips.

A BVH clip is played, BlazePose-33 landmarks are synthesised from its joints (optionally with
Gaussian noise), the landmarks go through mocap's filter and solver and are retargeted onto
the clip's own skeleton, and forward kinematics of the result is compared with the clip.

Landmark synthesis (metres; "rest" axes are the clip's rest facing, turned with the joint):
- shoulders, elbows, wrists, hips, knees, ankles: the clip's upper-arm, forearm, hand,
  thigh, shin and foot joints; foot index: the toe's end (or the toe joint);
- heel: where a flat foot's heel is in the rest pose (level with the toe tip, a quarter of the
  foot's length behind the ankle), kept in the plane of the shin and the foot (ankle -> toe
  joint) as they turn. The plane, not the foot joint's own roll, because the dance clip's foot
  joints are rolled 160-180 degrees about the shin (median), which no ankle can do and which
  would put the heel on top of the foot;
- hand: along wrist -> the hand's end (8 cm along the forearm if the hand has no length);
  index knuckle at its end and 25% of its length to the thumb side, pinky at 90% and 30% to
  the other side, thumb at 50% and 50% to the thumb side; the thumb side is the rest
  forward direction turned with the hand (palms down in a T-pose);
- face, from the head's centre (midway from the head joint to its end) turned with the head:
  nose 10 cm forward, eyes 7 cm forward, 3.5 cm up and 3.2 cm to each side (inner and outer
  1.5 cm either way), ears 7.5 cm to each side, mouth corners 8.5 cm forward, 4.5 cm down,
  2.5 cm to each side.

Figures: per-bone direction error (degrees), jitter (mean absolute frame-to-frame
acceleration of the solved joints, m/s^2, also around the hips), lag (the frame shift that best
matches the body's shape to the noise-free solve without filters), the hips' path (its mean
distance from the noise-free solve's less their steady height difference, which is the floor's
placement, mm; and its lag the same way), foot skate (horizontal movement per frame of an ankle
the clip has planted, mm) and time per frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.app.config import CaptureConfig, FilterSettings
from mocap.app.session import build_pipeline
from mocap.core.conventions import HIP_LANDMARKS, LANDMARK_INDEX, NUM_POSE_LANDMARKS
from mocap.core.frames import BodyPose, SkeletonPose
from mocap.core.pipeline import MotionPipeline
from mocap.core.skeleton import humanoid_skeleton
from mocap.core.vectors import unit
from mocap.filtering.smoothing import smooth_trajectories
from mocap.filtering.temporal import BodyFilter, OneEuroSettings, RotationFilter
from mocap.formats.bvh import BvhClip, read_bvh
from mocap.retargeting.retarget import DIRECTION_CHILD, Retargeter, rig_facing
from mocap.retargeting.rigs import Rig, bvh_metres_per_unit, bvh_rig

EVALUATED_BONES = (
    "Spine", "Chest", "Neck",
    "LeftUpperArm", "LeftLowerArm", "RightUpperArm", "RightLowerArm",
    "LeftUpperLeg", "LeftLowerLeg", "LeftFoot", "RightUpperLeg", "RightLowerLeg", "RightFoot",
)
CONTACT_HEIGHT_M = 0.05      # a foot (ankle) this close to its lowest height counts as planted ...
CONTACT_SPEED_M_S = 0.25     # ... while it moves slower than this, metres per second
CONTACT_FRAME_S = 1.0 / 30.0  # the evaluation rate the speed threshold is applied at
LEAD_IN_JUMP = 5.0           # a leading frame whose joints jump this many times the clip's usual largest step is no motion


@dataclass(frozen=True)
class ClipMotion:
    """A clip's joints in metres at the evaluation rate."""

    rig: Rig                              # the clip's own skeleton as a rig
    names: list[str]                      # clip joints, End Sites included
    parents: list[int]
    rest_positions_m: NDArray[np.float64]  # (clip joints, 3) the OFFSET pose
    positions_m: NDArray[np.float64]      # (frames, clip joints, 3)
    rotations: NDArray[np.float64]        # (frames, clip joints, 4) world quaternions
    frame_time_s: float

    def joint(self, bone: str) -> int:
        """The clip joint a HumanBodyBones bone maps to."""
        return self.names.index(self.rig.skeleton.names[self.rig.humanoid[bone]])

    def children(self, joint: int) -> list[int]:
        return [i for i, parent in enumerate(self.parents) if parent == joint]

    def end_of(self, joint: int) -> int:
        """The end of the chain below ``joint``: its End Site, else its first child's end."""
        children = self.children(joint)
        return self.end_of(children[0]) if children else joint


def _first_motion_frame(positions: NDArray[np.float64]) -> int:
    """The first frame after any leading frames that jump further than ``LEAD_IN_JUMP`` times
    the clip's 99th-percentile step (its largest joint move per frame): a T-pose or a blend into
    the take, no human motion (CMU's 01_01 starts with one T-pose frame, 02_05 with four frames
    blending in at up to 45 m/s)."""
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=-1).max(axis=1)
    limit = LEAD_IN_JUMP * np.percentile(steps, 99)
    start = 0
    while start < len(steps) and steps[start] > limit:
        start += 1
    return start


def load_motion(path: Path, fps: float) -> ClipMotion:
    """A BVH clip resampled to about ``fps`` frames per second, in metres, from its first frame
    of motion (see :func:`_first_motion_frame`)."""
    clip: BvhClip = read_bvh(path)
    positions, rotations = clip.forward_kinematics()
    rest = clip.rest_positions()
    metres_per_unit = bvh_metres_per_unit(float(np.ptp(rest[:, 1])))
    step = max(int(round(1.0 / (clip.frame_time_s * fps))), 1)
    quats = rotations.as_quat().reshape(len(clip.motion), len(clip.joints), 4)
    start = _first_motion_frame(positions)
    return ClipMotion(bvh_rig(clip, path), clip.names, [joint.parent for joint in clip.joints], rest * metres_per_unit,
                      positions[start::step] * metres_per_unit, quats[start::step], clip.frame_time_s * step)


def _rest_heel_offset(motion: ClipMotion, ankle: int, rest_up: NDArray[np.float64]) -> NDArray[np.float64]:
    """Heel relative to the ankle in the rest pose: level with the toe tip (a flat foot), a
    quarter of the foot's length behind the ankle."""
    rest = motion.rest_positions_m
    foot = rest[motion.end_of(ankle)] - rest[ankle]
    drop = float(np.dot(foot, rest_up))
    forward = foot - drop * rest_up
    return drop * rest_up - 0.25 * forward


def _foot_frames(knee: NDArray[np.float64], ankle: NDArray[np.float64], toe: NDArray[np.float64]) -> NDArray[np.float64]:
    """(frames, 3, 3) frames of the shin-foot plane: columns along the foot (ankle -> toe joint),
    toward the knee within the plane, and the plane's normal."""
    along = unit(toe - ankle)
    shin_up = knee - ankle
    toward_knee = unit(shin_up - np.sum(shin_up * along, axis=-1, keepdims=True) * along)
    return np.stack([along, toward_knee, np.cross(along, toward_knee)], axis=-1)


def synthesize_landmarks(motion: ClipMotion) -> NDArray[np.float64]:
    """(frames, 33, 3) BlazePose landmarks in the clip's frame, metres (see the module docstring)."""
    position = motion.positions_m
    facing_inverse = rig_facing(motion.rig).inv()
    rest_left, rest_up, rest_forward = facing_inverse.apply(np.eye(3))
    landmarks = np.full((len(position), NUM_POSE_LANDMARKS, 3), np.nan)
    L = LANDMARK_INDEX
    for side in ("left", "right"):
        s = side.capitalize()
        for landmark, bone in (("shoulder", "UpperArm"), ("elbow", "LowerArm"), ("wrist", "Hand"),
                               ("hip", "UpperLeg"), ("knee", "LowerLeg"), ("ankle", "Foot")):
            landmarks[:, L[f"{side}_{landmark}"]] = position[:, motion.joint(s + bone)]
        ankle_joint = motion.joint(s + "Foot")
        ankle = position[:, ankle_joint]
        landmarks[:, L[f"{side}_foot_index"]] = position[:, motion.end_of(ankle_joint)]
        knee_joint, toe_joint = motion.joint(s + "LowerLeg"), motion.children(ankle_joint)[0]
        rest = motion.rest_positions_m
        rest_frame = _foot_frames(rest[knee_joint], rest[ankle_joint], rest[toe_joint])
        heel_in_frame = rest_frame.T @ _rest_heel_offset(motion, ankle_joint, rest_up)
        frames = _foot_frames(position[:, knee_joint], ankle, position[:, toe_joint])
        landmarks[:, L[f"{side}_heel"]] = ankle + frames @ heel_in_frame
        wrist = position[:, motion.joint(s + "Hand")]
        hand = position[:, motion.end_of(motion.joint(s + "Hand"))] - wrist
        short = np.linalg.norm(hand, axis=1) < 0.03
        hand[short] = 0.08 * unit(wrist - position[:, motion.joint(s + "LowerArm")])[short]
        size = np.linalg.norm(hand, axis=1, keepdims=True)
        thumb_side = Rotation.from_quat(motion.rotations[:, motion.joint(s + "Hand")]).apply(rest_forward)
        landmarks[:, L[f"{side}_index"]] = wrist + hand + 0.25 * size * thumb_side
        landmarks[:, L[f"{side}_pinky"]] = wrist + 0.9 * hand - 0.30 * size * thumb_side
        landmarks[:, L[f"{side}_thumb"]] = wrist + 0.5 * hand + 0.50 * size * thumb_side
    head = motion.joint("Head")
    head_rotation = Rotation.from_quat(motion.rotations[:, head])
    forward, up, left = (head_rotation.apply(axis) for axis in (rest_forward, rest_up, rest_left))
    centre = (position[:, head] + position[:, motion.end_of(head)]) / 2.0
    landmarks[:, L["nose"]] = centre + 0.10 * forward
    for side, sign in (("left", 1.0), ("right", -1.0)):
        eye = centre + 0.07 * forward + 0.035 * up + sign * 0.032 * left
        landmarks[:, L[f"{side}_eye"]] = eye
        landmarks[:, L[f"{side}_eye_inner"]] = eye - sign * 0.015 * left
        landmarks[:, L[f"{side}_eye_outer"]] = eye + sign * 0.015 * left
        landmarks[:, L[f"{side}_ear"]] = centre + sign * 0.075 * left - 0.01 * forward
        landmarks[:, L[f"mouth_{side}"]] = centre + 0.085 * forward - 0.045 * up + sign * 0.025 * left
    return landmarks


@dataclass(frozen=True)
class SolveSettings:
    """How the evaluation solves: ``mode`` "raw" (the solver alone: no outlier guard, filters
    or foot contact), "live" (the capture's outlier guard, One Euro filters and foot locking) or
    "offline" (zero-phase smoothing at ``smooth_hz``, then the outlier guard and foot locking,
    as ``mocap solve --smooth``). Filter settings default to the capture defaults."""

    mode: str = "live"
    body: OneEuroSettings = OneEuroSettings(FilterSettings.body_min_cutoff_hz, FilterSettings.body_beta)
    root: OneEuroSettings = OneEuroSettings(FilterSettings.root_min_cutoff_hz, FilterSettings.root_beta)
    rotation: OneEuroSettings = OneEuroSettings(FilterSettings.rotation_min_cutoff_hz, FilterSettings.rotation_beta)
    smooth_hz: float = 6.0


@dataclass(frozen=True)
class SolvedMotion:
    positions_m: NDArray[np.float64]   # (frames, rig joints, 3) in the rig's frame
    ms_per_frame: float                # everything after the landmarks (raw: solver, joint limits, retargeting)


def _capture_pipeline(settings: SolveSettings) -> MotionPipeline:
    """The pipeline ``mocap solve`` builds from the default config for bodies lifted beforehand,
    with ``settings``' filters, the ones under test, when live (offline the landmarks come
    smoothed and it has none)."""
    live = settings.mode == "live"
    pipeline = build_pipeline(CaptureConfig(), estimator=None, lifter=None, sinks=[], live_filters=live)
    if live:
        pipeline.body_filter = BodyFilter(body=settings.body, root=settings.root)
        pipeline.rotation_filter = RotationFilter(settings.rotation)
    return pipeline


def solve_onto_rig(
    landmarks_m: NDArray[np.float64], frame_time_s: float, retargeter: Retargeter, settings: SolveSettings
) -> SolvedMotion:
    """Solve landmarks (frames, 33, 3) in the stage frame (floor y = 0), retarget onto the rig
    and forward-kinematics it: "live" and "offline" through the capture's own pipeline (outlier
    guard, filters, solver, joint limits, held bones, foot contact), "raw" through the solver
    and joint limits alone. The performer's proportions are measured from the first 60 frames
    before the first is solved, so every frame has the same skeleton."""
    confidence = np.ones(NUM_POSE_LANDMARKS)
    timestamps = np.arange(len(landmarks_m)) * frame_time_s
    if settings.mode == "offline":
        landmarks_m = smooth_trajectories(landmarks_m, timestamps, settings.smooth_hz)
    bodies = [BodyPose(t, joints, confidence, detected=True) for t, joints in zip(timestamps, landmarks_m)]
    pipeline = _capture_pipeline(settings)
    for body in bodies[:60]:
        pipeline.measurer.add(body)
    skeleton = humanoid_skeleton(pipeline.measurer.proportions)
    rig = retargeter.rig
    positions = []
    elapsed_s = 0.0
    for body in bodies:
        start = time.perf_counter()
        if settings.mode == "raw":
            local = pipeline.joint_limits(pipeline.solver.solve(body).local)
            pose = SkeletonPose(body.timestamp_s, skeleton, body.joints_m[list(HIP_LANDMARKS)].mean(axis=0), local,
                                tracked=True, skeleton_settled=True)
        else:
            pose = pipeline.process_body(body, body.timestamp_s)
        rig_local, root_m = retargeter.retarget(pose.local_rotations, pose.root_position_m, pose.skeleton.rest_offsets_m[0, 1])
        elapsed_s += time.perf_counter() - start
        positions.append(rig.skeleton.forward_kinematics(rig_local, root_m)[1])
    return SolvedMotion(np.stack(positions), 1000.0 * elapsed_s / len(bodies))


@dataclass(frozen=True)
class ClipAccuracy:
    bone_error_deg: dict[str, float]    # mean over frames, per evaluated bone
    jitter: float                       # mean |acceleration| of the solved joints, m/s^2
    jitter_unfiltered: float            # the same solved without filters, from the same landmarks
    jitter_noise_free: float            # the same solved without filters from noise-free landmarks: the motion's own
    body_jitter: float                  # the same for the joints relative to the hips (the body's shape)
    body_jitter_unfiltered: float
    lag_frames: int                     # frame shift best matching the body's shape to the noise-free raw solve
    room_lag_frames: int                # the same for every joint in the room (floor height aside): the whole avatar
    hips_error_mm: float                # mean distance of the hips' path from the noise-free raw solve's (floor height aside)
    hips_lag_frames: int                # frame shift best matching the hips' path to the noise-free raw solve's
    foot_skate_mm: float                # mean horizontal movement per frame of the feet the clip has planted
    ms_per_frame: float                 # the capture's stages after lifting + retargeting
    ik_ms_per_frame: float              # solver + joint limits + retargeting

    @property
    def mean_error_deg(self) -> float:
        return float(np.mean(list(self.bone_error_deg.values())))

    @property
    def jitter_cut(self) -> float:
        return self.jitter_unfiltered / self.jitter

    @property
    def jitter_cut_ceiling(self) -> float:
        """The cut a filter that removed the noise and kept the motion exactly would reach."""
        return self.jitter_unfiltered / self.jitter_noise_free

    @property
    def body_jitter_cut(self) -> float:
        return self.body_jitter_unfiltered / self.body_jitter


def jitter(positions: NDArray[np.float64], frame_time_s: float) -> float:
    acceleration = np.diff(positions, n=2, axis=0) / frame_time_s**2
    return float(np.mean(np.linalg.norm(acceleration, axis=-1)))


def evaluate(motion: ClipMotion, *, noise_m: float = 0.0, seed: int = 0, settings: SolveSettings = SolveSettings()) -> ClipAccuracy:
    """Synthesise landmarks from ``motion`` (plus Gaussian noise of ``noise_m`` metres per
    coordinate), solve them back onto the clip's own skeleton and compare."""
    retargeter = Retargeter(motion.rig)
    clean = retargeter.facing.apply(synthesize_landmarks(motion).reshape(-1, 3)).reshape(-1, NUM_POSE_LANDMARKS, 3)
    feet = [LANDMARK_INDEX[f"{side}_{part}"] for side in ("left", "right") for part in ("heel", "foot_index")]
    clean[:, :, 1] -= np.percentile(clean[:, feet, 1].min(axis=1), 5)   # the floor at y = 0
    noisy = clean + np.random.default_rng(seed).normal(0.0, noise_m, clean.shape) if noise_m > 0 else clean
    result = solve_onto_rig(noisy, motion.frame_time_s, retargeter, settings)
    solved = result.positions_m
    raw_result = solve_onto_rig(noisy, motion.frame_time_s, retargeter, SolveSettings(mode="raw"))
    raw = raw_result.positions_m
    reference = solve_onto_rig(clean, motion.frame_time_s, retargeter, SolveSettings(mode="raw")).positions_m
    rig = motion.rig
    truth = motion.positions_m[:, [motion.names.index(name) for name in rig.skeleton.names]]
    errors = {bone: float(np.mean(per_frame)) for bone, per_frame in bone_errors_deg(solved, truth, rig).items()}
    hips = rig.humanoid["Hips"]

    def shape(positions: NDArray[np.float64]) -> NDArray[np.float64]:
        return positions - positions[:, hips:hips + 1]

    dt = motion.frame_time_s
    placed = _on_the_references_floor(solved, reference, hips)
    return ClipAccuracy(
        errors, jitter(solved, dt), jitter(raw, dt), jitter(reference, dt), jitter(shape(solved), dt), jitter(shape(raw), dt),
        lag_frames(shape(solved), shape(reference)),
        lag_frames(placed, reference),
        _hips_error_mm(placed[:, hips], reference[:, hips]),
        lag_frames(solved[:, hips], reference[:, hips]),
        foot_skate_mm(solved, truth, rig), result.ms_per_frame, raw_result.ms_per_frame,
    )


def bone_errors_deg(solved: NDArray[np.float64], truth: NDArray[np.float64], rig: Rig) -> dict[str, NDArray[np.float64]]:
    """Per evaluated bone, the angle (degrees) between its solved and true direction in every
    frame; ``solved`` and ``truth`` are (frames, rig joints, 3) in the rig's frame."""
    errors = {}
    for bone in EVALUATED_BONES:
        end = DIRECTION_CHILD[bone]
        if bone not in rig.humanoid or end not in rig.humanoid:
            continue
        a, b = rig.humanoid[bone], rig.humanoid[end]
        if np.linalg.norm(rig.skeleton.rest_offsets_m[b]) < 0.01 and rig.skeleton.parents[b] == a:
            continue  # a bone of no length (CMU's Spine1 -> Neck) has no direction
        cosine = np.sum(unit(solved[:, b] - solved[:, a]) * unit(truth[:, b] - truth[:, a]), axis=1)
        errors[bone] = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
    return errors


def _on_the_references_floor(solved: NDArray[np.float64], reference: NDArray[np.float64], hips: int) -> NDArray[np.float64]:
    """``solved`` joints (frames, joints, 3) lowered by the hips' median height above the
    reference's: the live solve stands the avatar's soles on the floor, the reference (no foot
    contact) the landmarks' soles, and that steady height is placement, not error."""
    height_m = float(np.median(solved[:, hips, 1] - reference[:, hips, 1]))
    return solved - np.array([0.0, height_m, 0.0])


def _hips_error_mm(solved: NDArray[np.float64], reference: NDArray[np.float64]) -> float:
    """Mean distance (mm) of the hips' path (frames, 3) from the reference's."""
    return 1000.0 * float(np.mean(np.linalg.norm(solved - reference, axis=1)))


def lag_frames(solved: NDArray[np.float64], reference: NDArray[np.float64]) -> int:
    """The delay (0-5 frames) at which ``solved`` best matches ``reference`` (frames first)."""
    return min(range(6), key=lambda k: float(np.mean((solved[k:] - reference[: len(reference) - k]) ** 2)))


def foot_skate_mm(solved: NDArray[np.float64], truth: NDArray[np.float64], rig: Rig) -> float:
    """Mean horizontal movement per frame (mm) of the solved ankles while the clip's are planted:
    within ``CONTACT_HEIGHT_M`` of their lowest and slower than ``CONTACT_SPEED_M_S``."""
    moves = []
    for bone in ("LeftFoot", "RightFoot"):
        foot = rig.humanoid[bone]
        height = truth[:, foot, 1] - truth[:, foot, 1].min()
        step = np.linalg.norm(np.diff(truth[:, foot], axis=0), axis=1)
        planted = (height[1:] < CONTACT_HEIGHT_M) & (height[:-1] < CONTACT_HEIGHT_M)
        horizontal = np.linalg.norm(np.diff(solved[:, foot][:, [0, 2]], axis=0), axis=1)
        moves.append(horizontal[planted & (step < CONTACT_SPEED_M_S * CONTACT_FRAME_S)])
    moved = np.concatenate(moves)
    return 1000.0 * float(np.mean(moved)) if moved.size else float("nan")
