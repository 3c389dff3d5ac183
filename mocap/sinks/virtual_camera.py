"""A virtual camera for OBS and video calls, through pyvirtualcam (v4l2loopback on Linux, OBS
Virtual Camera on Windows and macOS).

Two feeds: the avatar (the solved skeleton drawn on chroma-key green, :mod:`mocap.display.scene_view`)
or the preview (the camera image with the landmarks drawn on). Each runs on its own thread
behind a one-pose queue (:class:`~mocap.sinks.background.BackgroundSink`), so drawing never
slows capture and a stale pose is dropped for the newest. Frames go out at most ``fps`` a
second, paced by the poses' own timestamps.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from mocap.core.errors import MocapError
from mocap.core.frames import Frame, PoseObservation, SkeletonPose
from mocap.display.avatar_mesh import AvatarPoser
from mocap.display.preview import draw_skeleton
from mocap.display.scene_view import CHROMA_GREEN_BGR, PATH_S, SceneView, ViewSettings, framing_camera
from mocap.sinks.rig import performer_hip_height_m

HOW_TO_ENABLE = ("on Linux load v4l2loopback (sudo modprobe v4l2loopback exclusive_caps=1 card_label=mocap); "
                 "on Windows and macOS install OBS Studio and start its Virtual Camera once")
LIVE_FRAMING_HEIGHT_M = 2.0   # framed live, around the origin where the performer is first seen (floor at y = 0)


def open_pyvirtualcam(width: int, height: int, fps: float) -> Any:
    """pyvirtualcam's camera taking BGR frames; a :class:`MocapError` saying how to enable one if none is there."""
    import pyvirtualcam

    try:
        return pyvirtualcam.Camera(width, height, fps, fmt=pyvirtualcam.PixelFormat.BGR)
    except RuntimeError as error:
        reason = " ".join(str(error).split())
        raise MocapError(f"no virtual camera ({reason}): {HOW_TO_ENABLE}") from None


class VirtualCamera:
    """Sends BGR pictures of any size to a virtual camera of ``width`` x ``height`` pixels,
    letterboxed; at most ``fps`` a second by the timestamps given. ``device``: where they go
    (anything with ``send(picture)`` and ``close()``: the live viewer's window); by default a
    pyvirtualcam camera, opened here."""

    def __init__(self, width: int, height: int, fps: float, device: Any = None) -> None:
        self.width, self.height, self.fps = width, height, fps
        self._device: Any = device if device is not None else open_pyvirtualcam(width, height, fps)
        self._last_sent_s: float | None = None
        self.sent_frames = 0
        self.device_name = str(getattr(self._device, "device", "virtual camera"))

    def due(self, timestamp_s: float) -> bool:
        """Whether a picture of ``timestamp_s`` should go out (a frame period since the last, within 1 ms)."""
        return self._last_sent_s is None or timestamp_s - self._last_sent_s >= 1.0 / self.fps - 1e-3

    def send(self, image_bgr: NDArray[np.uint8], timestamp_s: float) -> None:
        """Sends the picture, scaled to fit and centred on black."""
        height, width = image_bgr.shape[:2]
        if (width, height) != (self.width, self.height):
            scale = min(self.width / width, self.height / height)
            size = (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1))
            framed = np.zeros((self.height, self.width, 3), dtype=np.uint8)
            left, top = (self.width - size[0]) // 2, (self.height - size[1]) // 2
            framed[top:top + size[1], left:left + size[0]] = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA)
            image_bgr = framed
        if self._device is None:
            return
        self._device.send(np.ascontiguousarray(image_bgr))
        self._last_sent_s = timestamp_s
        self.sent_frames += 1

    def close(self) -> None:
        """Closes the device (once; a second call does nothing)."""
        if self._device is not None:
            self._device.close()
            self._device = None


class AvatarFeed:
    """A pose sink: each pose drawn from ``view``'s camera as ``avatar``'s mesh posed by it (its
    face's expressions on the mesh's blend shapes when the face is tracked), or as the skeleton
    it solves to."""

    def __init__(self, camera: VirtualCamera, view: str, avatar: AvatarPoser | None = None,
                 background_bgr: tuple[int, int, int] = CHROMA_GREEN_BGR,
                 azimuth_deg: Callable[[], float] | None = None) -> None:
        self.camera = camera
        self.avatar = avatar
        self._settings = ViewSettings(camera.width, camera.height, view, background_bgr=background_bgr)
        self._azimuth_deg = azimuth_deg     # where the camera stands now (the live view's keys turn it), else on view's side
        self._views: dict[tuple[tuple[str, ...], float | None], SceneView] = {}   # by joint names and azimuth
        self._path: deque[tuple[float, NDArray[np.float64]]] = deque()   # (time s, the hips' position)

    def write(self, pose: SkeletonPose) -> None:
        if not self.camera.due(pose.timestamp_s):
            return
        skeleton = pose.skeleton
        azimuth_deg = self._azimuth_deg() if self._azimuth_deg is not None else None
        view = self._views.get((skeleton.names, azimuth_deg))
        if view is None:
            height_m = max(LIVE_FRAMING_HEIGHT_M, 1.1 * self.avatar.height_m if self.avatar is not None else 0.0)
            target = np.array([0.0, height_m / 2.0, 0.0])
            camera = framing_camera(self._settings, target, height_m, azimuth_deg)
            view = SceneView(skeleton.names, skeleton.parents, camera, self._settings, target)
            self._views[(skeleton.names, azimuth_deg)] = view
        self._path.append((pose.timestamp_s, pose.root_position_m))
        while self._path[0][0] < pose.timestamp_s - PATH_S:
            self._path.popleft()
        path = np.array([hips for _, hips in self._path])
        if self.avatar is None:
            _, positions = skeleton.forward_kinematics(pose.local_rotations, pose.root_position_m)
            picture = view.skeleton(positions, path_m=path)
        else:
            picture = self.avatar.picture(view, pose.local_rotations, pose.root_position_m, performer_hip_height_m(pose),
                                          pose.face, path_m=path)
        self.camera.send(picture, pose.timestamp_s)

    def close(self) -> None:
        """Nothing: the camera is closed by whoever opened it."""


class PreviewFeed:
    """Takes (frame, the first camera's observation): the camera image with the landmarks drawn on."""

    def __init__(self, camera: VirtualCamera) -> None:
        self.camera = camera

    def write(self, seen: tuple[Frame, PoseObservation]) -> None:
        frame, observation = seen
        if self.camera.due(frame.timestamp_s):
            self.camera.send(draw_skeleton(cv2.cvtColor(frame.image_rgb, cv2.COLOR_RGB2BGR), observation), frame.timestamp_s)

    def close(self) -> None:
        """Nothing: the camera is closed by whoever opened it."""
