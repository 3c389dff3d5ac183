"""Calibration boards (ChArUco and checkerboard) and finding them in images.

Board corners are numbered row by row; their coordinates lie in the board's plane (z = 0),
in metres, as OpenCV defines them. A detection is the ids of the corners found and where
they are in the image (pixels).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from mocap.core.errors import MocapError

MIN_CHARUCO_CORNERS = 6


@dataclass(frozen=True)
class Detection:
    ids: NDArray[np.int_]                 # (K,) corner numbers
    image_points: NDArray[np.float64]     # (K, 2) pixels


@dataclass(frozen=True)
class BoardSpec:
    """A board, every dimension explicit.

    ``kind``: "charuco" or "checkerboard". ``columns`` x ``rows``: squares for ChArUco
    (e.g. 5 x 7), inner corners for a checkerboard (e.g. 9 x 6). ``square_m``: side of a
    square, metres. ``marker_m`` and ``dictionary`` (an OpenCV name such as DICT_6X6_250):
    ChArUco only.
    """

    kind: str
    columns: int
    rows: int
    square_m: float
    marker_m: float | None = None
    dictionary: str = "DICT_6X6_250"

    def __post_init__(self) -> None:
        if self.kind not in ("charuco", "checkerboard"):
            raise MocapError(f"unknown board kind '{self.kind}': use charuco or checkerboard")
        if self.columns < 2 or self.rows < 2 or self.square_m <= 0:
            raise MocapError("a board needs at least 2 x 2 squares or corners and a square size above 0 metres")
        if self.kind == "charuco":
            if self.columns < 3 or self.rows < 3:
                raise MocapError("a ChArUco board needs at least 3 x 3 squares")
            if self.marker_m is None or not 0 < self.marker_m < self.square_m:
                raise MocapError("a ChArUco board needs --marker-size in metres, smaller than --square-size")
            if not hasattr(cv2.aruco, self.dictionary):
                raise MocapError(f"unknown ArUco dictionary '{self.dictionary}': use an OpenCV name such as DICT_6X6_250")

    @property
    def corner_grid(self) -> tuple[int, int]:
        """(columns, rows) of the corners that are detected."""
        if self.kind == "charuco":
            return self.columns - 1, self.rows - 1
        return self.columns, self.rows

    @property
    def symmetric(self) -> bool:
        """A checkerboard whose corner counts have the same parity looks the same turned by
        180 degrees, so its corner order can flip between views. ChArUco boards never flip."""
        return self.kind == "checkerboard" and (self.columns - self.rows) % 2 == 0

    def object_points(self) -> NDArray[np.float64]:
        """(corners, 3) corner positions on the board, metres, row by row."""
        columns, rows = self.corner_grid
        grid = np.mgrid[0:columns, 0:rows].T.reshape(-1, 2).astype(np.float64)
        offset = 1.0 if self.kind == "charuco" else 0.0  # ChArUco corners start one square in
        points = np.zeros((columns * rows, 3))
        points[:, :2] = (grid + offset) * self.square_m
        return points

    def neighbours(self) -> NDArray[np.int_]:
        """(pairs, 2) ids of corners one square apart."""
        columns, rows = self.corner_grid
        ids = np.arange(columns * rows).reshape(rows, columns)
        across = np.stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()], axis=1)
        down = np.stack([ids[:-1, :].ravel(), ids[1:, :].ravel()], axis=1)
        return np.concatenate([across, down])

    def reversed_ids(self, ids: NDArray[np.int_]) -> NDArray[np.int_]:
        """The ids the same corners have on the board turned by 180 degrees."""
        columns, rows = self.corner_grid
        return columns * rows - 1 - ids


class BoardDetector:
    """Finds a board's corners in grayscale images."""

    def __init__(self, board: BoardSpec) -> None:
        self.board = board
        if board.kind == "charuco":
            dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, board.dictionary))
            assert board.marker_m is not None   # BoardSpec requires it for ChArUco
            charuco = cv2.aruco.CharucoBoard((board.columns, board.rows), board.square_m, board.marker_m, dictionary)
            self._charuco = cv2.aruco.CharucoDetector(charuco)

    def detect(self, gray: NDArray[np.uint8]) -> Detection | None:
        """The corners found, or None when the board is not (sufficiently) in view."""
        if self.board.kind == "charuco":
            corners, ids, _, _ = self._charuco.detectBoard(gray)
            if ids is None or len(ids) < MIN_CHARUCO_CORNERS:
                return None
            return Detection(ids.reshape(-1).astype(int), corners.reshape(-1, 2).astype(np.float64))
        pattern = self.board.corner_grid
        found, corners = cv2.findChessboardCorners(
            gray, pattern, flags=cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
        )
        if not found:
            return None
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.001)
        corners = cv2.cornerSubPix(gray, corners, (11, 11), (-1, -1), criteria)
        return Detection(np.arange(len(corners)), corners.reshape(-1, 2).astype(np.float64))
