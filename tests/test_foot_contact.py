"""Foot contact on the canonical skeleton: anchors that ease back with the body, a lifted foot
released at its release height, and a floor the feet never sink through."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mocap.core.frames import SkeletonPose
from mocap.core.skeleton import BONE_INDEX, BONE_NAMES, humanoid_skeleton
from mocap.solving.foot_contact import ContactSettings, FootContact

pytestmark = pytest.mark.unit

FPS = 30.0
SKELETON = humanoid_skeleton()
STANDING_HIPS_M = SKELETON.rest_offsets_m[0]          # feet on the floor (toes at y = 0)


def pose_at(frame: int, root_m: np.ndarray, local: Rotation | None = None) -> SkeletonPose:
    rotations = Rotation.identity(len(BONE_NAMES)) if local is None else local
    return SkeletonPose(frame / FPS, SKELETON, np.asarray(root_m, dtype=np.float64), rotations, True, True)


def joint(pose: SkeletonPose, bone: str) -> np.ndarray:
    _, positions = SKELETON.forward_kinematics(pose.local_rotations, pose.root_position_m)
    return positions[BONE_INDEX[bone]]


def test_planted_feet_ease_back_with_the_body_to_where_the_performer_stands() -> None:
    """Standing with both feet planted, the measurement drifts 4 cm to the side over a second (a
    shift the feet's pin allows) and then holds. The avatar's feet first stay put; over the
    next seconds the whole avatar, planted feet with it, eases to the measured place."""
    contact = FootContact()
    measured_x_m, output_x_m, ankle_x_m = [], [], []
    for frame in range(int(12 * FPS)):
        shift_m = 0.04 * min(frame / FPS, 1.0)
        pose = contact(pose_at(frame, STANDING_HIPS_M + [shift_m, 0.0, 0.0]))
        assert contact.planted == {"Left": True, "Right": True}, frame
        measured_x_m.append(shift_m)
        output_x_m.append(pose.root_position_m[0] - STANDING_HIPS_M[0])
        ankle_x_m.append(joint(pose, "LeftFoot")[0])
    assert output_x_m[int(FPS)] < 0.02                       # held near the footprints at first
    assert abs(output_x_m[-1] - measured_x_m[-1]) < 0.003     # then eased back (return_s = 2 s)
    # the planted ankle goes along with the body, never apart from it
    ankle_from_root = np.array(ankle_x_m) - np.array(output_x_m)
    assert np.ptp(ankle_from_root) < 0.005


def lifted_leg(height_m: float) -> Rotation:
    """The left foot raised straight up by about ``height_m``, kept level: thigh forward, knee
    bent twice as much, foot turned back."""
    thigh_m = float(np.linalg.norm(SKELETON.rest_offsets_m[BONE_INDEX["LeftLowerLeg"]]))
    shin_m = float(np.linalg.norm(SKELETON.rest_offsets_m[BONE_INDEX["LeftFoot"]]))
    angle = np.arccos(1.0 - height_m / (thigh_m + shin_m))
    local = Rotation.identity(len(BONE_NAMES)).as_rotvec()
    local[BONE_INDEX["LeftUpperLeg"]] = [-angle, 0.0, 0.0]
    local[BONE_INDEX["LeftLowerLeg"]] = [2.0 * angle, 0.0, 0.0]
    local[BONE_INDEX["LeftFoot"]] = [-angle, 0.0, 0.0]
    return Rotation.from_rotvec(local)


def test_a_lifted_foot_is_released_at_its_release_height() -> None:
    settings = ContactSettings()
    contact = FootContact(settings)
    for frame in range(30):
        contact(pose_at(frame, STANDING_HIPS_M))
    assert contact.planted["Left"]
    released_at_m = None
    for step in range(1, 20):
        height_m = 0.005 * step - 0.0025     # 15 cm/s up, never exactly at a threshold
        contact(pose_at(30 + step, STANDING_HIPS_M, lifted_leg(height_m)))
        if not contact.planted["Left"]:
            released_at_m = height_m
            break
    assert released_at_m is not None and settings.release_height_m < released_at_m < settings.release_height_m + 0.005
    assert contact.planted["Right"]


def test_a_foot_put_down_is_planted_at_its_contact_height() -> None:
    settings = ContactSettings()
    contact = FootContact(settings)
    contact(pose_at(0, STANDING_HIPS_M, lifted_leg(0.2)))
    contact(pose_at(1, STANDING_HIPS_M, lifted_leg(0.2)))
    assert not contact.planted["Left"] and contact.planted["Right"]
    planted_at_m = None
    for step in range(2, 60):
        height_m = 0.2025 - 0.005 * step
        contact(pose_at(step, STANDING_HIPS_M, lifted_leg(height_m)))
        if contact.planted["Left"]:
            planted_at_m = height_m
            break
    assert planted_at_m is not None and settings.contact_height_m - 0.005 < planted_at_m < settings.contact_height_m


def test_a_foot_moving_fast_is_not_planted_even_low() -> None:
    """Sliding along the floor at 1.5 m/s (a dancer's glide): low, but not a footprint."""
    contact = FootContact()
    for frame in range(10):
        contact(pose_at(frame, STANDING_HIPS_M + [0.05 * frame, 0.0, 0.0]))
    assert contact.planted == {"Left": False, "Right": False}


def test_feet_measured_below_the_floor_are_lifted_onto_it() -> None:
    """A performer measured 6 cm too low, after 10 s standing right: the avatar is raised."""
    contact = FootContact()
    for frame in range(int(10 * FPS)):
        contact(pose_at(frame, STANDING_HIPS_M))
    pose = contact(pose_at(int(10 * FPS), STANDING_HIPS_M - [0.0, 0.06, 0.0]))
    assert joint(pose, "LeftToes")[1] >= -1e-9
    assert pose.root_position_m[1] >= STANDING_HIPS_M[1] - 1e-9


def test_feet_measured_above_the_floor_are_brought_down_onto_it() -> None:
    """Every foot measured 3 cm up (the skeleton's proportions never match the landmarks
    exactly): the learnt floor puts the lower sole at y = 0."""
    contact = FootContact()
    for frame in range(60):
        pose = contact(pose_at(frame, STANDING_HIPS_M + [0.0, 0.03, 0.0], lifted_leg(0.1)))
    assert joint(pose, "RightToes")[1] == pytest.approx(0.0, abs=1e-5)   # leg IK reaches to within 1e-6 m
    assert pose.root_position_m[1] == pytest.approx(STANDING_HIPS_M[1], abs=1e-9)


def bent_knees(angle_deg: float) -> Rotation:
    """Both knees bent ``2 angle_deg`` with the thighs forward and feet level: a slight crouch."""
    local = Rotation.identity(len(BONE_NAMES)).as_rotvec()
    angle = np.radians(angle_deg)
    for side in ("Left", "Right"):
        local[BONE_INDEX[f"{side}UpperLeg"]] = [-angle, 0.0, 0.0]
        local[BONE_INDEX[f"{side}LowerLeg"]] = [2.0 * angle, 0.0, 0.0]
        local[BONE_INDEX[f"{side}Foot"]] = [-angle, 0.0, 0.0]
    return Rotation.from_rotvec(local)


def test_a_pinned_leg_bends_in_its_own_plane_with_the_knee_in_front() -> None:
    """Crouching slightly with both feet planted, the measured body drifts 3 cm forward: each
    ankle stays on its footprint, each knee still bends forward, and the foot keeps its turn."""
    contact = FootContact()
    crouch = bent_knees(20.0)
    height_m = STANDING_HIPS_M[1] - 0.82 * (1.0 - np.cos(np.radians(20.0)))
    start = contact(pose_at(0, [0.0, height_m, 0.0], crouch))
    ankle_at_start = joint(start, "LeftFoot")
    for frame in range(1, 10):
        pose = contact(pose_at(frame, [0.0, height_m, 0.03 * frame / 9], crouch))
    assert contact.planted == {"Left": True, "Right": True}
    hip, knee, ankle = (joint(pose, name) for name in ("LeftUpperLeg", "LeftLowerLeg", "LeftFoot"))
    np.testing.assert_allclose(ankle[[0, 2]], ankle_at_start[[0, 2]], atol=2e-3)
    along = (ankle - hip) / np.linalg.norm(ankle - hip)
    bend = knee - hip - np.dot(knee - hip, along) * along
    assert bend[2] > 0.05 and abs(bend[0]) < 1e-6          # forward, in the leg's own plane
    foot_world = (pose.local_rotations[BONE_INDEX["LeftUpperLeg"]] * pose.local_rotations[BONE_INDEX["LeftLowerLeg"]]
                  * pose.local_rotations[BONE_INDEX["LeftFoot"]])
    assert np.degrees(foot_world.magnitude()) < 1e-6     # the foot still level


def test_nobody_in_view_leaves_the_avatar_where_it_stood() -> None:
    contact = FootContact()
    for frame in range(int(2 * FPS)):
        shown = contact(pose_at(frame, STANDING_HIPS_M + [0.04 * min(frame / FPS, 1.0), 0.0, 0.0]))
    lost = contact(SkeletonPose(2.0, SKELETON, STANDING_HIPS_M + [0.04, 0.0, 0.0], Rotation.identity(len(BONE_NAMES)),
                                tracked=False, skeleton_settled=True))
    np.testing.assert_allclose(lost.root_position_m, shown.root_position_m, atol=1e-3)
    assert contact.planted == {"Left": False, "Right": False}


def test_a_foot_standing_on_its_heel_is_planted_by_its_sole() -> None:
    """The left foot's toes raised 40 degrees, its heel on the floor beside a level right foot:
    the sole under the ankle is the contact, not the raised toes."""
    local = Rotation.identity(len(BONE_NAMES)).as_rotvec()
    local[BONE_INDEX["LeftFoot"]] = [-np.radians(40.0), 0.0, 0.0]
    contact = FootContact()
    for frame in range(10):
        contact(pose_at(frame, STANDING_HIPS_M, Rotation.from_rotvec(local)))
    assert contact.planted == {"Left": True, "Right": True}
