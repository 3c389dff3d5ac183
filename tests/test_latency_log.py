"""Latency spans from instants stamped by different threads."""

from __future__ import annotations

import threading

import pytest

from mocap.core.latency import CAPTURED, ESTIMATED, SENT, SOLVED, LatencyLog

pytestmark = pytest.mark.unit


def test_spans_are_measured_between_a_frames_own_events() -> None:
    """Frames overlap (the next is captured before the last is sent); each span pairs one
    frame's events, whatever order the threads report them in."""
    log = LatencyLog()
    for frame in range(100):
        t = frame / 30.0
        log.mark(t, CAPTURED, 10.0 + t)
    for frame in range(100):   # the worker and the sender report after the capture thread
        t = frame / 30.0
        log.mark(t, ESTIMATED, 10.0 + t + 0.020 + 0.0001 * frame)
        log.mark(t, SOLVED, 10.0 + t + 0.023 + 0.0001 * frame)
        log.mark(t, SENT, 10.0 + t + 0.024 + 0.0001 * frame)
    report = log.report()
    assert report.frames == {"inference": 100, "after inference to pose": 100, "after inference to VMC sent": 100,
                             "capture to VMC sent": 100}
    assert report.percentiles_ms["inference"] == pytest.approx((24.95, 29.45, 29.85), abs=0.1)
    assert report.percentiles_ms["after inference to pose"] == pytest.approx((3.0, 3.0, 3.0), abs=0.03)   # half a bin
    assert report.percentiles_ms["after inference to VMC sent"] == pytest.approx((4.0, 4.0, 4.0), abs=0.03)
    assert report.percentiles_ms["capture to VMC sent"][0] == pytest.approx(28.95, abs=0.1)
    assert "  after inference to VMC sent: 4.0/4.0/4.0 ms (p50/p95/p99, 100 frames)" in report.describe().splitlines()


def test_a_frame_never_sent_counts_only_where_it_got_to() -> None:
    """Without VMC (or a pose the rate limit skipped) a frame has no sent span, and frames
    still waiting for theirs are let go once many newer ones have passed."""
    log = LatencyLog()
    for frame in range(1000):
        t = frame / 30.0
        log.mark(t, CAPTURED, t)
        log.mark(t, ESTIMATED, t + 0.02)
        log.mark(t, SOLVED, t + 0.025)
    report = log.report()
    assert set(report.frames) == {"inference", "after inference to pose"}
    assert report.percentiles_ms["after inference to pose"] == pytest.approx((5.0, 5.0, 5.0), abs=0.03)
    assert len(log._open) <= 256
    log.mark(999 / 30.0, SENT, 999 / 30.0 + 0.04)   # a recent frame's datagrams leave: counted
    log.mark(0.0, SENT, 40.0)                       # the oldest frame's, long let go: not counted
    assert log.report().frames["capture to VMC sent"] == 1
    assert log.report().percentiles_ms["capture to VMC sent"][0] == pytest.approx(40.0, abs=0.03)


def test_reports_can_be_taken_while_another_thread_marks_frames() -> None:
    """The capture reads a report while the VMC sender's thread still marks its last frames."""
    log = LatencyLog()
    errors: list[BaseException] = []

    def send() -> None:
        try:
            for frame in range(20000):
                log.mark(frame / 30.0, ESTIMATED, frame / 30.0)
                log.mark(frame / 30.0, SENT, frame / 30.0 + 0.002)
        except BaseException as error:
            errors.append(error)

    sender = threading.Thread(target=send)
    sender.start()
    while sender.is_alive():
        log.report()
    sender.join()
    assert not errors
    assert log.report().frames["after inference to VMC sent"] == 20000


def test_a_long_take_keeps_the_same_memory_and_counts_the_slowest_spans() -> None:
    """Percentiles come from fixed bins: a million frames take no more memory than one, and a
    span longer than the bins reach counts as the longest."""
    log = LatencyLog()
    sizes = {name: counts.nbytes for name, counts in log._counts.items()}
    for frame in range(20000):
        log.mark(frame, ESTIMATED, 0.0)
        log.mark(frame, SENT, 5.0 if frame % 2 else 0.001)   # half the frames 5 s late
    assert {name: counts.nbytes for name, counts in log._counts.items()} == sizes
    p50, p95, p99 = log.report().percentiles_ms["after inference to VMC sent"]
    assert p50 == pytest.approx(1.0, abs=0.1) and p95 == p99 == pytest.approx(2000.0, abs=0.1)
