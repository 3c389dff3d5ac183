"""Joint limits, each on its own: twist clamps, swing cones, hinges, and the hips' twist
limit that widens with swing. Angles are read back by a swing-twist split written here."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mocap.core.skeleton import BONE_INDEX, BONE_NAMES
from mocap.solving.joint_limits import LIMITS, JointLimits

pytestmark = pytest.mark.unit


def limited(bone: str, rotation: Rotation) -> Rotation:
    """``rotation`` as the local rotation of ``bone`` (every other bone at rest), limited."""
    local = Rotation.identity(len(BONE_NAMES)).as_quat()
    local[BONE_INDEX[bone]] = rotation.as_quat()
    result = JointLimits()(Rotation.from_quat(local))
    others = np.delete(result.magnitude(), BONE_INDEX[bone])
    assert np.all(others < 1e-9)      # the other bones stay at rest
    return result[BONE_INDEX[bone]]


def swing_twist(bone: str, twist_deg: float, swing_axis: tuple[float, float, float], swing_deg: float) -> Rotation:
    """A twist about the bone's rest direction, then a swing about ``swing_axis``."""
    axis = np.array(LIMITS[bone].axis, dtype=np.float64)
    return Rotation.from_rotvec(np.radians(swing_deg) * np.array(swing_axis)) * Rotation.from_rotvec(np.radians(twist_deg) * axis)


def split_deg(bone: str, rotation: Rotation) -> tuple[float, np.ndarray]:
    """(twist about the bone's rest direction, swing rotation vector), degrees."""
    axis = np.array(LIMITS[bone].axis, dtype=np.float64)
    quat = rotation.as_quat()
    twist = 2.0 * np.arctan2(np.dot(quat[:3], axis), quat[3])
    twist = (twist + np.pi) % (2.0 * np.pi) - np.pi
    swing = rotation * Rotation.from_rotvec(-twist * axis)
    return float(np.degrees(twist)), np.degrees(swing.as_rotvec())


@pytest.mark.parametrize(("bone", "twist_deg", "swing_axis", "swing_deg"), [
    ("LeftUpperLeg", 80.0, (0, 0, 1), 60.0),
    ("RightUpperArm", -100.0, (0, 0, 1), 120.0),
    ("Spine", 30.0, (1, 0, 0), 40.0),
    ("LeftLowerLeg", 20.0, (1, 0, 0), 150.0),
    ("RightLowerArm", -60.0, (0, 1, 0), 150.0),   # the right elbow's hinge is +Y
])
def test_a_pose_within_the_limits_is_left_alone(bone: str, twist_deg: float, swing_axis: tuple, swing_deg: float) -> None:
    rotation = swing_twist(bone, twist_deg, swing_axis, swing_deg)
    assert np.degrees((limited(bone, rotation).inv() * rotation).magnitude()) < 1e-6


@pytest.mark.parametrize(("bone", "twist_deg", "expected_deg"), [
    ("LeftUpperLeg", 120.0, 90.0),
    ("RightUpperLeg", -150.0, -90.0),
    ("LeftUpperArm", 150.0, 110.0),
    ("RightHand", -60.0, -40.0),
    ("Neck", 80.0, 60.0),
    ("LeftLowerLeg", 50.0, 30.0),
])
def test_a_bone_twisted_past_its_limit_is_clamped_to_it(bone: str, twist_deg: float, expected_deg: float) -> None:
    twist, swing = split_deg(bone, limited(bone, swing_twist(bone, twist_deg, (1, 0, 0), 0.0)))
    assert twist == pytest.approx(expected_deg, abs=1e-6)
    assert np.linalg.norm(swing) < 1e-6


@pytest.mark.parametrize(("bone", "swing_axis", "swing_deg", "expected_deg"), [
    ("Spine", (1, 0, 0), 70.0, 45.0),           # bent forward
    ("Head", (0, 0, 1), -80.0, -50.0),          # tilted to the side
    ("LeftShoulder", (0, 0, 1), 60.0, 40.0),    # shrugged
    ("RightHand", (0, 1, 0), 120.0, 85.0),
    ("LeftFoot", (1, 0, 0), -90.0, -60.0),
])
def test_a_swing_beyond_its_cone_is_brought_to_the_cone(bone: str, swing_axis: tuple, swing_deg: float, expected_deg: float) -> None:
    twist, swing = split_deg(bone, limited(bone, swing_twist(bone, 0.0, swing_axis, swing_deg)))
    np.testing.assert_allclose(swing, expected_deg * np.array(swing_axis), atol=1e-6)   # same direction, cone's edge
    assert twist == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(("bone", "bend_deg", "expected_deg"), [
    ("LeftLowerLeg", -40.0, 0.0),       # a knee bent backward is straightened
    ("LeftLowerLeg", 175.0, 160.0),     # past the most a knee bends
    ("LeftLowerArm", -30.0, 0.0),
    ("RightLowerArm", 170.0, 160.0),
])
def test_a_hinge_bends_one_way_and_only_so_far(bone: str, bend_deg: float, expected_deg: float) -> None:
    hinge = LIMITS[bone].hinge
    assert hinge is not None
    _, swing = split_deg(bone, limited(bone, swing_twist(bone, 0.0, hinge, bend_deg)))
    np.testing.assert_allclose(swing, expected_deg * np.array(hinge), atol=1e-6)


def test_a_hinge_barely_bends_off_its_axis() -> None:
    """A knee bent 30 degrees sideways keeps 10 (its off-axis allowance)."""
    _, swing = split_deg("LeftLowerLeg", limited("LeftLowerLeg", swing_twist("LeftLowerLeg", 0.0, (0, 0, 1), 30.0)))
    np.testing.assert_allclose(swing, [0.0, 0.0, 10.0], atol=1e-6)


@pytest.mark.parametrize(("swing_deg", "twist_deg", "expected_twist_deg"), [
    (30.0, 150.0, 90.0),      # little swing: the fixed limit
    (67.5, 150.0, 135.0),     # halfway through the widening range (45-90 degrees of swing)
    (100.0, 170.0, 170.0),    # a leg raised to the side: no limit (Codman's paradox)
])
def test_the_hips_twist_limit_widens_with_swing(swing_deg: float, twist_deg: float, expected_twist_deg: float) -> None:
    rotation = swing_twist("LeftUpperLeg", twist_deg, (0, 0, 1), swing_deg)
    twist, swing = split_deg("LeftUpperLeg", limited("LeftUpperLeg", rotation))
    assert twist == pytest.approx(expected_twist_deg, abs=1e-6)
    np.testing.assert_allclose(swing, [0.0, 0.0, swing_deg], atol=1e-6)


# The anatomical ranges users get, degrees: (twist, swing cone) or, for hinges, (twist, bend, off-axis bend).
RANGES = {
    "Spine": (40, 45), "Chest": (40, 45), "Neck": (60, 50), "Head": (60, 50),
    "Shoulder": (20, 40), "UpperArm": (110, 175), "Hand": (40, 85), "UpperLeg": (90, 140), "Foot": (40, 60), "Toes": (10, 60),
    "LowerArm": (110, 160, 15), "LowerLeg": (30, 160, 10),
}


def _sides(part: str) -> list[str]:
    return [part] if part in ("Spine", "Chest", "Neck", "Head") else [f"Left{part}", f"Right{part}"]


@pytest.mark.parametrize("bone", [bone for part in RANGES for bone in _sides(part)])
def test_every_bone_stops_at_its_anatomical_range(bone: str) -> None:
    """Twisted 5 degrees past its range, and swung 5 degrees past it either way about each axis
    across the bone, each bone stops at the range's edge; a hinge bent backward straightens."""
    limit = RANGES[bone.removeprefix("Left").removeprefix("Right")]
    axis, hinge = np.array(LIMITS[bone].axis, dtype=np.float64), LIMITS[bone].hinge
    for sign in (1.0, -1.0):
        twist, _ = split_deg(bone, limited(bone, swing_twist(bone, sign * (limit[0] + 5.0), (1, 0, 0), 0.0)))
        assert twist == pytest.approx(sign * limit[0], abs=1e-6)
    for across in (a for a in np.eye(3) if abs(np.dot(a, axis)) < 0.5):
        bends = hinge is not None and abs(np.dot(across, hinge)) > 0.5
        direction = np.array(hinge, dtype=np.float64) if bends else across
        edge = limit[-1] if hinge is not None and not bends else limit[1]
        for sign in (1.0, -1.0):
            _, swing = split_deg(bone, limited(bone, swing_twist(bone, 0.0, tuple(direction), sign * (edge + 5.0))))
            expected = 0.0 if bends and sign < 0 else sign * edge
            np.testing.assert_allclose(swing, expected * direction, atol=1e-6, err_msg=f"{direction} {sign}")
