"""Reading TRC marker files (OpenSim / Pose2Sim): named 3D markers per frame."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mocap.core.errors import MocapError


@dataclass(frozen=True)
class MarkerTrajectories:
    names: tuple[str, ...]
    positions: NDArray[np.float64]   # (frames, markers, 3) in the file's units and axes
    rate_hz: float
    units: str

    def marker(self, name: str) -> NDArray[np.float64]:
        """(frames, 3) of one marker."""
        return self.positions[:, self.names.index(name)]


def read_trc(path: Path) -> MarkerTrajectories:
    """A TRC file: header lines, then Frame#, Time and X Y Z per marker on each row."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        values = dict(zip(lines[1].split("\t"), lines[2].split("\t")))
        names = tuple(name for name in lines[3].split("\t")[2:] if name.strip())
        table = np.loadtxt(path, skiprows=5, ndmin=2)
    except (OSError, IndexError, ValueError) as error:
        raise MocapError(f"cannot read TRC file {path}: {error}") from None
    positions = table[:, 2:2 + 3 * len(names)].reshape(len(table), len(names), 3)
    return MarkerTrajectories(names, positions, float(values.get("DataRate", "nan")), values.get("Units", "m"))


# Pose2Sim's demo TRC is Y-up with (X, Y, Z) = its calibration's Z-up world (Y, Z, X):
# calibration axes are the TRC's columns in this order.
TRC_TO_CALIBRATION_AXES = (2, 0, 1)

# Pose2Sim's marker names for the BlazePose landmarks both skeletons have.
POSE2SIM_MARKERS: dict[str, str] = {
    f"{side}_{joint}": f"{side[0].upper()}{joint.capitalize()}"
    for side in ("left", "right")
    for joint in ("hip", "knee", "ankle", "heel", "shoulder", "elbow", "wrist")
} | {"nose": "Nose"}


def landmark_errors_mm(
    points_m: NDArray[np.float64], reference: MarkerTrajectories, axes: tuple[int, int, int] = (0, 1, 2)
) -> dict[str, NDArray[np.float64]]:
    """Per-frame distance (mm) of each landmark in ``points_m`` (frames, 33, 3) to its reference
    marker, the reference's axes taken in the order ``axes`` to match the points' frame."""
    from mocap.core.conventions import LANDMARK_INDEX

    errors = {}
    for landmark, marker in POSE2SIM_MARKERS.items():
        if marker in reference.names:
            expected = reference.marker(marker)[:, list(axes)]
            errors[landmark] = 1000.0 * np.linalg.norm(points_m[:, LANDMARK_INDEX[landmark]] - expected, axis=1)
    return errors
