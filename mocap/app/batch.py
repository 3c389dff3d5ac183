"""`mocap batch`: many takes to BVH, each as `mocap capture` then `mocap solve` would make it,
on every core (a process pool) or as Ray tasks on a cluster.

Per take, in the output folder: ``NAME.bvh``, ``NAME.npz`` (the landmarks) and ``NAME.json``
(its report). Outputs are written under ``.partial/NAME/`` and renamed into place when the
take is complete, the report last, so an interrupted batch never leaves a half file under a
final name. A take whose report says it finished with the same settings, and whose outputs
are newer than its inputs, is skipped. See docs/batch.md.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import shutil
import signal
import socket
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from mocap.app.batch_takes import Take
from mocap.app.config import CaptureConfig
from mocap.core.errors import MocapError

REPORT_FIELDS = ("take", "status", "frames", "detection_rate", "capture_fps", "held_landmarks", "swaps_undone",
                 "seconds", "error")


@dataclass(frozen=True)
class BatchSettings:
    """How every take of a batch is made."""

    config: CaptureConfig        # filters, rig, model; sources and outputs are the take's
    smooth_hz: float | None      # offline zero-phase smoothing (as `mocap solve --smooth`); None: the live filters

    def fingerprint(self) -> str:
        """A short hash of the settings, kept in each report to tell whether a take is up to date."""
        text = json.dumps([dataclasses.asdict(self.config), self.smooth_hz], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _paths(out: Path, name: str) -> dict[str, Path]:
    return {kind: out / f"{name}.{kind}" for kind in ("bvh", "npz", "json")}


def is_done(take: Take, settings: BatchSettings, out: Path) -> bool:
    """True when the take's report says it succeeded with these settings and every output is
    newer than every input (its videos and calibration, and the rig and its bone map)."""
    paths = _paths(out, take.name)
    rig = [Path(p) for p in (settings.config.rig.path, settings.config.rig.map) if p]
    try:
        report = json.loads(paths["json"].read_text())
        oldest_output = min(path.stat().st_mtime for path in paths.values())
        newest_input = max(path.stat().st_mtime for path in (*take.inputs, *rig))
    except (OSError, ValueError):
        return False
    return report.get("status") == "ok" and report.get("settings") == settings.fingerprint() and oldest_output >= newest_input


def _take_config(take: Take, settings: BatchSettings, partial: Path) -> CaptureConfig:
    config = settings.config
    return replace(
        config,
        source=replace(config.source, video=list(take.videos) if len(take.videos) > 1 else take.videos[0], camera=None,
                       images=None, realtime=False),
        optics=replace(config.optics, calib=take.calib, calib_camera=list(take.calib_cameras) or None),
        vmc=replace(config.vmc, address=None),
        osc=replace(config.osc, address=None),
        vrchat=replace(config.vrchat, address=None),
        bvh=replace(config.bvh, path=str(partial / f"{take.name}.bvh") if settings.smooth_hz is None else None),
        record_landmarks=str(partial / f"{take.name}.npz"),
        preview=False,
    )


def run_take(take: Take, settings: BatchSettings, out: str) -> dict[str, Any]:
    """Make one take's outputs (in a worker process); returns its report. A take that fails is
    reported with its one-line error, not raised."""
    from mocap.app.session import run_capture, run_replay
    from mocap.formats.landmarks_file import load_landmarks

    start = time.perf_counter()
    final, partial = Path(out), Path(out) / ".partial" / take.name
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    report: dict[str, Any] = {"take": take.name, "videos": list(take.videos), "calib": take.calib,
                              "settings": settings.fingerprint()}
    try:
        config = _take_config(take, settings, partial)
        summary, _ = run_capture(config, progress=False)
        if settings.smooth_hz is not None:
            solved = replace(config, record_landmarks=None, bvh=replace(config.bvh, path=str(partial / f"{take.name}.bvh")))
            run_replay(solved, load_landmarks(partial / f"{take.name}.npz"), progress=False, smooth_hz=settings.smooth_hz)
        report.update(status="ok", frames=summary.frames, detection_rate=round(summary.detection_rate, 4),
                      capture_fps=round(summary.fps, 2), held_landmarks=summary.held_landmarks,
                      swaps_undone=summary.swaps_undone)
    except MocapError as error:
        report.update(status="failed", error=str(error))
    report["seconds"] = round(time.perf_counter() - start, 2)
    paths = _paths(final, take.name)
    if report["status"] == "ok":
        for kind in ("bvh", "npz"):
            os.replace(partial / paths[kind].name, paths[kind])
    (partial / paths["json"].name).write_text(json.dumps(report, indent=2))
    os.replace(partial / paths["json"].name, paths["json"])   # the report last: it marks the take done
    shutil.rmtree(partial, ignore_errors=True)
    return report


def _start_worker() -> None:
    """A worker keeps the native libraries' logs off the terminal and leaves Ctrl-C to the batch,
    which stops the workers itself."""
    from mocap.app.console import quiet_native_logs

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet_native_logs()


def _run_take_job(job: tuple[Take, BatchSettings, str]) -> dict[str, Any]:
    return run_take(*job)


def run_local(takes: list[Take], settings: BatchSettings, out: Path, jobs: int) -> Generator[dict[str, Any], None, None]:
    """Each take's report as it finishes, ``jobs`` takes at a time in worker processes (each
    with its own MediaPipe). Stopped early (an error, Ctrl-C), the workers are ended at once."""
    pool = get_context("spawn").Pool(processes=jobs, initializer=_start_worker)
    try:
        yield from pool.imap_unordered(_run_take_job, [(take, settings, str(out)) for take in takes])
    finally:
        pool.terminate()
        pool.join()


def check_cluster(address: str) -> None:
    """Raise a :class:`MocapError` now if Ray is missing, or a ``ray://HOST:PORT`` address does
    not answer within 5 s (instead of Ray's own wait)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise MocapError("--cluster needs Ray: pip install '.[cluster]' (or pip install 'ray[client]')") from None
    if address in ("auto", "local"):
        return
    if not address.startswith("ray://"):
        raise MocapError(f"--cluster {address}: give ray://HOST:PORT (the head node's client port, 10001 by default), "
                         "auto or local")
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=5.0).close()
    except (OSError, ValueError):
        raise MocapError(f"Ray cluster {address} does not answer: check the address (ray://HOST:10001) and that "
                         "the cluster's head node is running") from None


def run_ray(takes: list[Take], settings: BatchSettings, out: Path, address: str, jobs: int) -> Generator[dict[str, Any], None, None]:
    """Each take's report as it finishes, as Ray tasks (retried if a worker is lost) on the
    cluster at ``address`` (see :func:`check_cluster`; ``auto``: the one this machine belongs to;
    ``local``: a new Ray instance here with ``jobs`` CPUs). ``out`` must be storage every
    worker sees at the same path."""
    import ray

    check_cluster(address)
    try:
        if address == "local":
            ray.init(num_cpus=jobs, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except ConnectionError as error:
        raise MocapError(f"cannot join Ray cluster {address}: {error}") from None
    try:
        task = ray.remote(max_retries=3, retry_exceptions=False)(run_take)
        pending = [task.remote(take, settings, str(out)) for take in takes]
        while pending:
            finished, pending = ray.wait(pending, num_returns=1)
            yield ray.get(finished[0])
    finally:
        ray.shutdown()


def write_table(reports: list[dict[str, Any]], path: Path, echo: Callable[[str], None]) -> None:
    """Every take's report as a table on the terminal and as CSV at ``path``."""
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, REPORT_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(reports)
    echo(f"{'take':<28}{'status':<9}{'frames':>7}{'detected':>9}{'fps':>7}{'seconds':>9}  error")
    for report in reports:
        detected = f"{100 * report['detection_rate']:.0f}%" if "detection_rate" in report else ""
        echo(f"{report['take'][:27]:<28}{report['status']:<9}{report.get('frames', ''):>7}{detected:>9}"
             f"{report.get('capture_fps', ''):>7}{report.get('seconds', ''):>9}  {report.get('error', '')}")
