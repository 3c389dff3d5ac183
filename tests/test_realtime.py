"""A video played as a live camera plays: frames on the wall clock, stale ones dropped, latency reported."""

from __future__ import annotations

import re
import time

import pytest
from conftest import DEMO_FPS, DEMO_VIDEO, UdpReceiver, assert_one_line_error, run_mocap
from vmc_receiver import decode_vmc

from mocap.sources.frame_sources import RealtimeVideoSource


def test_frames_arrive_at_their_own_time_and_none_early() -> None:
    """A consumer that keeps up gets every frame, none before its time, and the take lasts as
    long as the video."""
    with RealtimeVideoSource(DEMO_VIDEO) as source:
        start = time.monotonic()
        received = [(frame, time.monotonic()) for frame, _ in zip(source, range(30))]
        assert source.dropped == 0
    assert [frame.index for frame, _ in received] == list(range(30))
    for frame, at in received:
        assert frame.captured_monotonic_s is not None and at >= frame.captured_monotonic_s
        assert frame.captured_monotonic_s == pytest.approx(received[0][0].captured_monotonic_s + frame.index / DEMO_FPS)
    assert received[-1][1] - start >= 29 / DEMO_FPS


def test_a_busy_capture_gets_the_newest_frame_and_the_rest_are_dropped() -> None:
    """Taking 0.12 s per frame of a 20 frames/s video: each frame handed over is the newest one
    due (two or three frames on from the last), the skipped ones are counted, and no frame
    waits: it was captured within a frame period or so of being handed over (two, for a busy
    machine; a source that queued frames would fall further behind with every frame)."""
    with RealtimeVideoSource(DEMO_VIDEO) as source:
        received = []
        for frame in source:
            received.append((frame, time.monotonic()))
            if len(received) == 10:
                break
            time.sleep(0.12)
        dropped = source.dropped
    indexes = [frame.index for frame, _ in received]
    steps = [b - a for a, b in zip(indexes, indexes[1:])]
    assert all(step >= 2 for step in steps), indexes
    assert dropped == indexes[-1] - len(indexes) + 1
    assert all(at - frame.captured_monotonic_s < 2.0 / DEMO_FPS for frame, at in received[1:])


def test_a_capture_in_real_time_reports_its_latency_and_sends_in_order(tmp_path) -> None:
    """`--video --realtime` runs the live path: the summary gives the latency of each span at
    p50/p95/p99 and the frames dropped (if any), and the receiver gets the frames in capture order."""
    receiver = UdpReceiver()
    result = run_mocap("capture", "--video", str(DEMO_VIDEO), "--realtime", "--vmc", f"127.0.0.1:{receiver.port}",
                       "--bvh", str(tmp_path / "take.bvh"), "--no-progress")
    frames = decode_vmc(receiver.stop())
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    spans = dict(re.findall(r"^  ([a-zA-Z ]+): ([\d./]+) ms \(p50/p95/p99", result.stdout, re.MULTILINE))
    assert set(spans) == {"inference", "after inference to pose", "after inference to VMC sent", "capture to VMC sent"}
    for values in spans.values():
        p50, p95, p99 = (float(v) for v in values.split("/"))
        assert 0 < p50 <= p95 <= p99
    dropped = re.search(r"Dropped (\d+) frames", result.stdout)
    sent = int(re.search(r"VMC: (\d+) frames sent", result.stdout).group(1))
    assert sent + (int(dropped.group(1)) if dropped else 0) == 187
    times = [frame.time_s for frame in frames]
    assert len(times) == sent and times == sorted(times)


@pytest.mark.parametrize("source", [["--camera", "0"], ["--images", "examples/demo"]])
def test_realtime_is_for_video_files(source: list[str]) -> None:
    assert_one_line_error(run_mocap("capture", *source, "--realtime"), "--realtime", "--video")
