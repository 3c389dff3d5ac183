"""Hand landmarks from a posed hand, for judging the finger solve against known rotations."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.skeleton import FINGERS, PHALANX_LENGTHS_M, Skeleton, finger_rest_direction


def posed_hand_landmarks(
    skeleton: Skeleton, local_rotations: Rotation, root_position_m: NDArray[np.float64], side: str
) -> NDArray[np.float64]:
    """MediaPipe's 21 landmarks (wrist, then each finger's joints and tip, thumb first; metres,
    world axes) of the ``side`` hand of ``skeleton`` (with fingers) posed by ``local_rotations``."""
    world, positions = skeleton.forward_kinematics(local_rotations, root_position_m)
    index = {name: i for i, name in enumerate(skeleton.names)}
    scale = np.linalg.norm(skeleton.rest_offsets_m[index[f"{side}IndexIntermediate"]]) / PHALANX_LENGTHS_M["Index"][0]
    points = [positions[index[f"{side}Hand"]]]
    for finger in FINGERS:
        bones = [index[f"{side}{finger}{phalanx}"] for phalanx in ("Proximal", "Intermediate", "Distal")]
        tip = world[bones[2]].apply(scale * PHALANX_LENGTHS_M[finger][2] * finger_rest_direction(finger, side))
        points += [positions[bone] for bone in bones] + [positions[bones[2]] + tip]
    return np.array(points)
