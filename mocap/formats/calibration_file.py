"""The aniposelib-style calibration TOML, read and written.

Layout (the one Pose2Sim, FreeMoCap and Caliscope read): one ``[cam_N]`` table per camera
with ``name``, ``size`` = [width, height] pixels, ``matrix`` (3x3 intrinsics, pixels),
``distortions`` (OpenCV coefficients), ``rotation`` (Rodrigues vector) and ``translation``
(metres), world -> camera. Tables without a ``matrix`` (Pose2Sim's ``[metadata]``) are skipped.
The Rodrigues vector exists here only: in memory a camera's pose is a scipy ``Rotation``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tomli_w
from scipy.spatial.transform import Rotation

from mocap.cameras.camera_model import CameraModel
from mocap.core.errors import MocapError
from mocap.formats.toml_files import read_toml


def load_calibration(path: Path) -> list[CameraModel]:
    """Cameras from an aniposelib/Pose2Sim calibration TOML, in file order."""
    table = read_toml(path, kind="calibration file", option="--calib")
    cameras = []
    for key, entry in table.items():
        if not isinstance(entry, dict) or "matrix" not in entry:
            continue
        try:
            cameras.append(
                CameraModel(
                    name=str(entry.get("name", key)),
                    image_size=(int(entry["size"][0]), int(entry["size"][1])),
                    matrix=np.array(entry["matrix"], dtype=np.float64).reshape(3, 3),
                    distortion=np.array(entry.get("distortions", []), dtype=np.float64),
                    rotation=Rotation.from_rotvec(np.array(entry.get("rotation", [0, 0, 0]), dtype=np.float64).reshape(3)),
                    translation_m=np.array(entry.get("translation", [0, 0, 0]), dtype=np.float64).reshape(3),
                )
            )
        except (KeyError, ValueError, TypeError) as error:
            raise MocapError(
                f"calibration file {path}: camera [{key}] is malformed ({error}); it needs size, "
                "matrix (3x3), distortions, rotation and translation"
            ) from None
    if not cameras:
        raise MocapError(f"calibration file {path} holds no camera: expected [cam_N] tables with a 'matrix'")
    return cameras


def save_calibration(path: Path, cameras: list[CameraModel]) -> None:
    """Write cameras in the aniposelib TOML layout (written by tomli-w, so any camera name reads back)."""
    tables = {
        f"cam_{number}": {
            "name": camera.name,
            "size": [int(camera.image_size[0]), int(camera.image_size[1])],
            "matrix": np.asarray(camera.matrix, dtype=np.float64).tolist(),
            "distortions": np.asarray(camera.distortion, dtype=np.float64).tolist(),
            "rotation": camera.rotation.as_rotvec().tolist(),   # Rodrigues vector, as the layout has it
            "translation": np.asarray(camera.translation_m, dtype=np.float64).tolist(),
        }
        for number, camera in enumerate(cameras)
    }
    path.write_text(tomli_w.dumps(tables), encoding="utf-8")
