"""Soak: a long take with every output on, to show memory and queues stay flat.

The demo clip, decoded once, is looped (timestamps running on) through the whole capture
pipeline: MediaPipe, lifting, filters, solving, VMC to a loopback receiver, BVH to a file and
the landmarks recorder. Every ``--every`` seconds it prints the frames so far, the frame rate
over the interval, the process's resident memory, the frames waiting in each output's queue,
and the latency percentiles so far.

    .venv/bin/python benchmarks/soak.py [--minutes 60] [--every 60]
"""

from __future__ import annotations

import argparse
import itertools
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from mocap.app.config import CaptureConfig
from mocap.app.console import quiet_native_logs
from mocap.app.session import build_pipeline, calibrated_cameras, make_estimator, make_lifter, open_sinks
from mocap.core.frames import Frame
from mocap.core.latency import LatencyLog
from mocap.formats.landmarks_file import LandmarkRecorder, load_landmarks
from mocap.sinks.background import BackgroundSink
from mocap.sources.frame_sources import VideoFileSource, decode_all

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"


def resident_mb() -> float:
    """This process's resident memory, MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def looped(frames: list[Frame], fps: float, until_s: float) -> Iterator[Frame]:
    """The frames over and over, numbered and timed as one long take, until ``until_s`` (monotonic)."""
    for index, frame in zip(itertools.count(), itertools.cycle(frames)):
        if time.monotonic() >= until_s:
            return
        yield Frame(frame.image_rgb, index / fps, index)


def drain(receiver: socket.socket, counted: list[int]) -> None:
    while True:
        try:
            receiver.recv(65536)
            counted[0] += 1
        except OSError:
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between reports")
    args = parser.parse_args()

    quiet_native_logs()
    source = VideoFileSource(DEMO / "bodypose3d_cam0_test.mp4")
    fps = source.nominal_fps
    frames = decode_all(source)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    datagrams = [0]
    threading.Thread(target=drain, args=(receiver, datagrams), daemon=True).start()
    with tempfile.TemporaryDirectory() as folder:
        config = CaptureConfig().with_overrides({
            "optics": {"calib": str(DEMO / "demo_camera.toml")},
            "vmc": {"address": f"127.0.0.1:{receiver.getsockname()[1]}"},
            "bvh": {"path": str(Path(folder) / "soak.bvh")},
        })
        latency = LatencyLog()
        opened = open_sinks(config, 1.0 / fps, latency=latency)
        recorder = LandmarkRecorder(Path(folder) / "soak.npz", ("cam_0",))
        pipeline = build_pipeline(config, estimator=make_estimator(config, 1), lifter=make_lifter(config, calibrated_cameras(config, 1)),
                                  sinks=opened.sinks, observers=[lambda frame, observations: recorder.add(observations)],
                                  latency=latency)
        start = time.monotonic()
        state = {"next": start + args.every, "frames": 0, "last_frames": 0, "last_time": start}
        print(f"{'minutes':>7} {'frames':>8} {'frames/s':>8} {'RSS MB':>7} {'waiting (VMC, BVH)':>19}  latency capture to VMC sent p50/p95/p99 ms")

        def report() -> None:
            now = time.monotonic()
            state["frames"] += 1
            if now < state["next"]:
                return
            rate = (state["frames"] - state["last_frames"]) / (now - state["last_time"])
            waiting = [sink.waiting for sink in opened.sinks if isinstance(sink, BackgroundSink)]
            spans = latency.report().percentiles_ms.get("capture to VMC sent", ())
            print(f"{(now - start) / 60:7.1f} {state['frames']:8d} {rate:8.1f} {resident_mb():7.0f} {str(waiting):>19}  "
                  + "/".join(f"{v:.1f}" for v in spans), flush=True)
            state.update(next=state["next"] + args.every, last_frames=state["frames"], last_time=now)

        pipeline.run(looped(frames, fps, start + 60.0 * args.minutes), on_frame=report)
        for sink in opened.sinks:
            sink.close()
        recorder.close()
        recorded = load_landmarks(Path(folder) / "soak.npz").frame_count
        bvh_rows = sum(1 for _ in open(Path(folder) / "soak.bvh")) - 1
    receiver.close()
    print(f"done: {state['frames']} frames; landmarks file holds {recorded}; BVH file {bvh_rows} lines; "
          f"{datagrams[0]} VMC datagrams received; peak memory above is the process's")


if __name__ == "__main__":
    main()
