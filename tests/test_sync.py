"""Several sources are matched by timestamp; frames without a partner are dropped and counted."""

from __future__ import annotations

from pathlib import Path

import cv2
from conftest import DEMO_VIDEO, assert_one_line_error, run_mocap

from mocap.sources.frame_sources import ImageFolderSource, VideoFileSource
from mocap.sources.sync import SynchronizedSources


def test_a_20_fps_video_pairs_with_a_10_fps_image_folder(tmp_path: Path) -> None:
    with VideoFileSource(DEMO_VIDEO) as video:
        for frame, _ in zip(video, range(10)):
            cv2.imwrite(str(tmp_path / f"shot_{frame.index:03d}.png"), cv2.cvtColor(frame.image_rgb, cv2.COLOR_RGB2BGR))
    sources = [VideoFileSource(DEMO_VIDEO), ImageFolderSource(tmp_path, fps=10.0)]
    with SynchronizedSources(sources) as synced:
        assert synced.max_skew_s == 0.05          # half the slower source's frame period
        sets = list(synced)
        dropped = synced.dropped
    assert len(sets) == 10
    assert [s.frames[0].index for s in sets] == list(range(0, 20, 2))   # every other video frame
    assert [s.frames[1].index for s in sets] == list(range(10))
    assert all(abs(s.frames[0].timestamp_s - s.frames[1].timestamp_s) < 1e-9 for s in sets)
    assert dropped == [9, 0]


def test_several_cameras_need_a_calibration() -> None:
    result = run_mocap("capture", "--video", str(DEMO_VIDEO), "--video", str(DEMO_VIDEO))
    assert_one_line_error(result, "2 cameras need a calibration", "mocap calibrate")
