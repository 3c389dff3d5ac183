"""The landmarks recorder: what a capture records is what `mocap solve` reads back, in bounded memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from mocap.core.frames import PoseObservation
from mocap.formats.landmarks_file import LandmarkRecorder, journal_path, load_landmarks

pytestmark = pytest.mark.unit


def _frame(frame: int, cameras: int) -> tuple[PoseObservation, ...]:
    """Camera c's keypoints in frame f all hold 100 f + c (confidence 0.5); the second camera
    has no world landmarks on odd frames."""
    return tuple(
        PoseObservation(frame / 30.0, (640 + camera, 480), np.full((33, 3), 100.0 * frame + camera) * [1, 1, 0] + [0, 0, 0.5],
                        None if camera == 1 and frame % 2 else np.full((33, 3), frame + camera / 10))
        for camera in range(cameras)
    )


def test_two_cameras_read_back_frame_by_frame(tmp_path: Path) -> None:
    """Seven frames in chunks of three (the last chunk short): every camera's keypoints, world
    landmarks (NaN where there were none), timestamps, names and sizes come back in place."""
    path = tmp_path / "take.npz"
    recorder = LandmarkRecorder(path, ("left", "right"), journal_frames=3)
    for frame in range(7):
        recorder.add(_frame(frame, 2))
    recorder.close()
    assert not journal_path(path).exists()
    recording = load_landmarks(path)
    assert recording.cameras == ("left", "right") and recording.image_sizes == ((640, 480), (641, 480))
    assert np.allclose(recording.timestamps_s, np.arange(7) / 30.0)
    for camera in range(2):
        assert np.array_equal(recording.keypoints[camera, :, 11, 0], 100.0 * np.arange(7) + camera)
        assert (recording.keypoints[camera, :, :, 2] == 0.5).all()
    assert np.array_equal(recording.world_m[0, :, 0, 0], np.arange(7.0))
    assert np.isnan(recording.world_m[1, 1::2]).all() and np.allclose(recording.world_m[1, 0::2, 0, 0], [0.1, 2.1, 4.1, 6.1])


def test_a_long_take_is_recorded_in_bounded_memory(tmp_path: Path) -> None:
    """Recording and finishing ten times the frames takes no more memory (Python's own
    allocations, traced): the recorder holds one chunk, not the take."""
    def peak_bytes(frames: int) -> int:
        path = tmp_path / f"take_{frames}.npz"
        recorder = LandmarkRecorder(path, ("left", "right"))
        tracemalloc.start()
        for frame in range(frames):
            recorder.add(_frame(frame, 2))
        recorder.close()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert load_landmarks(path).frame_count == frames
        return peak

    short, long = peak_bytes(300), peak_bytes(3000)
    assert long < 1.3 * short, (short, long)
