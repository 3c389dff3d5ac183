"""A posed skeleton, or an avatar's skinned mesh, drawn in 3D as a camera placed in the scene
sees it: the picture `mocap render` and `mocap view` show and `--virtual-camera avatar` sends.

The bones are drawn as thick lines, farthest first, thicker when nearer the camera; the
performer's left side in one colour and the right in another, so a mirrored take shows at a
glance. Under them a floor grid at y = 0, the hips' recent path and the planted feet. The
background is a flat chroma-key colour that OBS keys out. A mesh is drawn triangle by
triangle, farthest first, each in its colour lit from the camera. Plain OpenCV drawing on the
CPU: a few milliseconds a frame for the skeleton, tens for a low-poly avatar (docs/rendering.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from mocap.cameras.camera_model import CameraModel

CHROMA_GREEN_BGR = (64, 177, 0)
BACKGROUNDS_BGR = {"green": CHROMA_GREEN_BGR, "blue": (187, 71, 0), "magenta": (255, 0, 255), "black": (0, 0, 0)}   # key colours
LEFT_BGR = (240, 160, 40)     # the performer's left: blue
RIGHT_BGR = (40, 120, 240)    # their right: orange
CENTRE_BGR = (235, 235, 235)
GRID_BGR = (40, 120, 20)
PATH_BGR = (30, 230, 230)
CONTACT_BGR = (20, 20, 200)   # a planted foot's mark on the floor: red
FRUSTUM_BGR = (200, 60, 200)  # a camera: magenta
PATH_S = 3.0                  # the hips' path drawn under the skeleton, seconds
BONE_RADIUS_M = 0.035
_SHIFT = 4                     # triangle corners drawn to 1/16 pixel
_SUBPIXELS = 1 << _SHIFT
VIEW_AZIMUTHS_DEG = {"front": 0.0, "left": 90.0, "back": 180.0, "right": -90.0}   # round from the front toward their left
VIEWS = tuple(VIEW_AZIMUTHS_DEG)   # where the camera stands, seen from the performer facing +Z


@dataclass(frozen=True)
class ViewSettings:
    """The picture: size in pixels, the camera's side of the performer, its lens and the background."""

    width: int = 1280
    height: int = 720
    view: str = "front"
    horizontal_fov_deg: float = 50.0
    background_bgr: tuple[int, int, int] = CHROMA_GREEN_BGR


def framing_camera(settings: ViewSettings, target_m: NDArray[np.float64], height_m: float,
                   azimuth_deg: float | None = None) -> CameraModel:
    """A camera on ``settings.view``'s side of ``target_m`` (the performer faces +Z, their left is
    +X), or ``azimuth_deg`` round from the front toward their left, looking at it from a little
    above (the floor shows as a floor), far enough that ``height_m`` of the scene fills 80% of
    the picture's height."""
    if settings.view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}")
    turn = np.radians(VIEW_AZIMUTHS_DEG[settings.view] if azimuth_deg is None else azimuth_deg)
    camera = CameraModel.from_field_of_view((settings.width, settings.height), settings.horizontal_fov_deg)
    distance_m = max(height_m, 0.5) * camera.matrix[1, 1] / (0.8 * settings.height)
    direction = np.array([np.sin(turn), 0.2, np.cos(turn)])
    return camera.looking_at(settings.view, np.asarray(target_m, dtype=np.float64) + distance_m * direction, target_m)


def side_colours(names: tuple[str, ...]) -> list[tuple[int, int, int]]:
    """Each joint's colour by the side its name says (``Left``/``Right``, any case; centre otherwise)."""
    def colour(name: str) -> tuple[int, int, int]:
        lower = name.lower()
        return LEFT_BGR if "left" in lower else RIGHT_BGR if "right" in lower else CENTRE_BGR
    return [colour(name) for name in names]


class SceneView:
    """Draws pose after pose of a skeleton (``names``, ``parents``: -1 for a root), or of a mesh,
    through ``camera``, over a floor grid around ``floor_centre_m`` (its y is ignored: the floor is
    y = 0) and the capture's cameras (``frusta_m``: each its centre and image corners, (5, 3))."""

    def __init__(
        self, names: tuple[str, ...], parents: tuple[int, ...], camera: CameraModel, settings: ViewSettings,
        floor_centre_m: NDArray[np.float64], *, grid_step_m: float = 0.5, grid_half_m: float = 3.0,
        frusta_m: tuple[NDArray[np.float64], ...] = (),
    ) -> None:
        self.camera = camera
        self.settings = settings
        self._parents = np.array(parents)
        self._bones = np.array([joint for joint, parent in enumerate(parents) if parent >= 0], dtype=np.intp)
        self._colours = side_colours(names)
        self._focal_px = float(camera.matrix[1, 1])
        self._focal_xy = camera.matrix[[0, 1], [0, 1]]
        self._centre_xy = camera.matrix[[0, 1], [2, 2]]
        self._world_to_camera = camera.rotation.as_matrix()
        self._background = self._floor_grid(np.asarray(floor_centre_m, dtype=np.float64), grid_step_m, grid_half_m)
        for frustum in frusta_m:   # the apex to each corner, then round the image
            for corner in frustum[1:]:
                self._polyline(self._background, np.stack([frustum[0], corner]), FRUSTUM_BGR, 2)
            self._polyline(self._background, frustum[[1, 2, 3, 4, 1]], FRUSTUM_BGR, 2)

    def _projected(self, points_m: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Pixels (N, 2) and distances along the camera's axis (N,; metres) of world points (N, 3):
        a pinhole without distortion, as the view's camera is (cv2.projectPoints costs 20 times more)."""
        in_camera = points_m @ self._world_to_camera.T + self.camera.translation_m
        depth = in_camera[:, 2]
        pixels = in_camera[:, :2] / np.where(np.abs(depth) > 1e-9, depth, 1e-9)[:, None] * self._focal_xy + self._centre_xy
        return pixels, depth

    def _floor_grid(self, centre: NDArray[np.float64], step_m: float, half_m: float) -> NDArray[np.uint8]:
        """The background with the floor grid (y = 0) around ``centre``."""
        s = self.settings
        image = np.empty((s.height, s.width, 3), dtype=np.uint8)
        image[:] = s.background_bgr
        ticks = np.arange(-half_m, half_m + 1e-9, step_m)
        along = np.linspace(-half_m, half_m, 61)   # lines in short pieces, so the part behind the camera drops out
        for tick in ticks:
            for line in (np.stack([centre[0] + along, np.zeros_like(along), np.full_like(along, centre[2] + tick)], 1),
                         np.stack([np.full_like(along, centre[0] + tick), np.zeros_like(along), centre[2] + along], 1)):
                self._polyline(image, line, GRID_BGR, 1)
        return image

    def _polyline(self, image: NDArray[np.uint8], points_m: NDArray[np.float64], colour: tuple[int, int, int], thickness: int) -> None:
        """Draws the pieces of a 3D polyline that lie in front of the camera."""
        pixels, depth = self._projected(points_m)
        in_front = depth > 0.1
        for start in range(len(points_m) - 1):
            if in_front[start] and in_front[start + 1]:
                cv2.line(image, _pixel(pixels[start]), _pixel(pixels[start + 1]), colour, thickness, cv2.LINE_AA)

    def _ground(self, path_m: NDArray[np.float64] | None, planted_m: NDArray[np.float64] | None) -> NDArray[np.uint8]:
        """The background with the hips' path (points, 3) and the planted feet (feet, 3) marked on the floor."""
        image = self._background.copy()
        if path_m is not None:
            path = path_m[np.isfinite(path_m).all(axis=1)] * [1.0, 0.0, 1.0]
            path = path[np.r_[True, np.abs(np.diff(path, axis=0)).max(axis=1, initial=0.0) > 1e-4]]   # a still body: one point
            if len(path) > 1:
                self._polyline(image, path, PATH_BGR, 2)
        for foot in [] if planted_m is None else planted_m:
            ring = np.radians(np.arange(0, 361, 30))
            circle = np.stack([foot[0] + 0.08 * np.cos(ring), np.zeros_like(ring), foot[2] + 0.08 * np.sin(ring)], 1)
            pixels, depth = self._projected(circle)
            if (depth > 0.1).all():
                cv2.fillPoly(image, [np.round(pixels).astype(np.int32)], CONTACT_BGR, cv2.LINE_AA)
        return image

    def skeleton(self, positions_m: NDArray[np.float64], *, path_m: NDArray[np.float64] | None = None,
                 planted_m: NDArray[np.float64] | None = None) -> NDArray[np.uint8]:
        """The picture (height, width, 3; BGR) of the joints at ``positions_m`` (joints, 3; metres,
        NaN where unknown); ``path_m``: (points, 3) the hips' recent path, drawn on the floor;
        ``planted_m``: (feet, 3) planted feet, marked on the floor under them."""
        image = self._ground(path_m, planted_m)
        ends = positions_m[self._bones]
        starts = positions_m[self._parents[self._bones]]
        known = np.isfinite(ends).all(axis=1) & np.isfinite(starts).all(axis=1)
        bones, starts, ends = self._bones[known], starts[known], ends[known]
        if not len(bones):
            return image
        (start_px, start_depth), (end_px, end_depth) = self._projected(starts), self._projected(ends)
        in_front = (start_depth > 0.1) & (end_depth > 0.1)
        for bone in np.argsort(-(start_depth + end_depth)):   # farthest first: nearer bones cover them
            if not in_front[bone]:
                continue
            thickness = max(int(2.0 * BONE_RADIUS_M * self._focal_px / end_depth[bone]), 2)
            colour = self._colours[bones[bone]]
            cv2.line(image, _pixel(start_px[bone]), _pixel(end_px[bone]), colour, thickness, cv2.LINE_AA)
            cv2.circle(image, _pixel(end_px[bone]), max(thickness // 2 + 1, 2), colour, -1, cv2.LINE_AA)
        return image

    def mesh(self, vertices_m: NDArray[np.float64], triangles: NDArray[np.intp], colours_bgr: NDArray[np.uint8],
             double_sided: NDArray[np.bool_], *, path_m: NDArray[np.float64] | None = None,
             planted_m: NDArray[np.float64] | None = None) -> NDArray[np.uint8]:
        """The picture of a mesh: ``vertices_m`` (vertices, 3; metres), ``triangles`` (triangles, 3;
        counter-clockwise seen from their front, as glTF's) each in its colour, lit from the
        camera, farthest first; a triangle seen from behind is left out unless ``double_sided``.
        The ground as :meth:`skeleton` draws it."""
        image = self._ground(path_m, planted_m)
        corners = vertices_m[triangles]                                   # (triangles, 3, 3)
        flat_pixels, flat_depth = self._projected(corners.reshape(-1, 3))
        pixels, depth = flat_pixels.reshape(-1, 3, 2), flat_depth.reshape(-1, 3)
        edges = pixels[:, 1:] - pixels[:, :1]
        seen_from_behind = edges[:, 0, 0] * edges[:, 1, 1] - edges[:, 1, 0] * edges[:, 0, 1] > 0   # corners turning the other way on the picture
        drawn = (depth > 0.1).all(axis=1) & (double_sided | ~seen_from_behind)
        normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        towards_camera = self.camera.position_m - corners.mean(axis=1)
        facing = np.abs(np.sum(normals * towards_camera, axis=1)) / np.maximum(
            np.linalg.norm(normals, axis=1) * np.linalg.norm(towards_camera, axis=1), 1e-12)
        shaded = (colours_bgr * (0.45 + 0.55 * facing)[:, None]).astype(np.uint8)
        order = np.flatnonzero(drawn)[np.argsort(-depth[drawn].mean(axis=1))]          # farthest first
        corners_px = np.round(pixels[order] * _SUBPIXELS).astype(np.int32)
        for triangle, colour in zip(corners_px, shaded[order].tolist()):
            cv2.fillConvexPoly(image, triangle, colour, cv2.LINE_8, _SHIFT)
        return image


def _pixel(point: NDArray[np.float64]) -> tuple[int, int]:
    return int(round(float(np.clip(point[0], -1e5, 1e5)))), int(round(float(np.clip(point[1], -1e5, 1e5))))
