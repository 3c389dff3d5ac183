"""When the performer leaves the view, the avatar holds, then eases back to rest; never snaps."""

from __future__ import annotations

import numpy as np
from conftest import DEMO_CALIBRATION, DEMO_VIDEO

from mocap.app.config import CaptureConfig
from mocap.app.session import (
    build_pipeline,
    calibrated_cameras,
    make_estimator,
    make_lifter,
)
from mocap.core.frames import Frame
from mocap.core.pipeline import PoseCollector
from mocap.sources.frame_sources import VideoFileSource


def test_empty_frames_hold_then_ease_to_rest() -> None:
    with VideoFileSource(DEMO_VIDEO) as source:
        seen = [frame for frame, _ in zip(source, range(60))]
    empty = [Frame(np.zeros_like(seen[0].image_rgb), (60 + i) / 20.0, 60 + i) for i in range(60)]
    config = CaptureConfig().with_overrides({"optics": {"calib": str(DEMO_CALIBRATION)}})
    collect = PoseCollector()
    pipeline = build_pipeline(
        config, estimator=make_estimator(config, 1), lifter=make_lifter(config, calibrated_cameras(config, 1)), sinks=[collect]
    )
    pipeline.run(seen + empty)

    poses = collect.poses
    assert all(p.tracked for p in poses[:60]) and not any(p.tracked for p in poses[60:])
    angles = np.degrees(np.array([p.local_rotations.magnitude() for p in poses]))  # (frames, bones)
    steps = np.degrees(np.array([
        (a.local_rotations.inv() * b.local_rotations).magnitude() for a, b in zip(poses[59:], poses[60:])
    ]))
    assert steps.max() < 10.0                                  # no snap: at most 10 degrees a frame
    assert np.allclose(angles[63], angles[59], atol=5.0)       # the filters settle onto the last pose within 0.2 s ...
    assert np.allclose(angles[69], angles[63], atol=0.5)       # ... and it is held for the rest of the half second
    assert (angles[-1] < 0.2 * angles[59] + 1.0).all()         # mostly back to T-pose 3 s later
    assert np.allclose(poses[-1].root_position_m, poses[59].root_position_m)  # stays where it was
