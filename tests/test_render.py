"""What a user sees of a take: the skeleton drawn in 3D (`mocap render`, `--virtual-camera`).

Pictures are judged by their pixels: the performer's left side is drawn in LEFT_BGR, the
right in RIGHT_BGR, so a picture shows which side of the image each arm is on, where the body
is, and where the feet stand. Pictures of a failed test are kept in pytest's temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import DEMO_VIDEO, DemoCapture, assert_one_line_error, run_mocap, shared
from scipy.spatial.transform import Rotation

from mocap.core.frames import Frame, PoseObservation, SkeletonPose
from mocap.core.skeleton import BONE_INDEX, Skeleton, humanoid_skeleton
from mocap.display.render_take import Take, bvh_take, planted_feet, staged
from mocap.display.scene_view import (
    BACKGROUNDS_BGR,
    CENTRE_BGR,
    CHROMA_GREEN_BGR,
    CONTACT_BGR,
    FRUSTUM_BGR,
    GRID_BGR,
    LEFT_BGR,
    PATH_BGR,
    RIGHT_BGR,
    SceneView,
    ViewSettings,
    framing_camera,
)
from mocap.sinks.bvh import BvhWriter

TARGET_M = np.array([0.0, 0.9, 0.0])


def posed(skeleton: Skeleton, hip_height_m: float | None = None, **turns_deg: tuple[float, float, float]) -> SkeletonPose:
    """A pose of ``skeleton``: each named bone turned by a rotation vector (degrees) in its parent's frame."""
    quats = Rotation.identity(len(skeleton.names)).as_quat()
    for bone, rotvec in turns_deg.items():
        quats[BONE_INDEX[bone]] = Rotation.from_rotvec(np.radians(rotvec)).as_quat()
    root = skeleton.rest_offsets_m[0].copy()
    if hip_height_m is not None:
        root[1] = hip_height_m
    return SkeletonPose(0.0, skeleton, root, Rotation.from_quat(quats), tracked=True, skeleton_settled=True)


ARMS_DOWN = {"LeftUpperArm": (0.0, 0.0, -80.0), "RightUpperArm": (0.0, 0.0, 80.0)}
SITTING = {"LeftUpperLeg": (-90.0, 0.0, 0.0), "RightUpperLeg": (-90.0, 0.0, 0.0),
           "LeftLowerLeg": (90.0, 0.0, 0.0), "RightLowerLeg": (90.0, 0.0, 0.0)}


def drawn(pose: SkeletonPose, view: str, tmp_path: Path, name: str) -> tuple[np.ndarray, SceneView, np.ndarray]:
    """The picture of ``pose`` from ``view`` (kept as ``name``.png), its view, and the joints' positions."""
    settings = ViewSettings(640, 360, view)
    skeleton = pose.skeleton
    view_ = SceneView(skeleton.names, skeleton.parents, framing_camera(settings, TARGET_M, 2.0), settings, TARGET_M)
    _, positions = skeleton.forward_kinematics(pose.local_rotations, pose.root_position_m)
    image = view_.skeleton(positions)
    cv2.imwrite(str(tmp_path / f"{name}.png"), image)
    return image, view_, positions


def coloured(image: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """(rows, columns) of the pixels of that colour (anti-aliased edges excluded)."""
    return np.argwhere(np.abs(image.astype(int) - colour).max(axis=2) <= 12)


def pixel_of(view: SceneView, point_m: np.ndarray) -> tuple[int, int]:
    x, y = view.camera.project(point_m[None])[0]
    return int(round(y)), int(round(x))


def near(image: np.ndarray, row_column: tuple[int, int], colour: tuple[int, int, int], radius: int = 3) -> bool:
    row, column = row_column
    patch = image[max(row - radius, 0):row + radius + 1, max(column - radius, 0):column + radius + 1]
    return len(coloured(patch, colour)) > 0


@pytest.mark.unit
@pytest.mark.parametrize(("view", "left_on_image_right"), [("front", True), ("back", False)])
def test_the_performers_left_arm_is_on_the_image_side_the_camera_sees_it(tmp_path: Path, view: str,
                                                                         left_on_image_right: bool) -> None:
    """A T-pose seen from the front shows the performer's left arm on the image's right (they
    face the camera); from behind, on the image's left. Their hands are drawn where they are."""
    image, view_, positions = drawn(posed(humanoid_skeleton()), view, tmp_path, f"tpose_{view}")
    left, right = coloured(image, LEFT_BGR), coloured(image, RIGHT_BGR)
    assert len(left) > 200 and len(right) > 200
    assert (left[:, 1].mean() > right[:, 1].mean()) == left_on_image_right
    assert near(image, pixel_of(view_, positions[BONE_INDEX["LeftHand"]]), LEFT_BGR)
    assert near(image, pixel_of(view_, positions[BONE_INDEX["RightHand"]]), RIGHT_BGR)
    assert near(image, pixel_of(view_, positions[BONE_INDEX["Chest"]]), CENTRE_BGR)


@pytest.mark.unit
def test_a_camera_turned_round_by_an_angle_stands_where_the_named_side_is() -> None:
    """Turned 90 degrees from the front toward the performer's left, the camera stands where the
    `left` view does (on +X); 180 is the back."""
    front, left, back = (ViewSettings(640, 360, view) for view in ("front", "left", "back"))
    for turned, named in ((90.0, left), (180.0, back)):
        assert np.allclose(framing_camera(front, TARGET_M, 2.0, turned).position_m,
                           framing_camera(named, TARGET_M, 2.0).position_m)
    assert framing_camera(left, TARGET_M, 2.0).position_m[0] > 1.0


@pytest.mark.unit
def test_arms_down_are_drawn_below_the_shoulders_and_feet_stand_on_the_floor(tmp_path: Path) -> None:
    """Arms lowered 80 degrees: the hands are drawn below the shoulders, beside the hips. The
    lowest drawn pixel of each leg is where the floor under that foot is seen."""
    image, view_, positions = drawn(posed(humanoid_skeleton(), **ARMS_DOWN), "front", tmp_path, "arms_down")
    for side, colour in (("Left", LEFT_BGR), ("Right", RIGHT_BGR)):
        hand_row, _ = pixel_of(view_, positions[BONE_INDEX[f"{side}Hand"]])
        shoulder_row, _ = pixel_of(view_, positions[BONE_INDEX[f"{side}UpperArm"]])
        assert hand_row > shoulder_row + 60
        assert near(image, pixel_of(view_, positions[BONE_INDEX[f"{side}Hand"]]), colour)
        toes = positions[BONE_INDEX[f"{side}Toes"]]
        floor_row, column = pixel_of(view_, np.array([toes[0], 0.0, toes[2]]))
        strip = image[:, column - 4:column + 5]
        lowest = coloured(strip, colour)[:, 0].max()
        assert abs(lowest - floor_row) <= 6, (lowest, floor_row)


@pytest.mark.unit
def test_a_sitting_pose_seen_from_the_side_has_its_knees_forward(tmp_path: Path) -> None:
    """Sitting, seen from the performer's left (+X): their front (+Z) is the image's left, so the
    knees are drawn left of the hips, level with them; the near (left) leg covers the far one."""
    image, view_, positions = drawn(posed(humanoid_skeleton(), 0.5, **SITTING), "left", tmp_path, "sitting_side")
    knee_row, knee_column = pixel_of(view_, positions[BONE_INDEX["LeftLowerLeg"]])
    hip_row, hip_column = pixel_of(view_, positions[BONE_INDEX["LeftUpperLeg"]])
    assert knee_column < hip_column - 40 and abs(knee_row - hip_row) < 10
    assert near(image, (knee_row, knee_column), LEFT_BGR)
    assert len(coloured(image, LEFT_BGR)) > len(coloured(image, RIGHT_BGR))


def test_the_demo_takes_deepest_sit_is_drawn_sitting(demo_capture: DemoCapture, tmp_path: Path) -> None:
    """The demo performer sits on a chair: in the frame where the hips are lowest, the BVH read
    back from disk is drawn with the thighs forward of the hips, seen from the side."""
    take = bvh_take(demo_capture.bvh_path)
    names = list(take.names)
    hips = take.positions_m[:, names.index("Hips")]
    frame = int(np.argmin(hips[:, 1]))
    settings = ViewSettings(640, 360, "left")
    view = SceneView(take.names, take.parents, framing_camera(settings, TARGET_M, 2.0), settings, TARGET_M)
    image = view.skeleton(take.positions_m[frame])
    cv2.imwrite(str(tmp_path / "demo_sitting.png"), image)
    knee_row, knee_column = pixel_of(view, take.positions_m[frame, names.index("LeftLowerLeg")])
    hip_row, hip_column = pixel_of(view, take.positions_m[frame, names.index("LeftUpperLeg")])
    assert knee_column < hip_column - 20, "the knees should be forward (image left) of the hips"
    assert abs(knee_row - hip_row) < 0.5 * abs(knee_column - hip_column), "the thighs should be near level"
    assert near(image, (knee_row, knee_column), LEFT_BGR, radius=5)


@pytest.mark.unit
def test_planted_feet_are_marked_on_the_floor_and_a_raised_foot_is_not(tmp_path: Path) -> None:
    """Standing on one leg, the left thigh raised 60 degrees: only the right foot is planted, and
    its mark is drawn on the floor under it; walking at 1.5 m/s plants neither."""
    skeleton = humanoid_skeleton()
    pose = posed(skeleton, LeftUpperLeg=(-60.0, 0.0, 0.0))
    _, positions = skeleton.forward_kinematics(pose.local_rotations, pose.root_position_m)
    standing = Take(skeleton.names, skeleton.parents, np.repeat(positions[None], 5, axis=0), 1 / 30)
    planted = planted_feet(standing, 0.0)
    right_toes = positions[BONE_INDEX["RightToes"]]
    assert all(len(feet) == 1 and np.allclose(feet[0], right_toes) for feet in planted)
    walking = Take(skeleton.names, skeleton.parents,
                   standing.positions_m + np.arange(5)[:, None, None] * [0.0, 0.0, 1.5 / 30], 1 / 30)
    assert not any(len(feet) for feet in planted_feet(walking, 0.0))
    stage = staged(standing)
    image = stage.picture(stage.view(ViewSettings(640, 360, "front")), 2)
    cv2.imwrite(str(tmp_path / "one_leg.png"), image)
    marks = coloured(image, CONTACT_BGR)
    assert len(marks) > 30
    view = stage.view(ViewSettings(640, 360, "front"))
    row, column = pixel_of(view, stage.planted_m[2][0] * [1.0, 0.0, 1.0])
    assert abs(marks[:, 0].mean() - row) < 8 and abs(marks[:, 1].mean() - column) < 8


@pytest.mark.unit
@pytest.mark.parametrize("double_sided", [False, True], ids=["one-sided", "double-sided"])
def test_a_mesh_shows_its_near_faces_and_hides_those_turned_away(tmp_path: Path, double_sided: bool) -> None:
    """A box's front face (counter-clockwise seen from the camera, glTF's front; orange) and back
    face (counter-clockwise seen from behind; blue), seen from the front: the front face is drawn
    over the back one; the back face alone is left out unless its material is double-sided."""
    front = np.array([[-0.3, 0.6, 0.3], [0.3, 0.6, 0.3], [0.3, 1.2, 0.3], [-0.3, 1.2, 0.3]])
    vertices = np.concatenate([front, front * [1.0, 1.0, -1.0]])
    triangles = np.array([[0, 1, 2], [0, 2, 3], [5, 4, 7], [5, 7, 6]])
    colours = np.array([RIGHT_BGR, RIGHT_BGR, LEFT_BGR, LEFT_BGR], dtype=np.uint8)
    settings = ViewSettings(320, 240, "front")
    view = SceneView(("Hips",), (-1,), framing_camera(settings, TARGET_M, 2.0), settings, TARGET_M)
    both = view.mesh(vertices, triangles, colours, np.full(4, double_sided))
    back_alone = view.mesh(vertices, triangles[2:], colours[2:], np.full(2, double_sided))
    cv2.imwrite(str(tmp_path / "box.png"), np.hstack([both, back_alone]))
    centre = pixel_of(view, np.array([0.0, 0.9, 0.3]))
    blue, _, red = both[centre].astype(int)
    assert red > blue + 60                                               # the orange front face
    blue, _, red = back_alone[centre].astype(int)
    if double_sided:
        assert blue > red + 60                                           # the blue back face
    else:
        assert np.abs(back_alone[centre].astype(int) - CHROMA_GREEN_BGR).max() < 30    # nothing drawn


def test_godette_sits_and_stands_with_arms_out_as_the_demo_performer_does(demo_capture: DemoCapture,
                                                                          tmp_path: Path) -> None:
    """The demo take read back from its BVH, drawn as Godette: at the performer's deepest sit she
    is drawn shorter than when the performer's hands are furthest apart (standing, arms out),
    and then, seen from the front, wider than sitting (her arms out)."""
    from mocap.display.avatar_mesh import load_avatar
    from mocap.retargeting.rigs import load_rig

    rig_file = shared("rigs/vrm/Godette_vrm_v4.vrm")
    take = bvh_take(demo_capture.bvh_path)
    stage = staged(take, load_avatar(load_rig(rig_file), rig_file))
    joint = {name: index for index, name in enumerate(take.names)}
    hands_apart = np.linalg.norm(take.positions_m[:, joint["LeftHand"]] - take.positions_m[:, joint["RightHand"]], axis=1)
    frames = {"sitting": int(np.argmin(take.positions_m[:, joint["Hips"], 1])), "arms out": int(np.argmax(hands_apart))}
    view = stage.view(ViewSettings(480, 270, "front"))
    pictures = {pose: stage.picture(view, frame) for pose, frame in frames.items()}
    cv2.imwrite(str(tmp_path / "godette.png"), np.hstack(list(pictures.values())))
    drawn = {pose: avatar_pixels(picture) for pose, picture in pictures.items()}
    tall = {pose: float(np.ptp(pixels[:, 0])) for pose, pixels in drawn.items()}
    wide = {pose: float(np.ptp(pixels[:, 1])) for pose, pixels in drawn.items()}
    assert tall["sitting"] < 0.9 * tall["arms out"], tall
    assert wide["arms out"] > 1.5 * wide["sitting"], wide


def write_arm_raise(path: Path, still_frames: int = 10, moving_frames: int = 10) -> None:
    """A BVH take: standing still, then the left arm raising from down to level."""
    skeleton = humanoid_skeleton()
    writer = BvhWriter(path, frame_time_s=1 / 30)
    for frame in range(still_frames + moving_frames):
        raised = max(frame - still_frames + 1, 0) / moving_frames
        pose = posed(skeleton, LeftUpperArm=(0.0, 0.0, -80.0 * (1.0 - raised)), RightUpperArm=(0.0, 0.0, 80.0))
        writer.write(SkeletonPose(frame / 30, skeleton, pose.root_position_m, pose.local_rotations, True,
                                  skeleton_settled=True))
    writer.close()


def decoded(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            return frames
        frames.append(image)


def test_mocap_render_writes_a_video_that_moves_where_the_take_moves(tmp_path: Path) -> None:
    """`mocap render` of a BVH: one video frame per take frame at the chosen size, on the chosen
    key colour; decoded back, frames stay the same while the performer stands still and change
    while the arm rises."""
    take, video = tmp_path / "raise.bvh", tmp_path / "raise.mp4"
    write_arm_raise(take)
    result = run_mocap("render", str(take), "--out", str(video), "--width", "320", "--height", "240",
                       "--background", "blue", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "20 frames (320x240, front view)" in result.stdout
    frames = decoded(video)
    assert len(frames) == 20 and frames[0].shape == (240, 320, 3)
    assert np.abs(frames[0][5, 5].astype(int) - BACKGROUNDS_BGR["blue"]).max() < 12     # the key colour, through MP4
    changes = [float(np.abs(b.astype(int) - a.astype(int)).mean()) for a, b in zip(frames, frames[1:])]
    assert max(changes[:9]) < 0.3 < min(changes[10:]), changes


def test_mocap_render_puts_the_source_video_beside_the_take_and_writes_png_frames(
        demo_capture: DemoCapture, tmp_path: Path) -> None:
    """A landmarks file is solved as `mocap solve` does and drawn beside its source video, into
    a folder of PNG frames, one per captured frame."""
    out = tmp_path / "frames"
    result = run_mocap("render", str(demo_capture.landmarks_path), "--out", str(out), "--video", str(DEMO_VIDEO),
                       "--width", "320", "--height", "240", "--no-progress")
    assert result.returncode == 0, result.stderr
    frames = sorted(out.glob("frame_*.png"))
    source = cv2.VideoCapture(str(DEMO_VIDEO))
    count = int(source.get(cv2.CAP_PROP_FRAME_COUNT))
    source_width = round(240 * source.get(cv2.CAP_PROP_FRAME_WIDTH) / source.get(cv2.CAP_PROP_FRAME_HEIGHT))
    assert len(frames) == count
    picture = cv2.imread(str(frames[count // 2]))
    assert picture.shape == (240, source_width + 320, 3)
    assert len(coloured(picture[:, source_width:], LEFT_BGR)) > 50     # the drawn take on the right


@pytest.mark.parametrize(("arguments", "needles"), [
    (("{tmp}/take.txt", "--out", "{tmp}/x.mp4"), ("cannot draw", ".bvh")),
    (("{tmp}/missing.bvh", "--out", "{tmp}/x.mp4"), ("not found",)),
    (("{tmp}/raise.bvh", "--out", "{tmp}/x.gif"), ("--out", "PNG frames")),
    (("{tmp}/raise.bvh", "--out", "{tmp}/missing/x.mp4"), ("cannot write render output",)),
], ids=["not a take", "missing take", "unknown video type", "missing folder"])
def test_render_mistakes_are_one_line(tmp_path: Path, arguments: tuple[str, ...], needles: tuple[str, ...]) -> None:
    (tmp_path / "take.txt").write_text("notes")
    write_arm_raise(tmp_path / "raise.bvh")
    result = run_mocap("render", *(a.replace("{tmp}", str(tmp_path)) for a in arguments), "--no-progress")
    assert_one_line_error(result, *needles)


class FakeDevice:
    """Stands in for pyvirtualcam's Camera (no v4l2loopback device can exist here): keeps every frame sent."""

    opened: list[FakeDevice] = []

    def __init__(self, width: int, height: int, fps: float, *, fmt: object, **options: object) -> None:
        self.width, self.height, self.fps, self.fmt, self.device = width, height, fps, fmt, "/dev/video7"
        self.frames: list[np.ndarray] = []
        self.closed = False
        FakeDevice.opened.append(self)

    def send(self, frame: np.ndarray) -> None:
        assert frame.shape == (self.height, self.width, 3) and frame.dtype == np.uint8
        self.frames.append(frame.copy())

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_device(monkeypatch: pytest.MonkeyPatch) -> type[FakeDevice]:
    import pyvirtualcam

    FakeDevice.opened = []
    monkeypatch.setattr(pyvirtualcam, "Camera", FakeDevice)
    return FakeDevice


@pytest.mark.unit
def test_the_avatar_feed_sends_bgr_pictures_at_the_asked_size_and_rate(fake_device: type[FakeDevice]) -> None:
    """Poses at 60 a second into a 30 fps virtual camera: every other one goes out, in BGR
    (pyvirtualcam told so), at the camera's size, the performer's left on the image's right."""
    import pyvirtualcam

    from mocap.sinks.virtual_camera import AvatarFeed, VirtualCamera

    camera = VirtualCamera(320, 180, 30.0)
    feed = AvatarFeed(camera, "front")
    skeleton = humanoid_skeleton()
    pose = posed(skeleton)
    for frame in range(12):
        feed.write(SkeletonPose(frame / 60, skeleton, pose.root_position_m, pose.local_rotations, True, True))
    (device,) = fake_device.opened
    assert device.fmt == pyvirtualcam.PixelFormat.BGR and (device.width, device.height, device.fps) == (320, 180, 30.0)
    assert len(device.frames) == 6 == camera.sent_frames
    left, right = coloured(device.frames[0], LEFT_BGR), coloured(device.frames[0], RIGHT_BGR)
    assert left[:, 1].mean() > right[:, 1].mean()
    camera.close()
    camera.close()
    assert device.closed


@pytest.mark.unit
def test_the_avatar_feed_keys_on_the_chosen_colour(fake_device: type[FakeDevice]) -> None:
    """`--virtual-camera-background magenta`: the picture's corners are magenta (for an avatar
    dressed in green), the skeleton drawn over it as ever."""
    from mocap.sinks.virtual_camera import AvatarFeed, VirtualCamera

    feed = AvatarFeed(VirtualCamera(320, 180, 30.0), "front", background_bgr=BACKGROUNDS_BGR["magenta"])
    skeleton = humanoid_skeleton()
    pose = posed(skeleton)
    feed.write(SkeletonPose(0.0, skeleton, pose.root_position_m, pose.local_rotations, True, True))
    (picture,) = fake_device.opened[0].frames
    assert picture[0, 0].tolist() == picture[0, -1].tolist() == [255, 0, 255]
    assert len(coloured(picture, LEFT_BGR)) > 20


@pytest.mark.unit
def test_the_live_views_keys_walk_its_camera_round(fake_device: type[FakeDevice]) -> None:
    """In the live view, 2 puts the camera at the performer's left and j/l walk it 15 degrees
    round; the feed draws from where it stands: a T-pose's arms span the picture from the front
    and shrink to a stub seen end-on from the side."""
    from mocap.display.viewer import turned
    from mocap.sinks.virtual_camera import AvatarFeed, VirtualCamera

    assert turned(0.0, ord("2")) == 90.0 and turned(90.0, ord("l")) == 105.0 and turned(0.0, ord("j")) == 345.0
    assert turned(30.0, ord("x")) == 30.0
    azimuth = {"now": 0.0}
    feed = AvatarFeed(VirtualCamera(320, 180, 30.0), "front", azimuth_deg=lambda: azimuth["now"])
    skeleton = humanoid_skeleton()
    pose = posed(skeleton)
    for frame, degrees in enumerate((0.0, 90.0)):
        azimuth["now"] = degrees
        feed.write(SkeletonPose(frame / 30, skeleton, pose.root_position_m, pose.local_rotations, True, True))
    front, side = fake_device.opened[0].frames
    arm_span = [np.ptp(coloured(picture, LEFT_BGR)[:, 1]) for picture in (front, side)]
    assert arm_span[0] > 3 * arm_span[1], arm_span


@pytest.mark.unit
def test_the_preview_feed_letterboxes_the_camera_image(fake_device: type[FakeDevice]) -> None:
    """A portrait camera image in a landscape virtual camera: scaled to its height, centred on black."""
    from mocap.sinks.virtual_camera import PreviewFeed, VirtualCamera

    camera = VirtualCamera(320, 180, 30.0)
    image = np.full((400, 200, 3), 200, dtype=np.uint8)
    nobody = PoseObservation(0.0, (200, 400), np.full((33, 3), np.nan), None)
    PreviewFeed(camera).write((Frame(image, 0.0, 0), nobody))
    (picture,) = fake_device.opened[0].frames
    assert picture.shape == (180, 320, 3)
    assert picture[:, :100].max() == 0 and picture[:, -100:].max() == 0       # 90 px wide image in the middle
    assert (picture[:, 120:200] == 200).all()


def avatar_pixels(picture: np.ndarray) -> np.ndarray:
    """(rows, columns) of the pixels that are neither the background, the floor grid nor a skeleton's colours."""
    drawn = np.ones(picture.shape[:2], dtype=bool)
    for colour in (CHROMA_GREEN_BGR, GRID_BGR, LEFT_BGR, RIGHT_BGR, CENTRE_BGR, PATH_BGR, CONTACT_BGR, FRUSTUM_BGR):
        drawn &= np.abs(picture.astype(int) - colour).max(axis=2) > 40
    return np.argwhere(drawn)


@pytest.mark.parametrize("rig", [None, "rigs/vrm/Godette_vrm_v4.vrm"], ids=["skeleton", "Godette"])
def test_a_capture_drives_the_virtual_camera_off_the_capture_thread(fake_device: type[FakeDevice], rig: str | None) -> None:
    """`mocap capture --virtual-camera avatar` on the demo clip (20 frames/s) at 10 fps: half the
    frames at most reach the camera (stale poses are dropped, never queued), each a picture of
    the solved skeleton, or with --rig of the avatar's own mesh; the device is closed at the end."""
    from mocap.app.config import CaptureConfig
    from mocap.app.session import run_capture

    config = CaptureConfig().with_overrides({
        "source": {"video": str(DEMO_VIDEO)}, "virtual_camera": {"show": "avatar", "width": 320, "height": 180, "fps": 10.0},
        "rig": {"path": str(shared(rig)) if rig else None},
    })
    summary, opened = run_capture(config, progress=False)
    (device,) = fake_device.opened
    assert opened.virtual_camera is not None and device.closed
    assert 0.3 * summary.frames / 2 <= len(device.frames) <= summary.frames / 2 + 1
    for picture in device.frames[len(device.frames) // 2:]:
        if rig is None:
            assert len(coloured(picture, LEFT_BGR)) > 20
        else:
            assert len(coloured(picture, LEFT_BGR)) == 0 and len(avatar_pixels(picture)) > 300


def test_the_avatar_blinks_in_the_virtual_camera_when_the_performer_does(fake_device: type[FakeDevice],
                                                                          tmp_path: Path) -> None:
    """A tracked face with both eyes shut closes Godette's eyes in the avatar feed: the picture
    changes in one small patch high on her, nowhere else."""
    from mocap.core.frames import NEUTRAL_FACE, FaceExpression
    from mocap.display.avatar_mesh import load_avatar
    from mocap.retargeting.rigs import load_rig
    from mocap.sinks.virtual_camera import AvatarFeed, VirtualCamera

    rig_file = shared("rigs/vrm/Godette_vrm_v4.vrm")
    avatar = load_avatar(load_rig(rig_file), rig_file)
    skeleton = humanoid_skeleton()
    pose = posed(skeleton, **ARMS_DOWN)
    shut = FaceExpression(1.0, 1.0, 0.0, (0.0, 0.0, 0.0, 0.0, 0.0), 0.0, 0.0, 0.0, 0.0)
    for face in (NEUTRAL_FACE, shut):    # a feed each, so the hips' path is the same in both
        feed = AvatarFeed(VirtualCamera(640, 360, 30.0), "front", avatar)
        feed.write(SkeletonPose(0.0, skeleton, pose.root_position_m, pose.local_rotations, True, True, face))
    (neutral,), (blinking,) = (device.frames for device in fake_device.opened)
    cv2.imwrite(str(tmp_path / "blink.png"), np.hstack([neutral, blinking]))
    changed = np.argwhere(np.abs(blinking.astype(int) - neutral.astype(int)).max(axis=2) > 40)
    assert len(changed) > 20
    assert np.ptp(changed[:, 0]) < 30 and np.ptp(changed[:, 1]) < 40       # one small patch: her eyes
    assert changed[:, 0].mean() < avatar_pixels(neutral)[:, 0].mean() - 30   # high on her


def test_a_solved_take_draws_the_avatar_with_its_tracked_face(tmp_path: Path) -> None:
    """Poses solved with the face tracked (as `mocap render` solves a landmarks file) keep their
    faces: Godette is drawn with her eyes open on the frame whose face is neutral and shut on the
    frame whose eyes are; the two pictures differ in one small patch only."""
    from mocap.core.frames import NEUTRAL_FACE, FaceExpression
    from mocap.display.avatar_mesh import load_avatar
    from mocap.display.render_take import posed_take
    from mocap.retargeting.rigs import load_rig

    rig_file = shared("rigs/vrm/Godette_vrm_v4.vrm")
    skeleton = humanoid_skeleton(eyes=True)
    pose = posed(skeleton, **ARMS_DOWN)
    shut = FaceExpression(1.0, 1.0, 0.0, (0.0, 0.0, 0.0, 0.0, 0.0), 0.0, 0.0, 0.0, 0.0)
    take = posed_take([SkeletonPose(frame / 30, skeleton, pose.root_position_m, pose.local_rotations, True, True, face)
                       for frame, face in enumerate((NEUTRAL_FACE, NEUTRAL_FACE, shut))])
    assert take.humanoid is not None and take.humanoid.eyes and take.humanoid.faces == (NEUTRAL_FACE, NEUTRAL_FACE, shut)
    stage = staged(take, load_avatar(load_rig(rig_file), rig_file, eyes=True))
    view = stage.view(ViewSettings(640, 360, "front"))
    still, blinking = stage.picture(view, 1), stage.picture(view, 2)
    cv2.imwrite(str(tmp_path / "blink.png"), np.hstack([still, blinking]))
    changed = np.argwhere(np.abs(blinking.astype(int) - still.astype(int)).max(axis=2) > 40)
    assert len(changed) > 20 and np.ptp(changed[:, 0]) < 30 and np.ptp(changed[:, 1]) < 64   # her eyes


def test_mocap_render_draws_the_avatar_raising_its_left_arm_on_the_image_right(tmp_path: Path) -> None:
    """`mocap render --rig` draws Godette's own mesh posed by the take: seen from the front, the
    pixels that change while the left arm rises lie on the image's right (the performer's left,
    facing the camera), above the hips."""
    take, video = tmp_path / "raise.bvh", tmp_path / "raise.mp4"
    write_arm_raise(take)
    result = run_mocap("render", str(take), "--out", str(video), "--rig", str(shared("rigs/vrm/Godette_vrm_v4.vrm")),
                       "--width", "320", "--height", "240", "--no-progress")
    assert result.returncode == 0, result.stderr
    frames = decoded(video)
    assert len(frames) == 20
    cv2.imwrite(str(tmp_path / "first.png"), frames[0])
    cv2.imwrite(str(tmp_path / "last.png"), frames[-1])
    assert len(avatar_pixels(frames[0])) > 300 and len(coloured(frames[0], LEFT_BGR)) == 0
    changed = np.argwhere(np.abs(frames[-1].astype(int) - frames[0].astype(int)).max(axis=2) > 60)
    assert len(changed) > 50
    assert changed[:, 1].mean() > 160 + 10, changed[:, 1].mean()
    assert changed[:, 0].mean() < 240 / 2


def test_an_avatar_needs_a_take_on_mocaps_humanoid(tmp_path: Path) -> None:
    """A BVH already on the rig's own skeleton cannot pose the avatar again: one line saying what to give."""
    from mocap.retargeting.retarget import Retargeter
    from mocap.retargeting.rigs import load_rig
    from mocap.sinks.rig import RetargetedSink

    rig_file = shared("rigs/vrm/Godette_vrm_v4.vrm")
    take = tmp_path / "on_rig.bvh"
    sink = RetargetedSink(BvhWriter(take, frame_time_s=1 / 30), Retargeter(load_rig(rig_file)))
    skeleton = humanoid_skeleton()
    for frame in range(3):
        pose = posed(skeleton)
        sink.write(SkeletonPose(frame / 30, skeleton, pose.root_position_m, pose.local_rotations, True, True))
    sink.close()
    result = run_mocap("render", str(take), "--out", str(tmp_path / "x.mp4"), "--rig", str(rig_file), "--no-progress")
    assert_one_line_error(result, "not on mocap's humanoid", "landmarks file")


def test_no_virtual_camera_device_is_one_line_saying_how_to_enable_it() -> None:
    """Here no v4l2loopback device exists: pyvirtualcam's own error, and how to load one, in one line."""
    result = run_mocap("capture", "--video", str(DEMO_VIDEO), "--virtual-camera", "preview", "--no-progress")
    assert_one_line_error(result, "no virtual camera", "modprobe v4l2loopback", "OBS")


def test_a_calibrated_take_draws_its_cameras_where_they_stand(tmp_path: Path) -> None:
    """Two desk webcams 2.5 m in front of a performer (a CMU walk seen by virtual cameras): the
    lifter places each camera's pyramid where it stands on the stage (its centre within 5 cm),
    and `mocap render --view left` draws them on the image's left, the performer's front."""
    from mocap.app.config import OFFLINE_CUTOFF_HZ, CaptureConfig
    from mocap.app.session import make_lifter, run_replay
    from mocap.core.conventions import HIP_LANDMARKS
    from mocap.evaluation.accuracy import load_motion
    from mocap.evaluation.camera_views import NO_NOISE, camera_setup, observe, stage_landmarks
    from mocap.formats.calibration_file import save_calibration
    from mocap.formats.landmarks_file import save_landmarks
    from mocap.lifting.multiview import MultiViewLifter

    motion = load_motion(shared("bvh/cmu/02_01_walk.bvh"), 30.0)
    landmarks = stage_landmarks(motion)[:60]
    cameras = camera_setup("desk")
    recording = observe(landmarks, cameras, NO_NOISE, motion.frame_time_s)
    calibration, take = tmp_path / "desk.toml", tmp_path / "walk.npz"
    save_calibration(calibration, cameras)
    save_landmarks(take, recording)
    config = CaptureConfig().with_overrides({"optics": {"calib": str(calibration)}})
    lifter = make_lifter(config, cameras)
    assert isinstance(lifter, MultiViewLifter)
    run_replay(config, recording, progress=False, smooth_hz=OFFLINE_CUTOFF_HZ, lifter=lifter)
    first_hips = landmarks[0, list(HIP_LANDMARKS)].mean(axis=0)
    for camera, frustum in zip(cameras, lifter.camera_frusta()):
        expected = camera.position_m - [first_hips[0], 0.0, first_hips[2]]   # the stage's origin under the first hips
        assert np.linalg.norm(frustum[0] - expected) < 0.05, (frustum[0], expected)
    out = tmp_path / "frames"
    result = run_mocap("render", str(take), "--calib", str(calibration), "--out", str(out), "--view", "left",
                       "--width", "480", "--height", "270", "--no-progress")
    assert result.returncode == 0, result.stderr
    picture = cv2.imread(str(out / "frame_00030.png"))
    cameras_drawn, body = coloured(picture, FRUSTUM_BGR), coloured(picture, LEFT_BGR)
    assert len(cameras_drawn) > 50 and len(body) > 50
    assert cameras_drawn[:, 1].mean() < body[:, 1].mean() - 40
