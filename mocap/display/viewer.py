"""`mocap view`: a take in a window, drawn as `mocap render` draws it, to play, pause, step,
scrub and look at from each side; and `mocap capture --viewer`, the live capture's own 3D view."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
from numpy.typing import NDArray

from mocap.core.errors import MocapError, note
from mocap.core.frames import Frame, Observations
from mocap.display.preview import has_display
from mocap.display.render_take import StagedTake
from mocap.display.scene_view import VIEW_AZIMUTHS_DEG, SceneView, ViewSettings
from mocap.sources.sync import FrameSet

VIEWER_TITLE = "mocap view (space: play/pause, a/d or arrows: step, j/l: turn, 1-4: front/left/back/right, q/Esc: quit)"
STEP_BACK_KEYS = {ord("a"), 65361, 2424832, 63234}      # a, and the left arrow on GTK, Windows, macOS
STEP_ON_KEYS = {ord("d"), 65363, 2555904, 63235}        # d, and the right arrow
VIEW_KEYS = {ord("1"): "front", ord("2"): "left", ord("3"): "back", ord("4"): "right"}
TURN_KEYS_DEG = {ord("j"): -15.0, ord("l"): 15.0}      # the camera walks round the performer
QUIT_KEYS = {ord("q"), 27}


LIVE_TITLE = "mocap live view (q or Esc to stop)"


class LiveWindow:
    """The capture's 3D view (``--viewer``): the drawing thread hands pictures in (:meth:`send`,
    as to a virtual camera), and the capture thread shows the newest (:meth:`show`, where the
    preview window is shown too). Keys as in `mocap view`: 1-4 put the camera on a side, j/l walk
    it round (:attr:`azimuth_deg`, which the drawing reads); q or Esc stops the capture as Ctrl-C would."""

    device = "the live view window"

    def __init__(self, view: str = "front") -> None:
        self._newest: NDArray[np.uint8] | None = None
        self._lock = threading.Lock()
        self._shown = False
        self.azimuth_deg = VIEW_AZIMUTHS_DEG[view]   # where the camera stands, round from the performer's front

    @classmethod
    def open_if_possible(cls, view: str = "front") -> LiveWindow | None:
        if not has_display():
            note("no display found; running without --viewer")
            return None
        return cls(view)

    def send(self, picture: NDArray[np.uint8]) -> None:
        with self._lock:
            self._newest = picture

    def show(self, frame: Frame | FrameSet, observations: Observations) -> None:
        with self._lock:
            picture, self._newest = self._newest, None
        if picture is not None:
            cv2.imshow(LIVE_TITLE, picture)
            self._shown = True
        key = cv2.waitKey(1) & 0xFF if self._shown else -1
        if key in QUIT_KEYS:
            raise KeyboardInterrupt
        self.azimuth_deg = turned(self.azimuth_deg, key)

    def close(self) -> None:
        if self._shown:
            cv2.destroyWindow(LIVE_TITLE)
            self._shown = False


def turned(azimuth_deg: float, key: int) -> float:
    """The camera's azimuth after ``key``: a side for 1-4, 15 degrees round for j/l, else as it was."""
    if key in VIEW_KEYS:
        return VIEW_AZIMUTHS_DEG[VIEW_KEYS[key]]
    if key in TURN_KEYS_DEG:
        return (azimuth_deg + TURN_KEYS_DEG[key]) % 360.0
    return azimuth_deg


def require_display() -> None:
    """A :class:`MocapError` when there is no screen to open a window on (Linux without X or Wayland)."""
    if not has_display():
        raise MocapError("no display to open the viewer on (DISPLAY is not set): "
                         "write a video instead with `mocap render TAKE --out take.mp4`")


def view_take(stage: StagedTake, settings: ViewSettings) -> tuple[int, float]:
    """Shows the take, paused on its first frame, from ``settings.view``'s side, until q, Esc or
    the window is closed; returns the frame shown last and the camera's azimuth then (degrees
    round from the front toward the performer's left)."""
    require_display()
    frames = len(stage.positions_m)
    views: dict[float, SceneView] = {}     # by the camera's azimuth, degrees
    frame, playing, azimuth_deg = 0, False, VIEW_AZIMUTHS_DEG[settings.view]
    cv2.namedWindow(VIEWER_TITLE)
    cv2.createTrackbar("frame", VIEWER_TITLE, 0, max(frames - 1, 1), lambda position: None)
    next_frame_s = time.monotonic()
    while True:
        view = views.get(azimuth_deg)
        if view is None:
            view = views[azimuth_deg] = stage.view(settings, azimuth_deg)
        cv2.imshow(VIEWER_TITLE, stage.picture(view, frame))
        wait_ms = max(int(1000 * (next_frame_s - time.monotonic())), 1) if playing else 50
        key = cv2.waitKeyEx(wait_ms)
        if key in QUIT_KEYS or cv2.getWindowProperty(VIEWER_TITLE, cv2.WND_PROP_VISIBLE) < 1:
            break
        scrubbed = cv2.getTrackbarPos("frame", VIEWER_TITLE)
        if key == ord(" "):
            playing, next_frame_s = not playing, time.monotonic()
        elif key in STEP_BACK_KEYS or key in STEP_ON_KEYS:
            playing = False
            frame = min(max(frame + (1 if key in STEP_ON_KEYS else -1), 0), frames - 1)
        elif key in VIEW_KEYS or key in TURN_KEYS_DEG:
            azimuth_deg = turned(azimuth_deg, key)
        elif scrubbed != frame:
            frame, playing = min(scrubbed, frames - 1), False
        elif playing and time.monotonic() >= next_frame_s:
            frame = (frame + 1) % frames
            next_frame_s += stage.take.frame_time_s
        cv2.setTrackbarPos("frame", VIEWER_TITLE, frame)
    cv2.destroyAllWindows()
    return frame, azimuth_deg

