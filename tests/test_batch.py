"""`mocap batch` on real clips: the same BVHs as `mocap capture` + `mocap solve`, failures
reported and the rest done, resumable, interruptible, and the same through a real Ray instance."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DEMO_VIDEO, REPO, assert_one_line_error, import_or_unavailable, run_mocap, shared

from mocap.app.batch_takes import Take, find_takes
from mocap.core.errors import MocapError

POSE2SIM = "multiview_pose2sim"


@dataclass
class Batch:
    inputs: list[str]
    out: Path
    result: subprocess.CompletedProcess[str]
    folder: Path


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """A batch of the demo clip, the two-person clip, a corrupt file and two of Pose2Sim's views
    (listed in a manifest), two takes at a time."""
    folder = tmp_path_factory.mktemp("batch")
    clips = folder / "clips"
    clips.mkdir()
    shutil.copy(DEMO_VIDEO, clips / "demo.mp4")
    shutil.copy(shared("video_images/video/sports2d_demo.mp4"), clips / "two_people.mp4")
    (clips / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
    manifest = folder / "lab.toml"
    manifest.write_text(
        "[[take]]\nname = \"pose2sim_1_4\"\n"
        f"videos = [\"{shared(f'{POSE2SIM}/videos/cam01.mp4')}\", \"{shared(f'{POSE2SIM}/videos/cam04.mp4')}\"]\n"
        f"calib = \"{shared(f'{POSE2SIM}/calibration/Calib_qualisys_converted.toml')}\"\n"
        "calib_cameras = [\"cam_01\", \"cam_04\"]\n"
    )
    inputs = [str(clips), str(manifest)]
    out = folder / "out"
    result = run_mocap("batch", *inputs, "--out", str(out), "--jobs", "2", "--no-progress", timeout_s=600)
    return Batch(inputs, out, result, folder)


def _reference_bvh(folder: Path, name: str, videos: list[str], calib: list[str]) -> str:
    """The BVH `mocap capture --record-landmarks` then `mocap solve --smooth 6` make of the same take."""
    landmarks, bvh = folder / f"{name}_reference.npz", folder / f"{name}_reference.bvh"
    sources = [arg for video in videos for arg in ("--video", video)]
    captured = run_mocap("capture", *sources, *calib, "--record-landmarks", str(landmarks), "--no-progress")
    assert captured.returncode == 0, captured.stderr
    solved = run_mocap("solve", str(landmarks), *calib[:2], "--smooth", "6", "--bvh", str(bvh), "--no-progress")
    assert solved.returncode == 0, solved.stderr
    return bvh.read_text()


def test_good_takes_match_capture_then_solve_and_the_corrupt_one_is_reported(batch: Batch) -> None:
    assert batch.result.returncode == 1, batch.result.stdout + batch.result.stderr   # not every take succeeded
    reports = {name: json.loads((batch.out / f"{name}.json").read_text())
               for name in ("demo", "two_people", "corrupt", "pose2sim_1_4")}
    assert [reports[name]["status"] for name in ("demo", "two_people", "pose2sim_1_4")] == ["ok"] * 3
    assert reports["corrupt"]["status"] == "failed" and "cannot decode video" in reports["corrupt"]["error"]
    assert not (batch.out / "corrupt.bvh").exists() and not (batch.out / ".partial").exists()
    assert reports["demo"]["frames"] == 187 and reports["pose2sim_1_4"]["frames"] == 100
    rows = (batch.out / "batch_report.csv").read_text().splitlines()
    assert rows[0].startswith("take,status,frames") and len(rows) == 5
    assert "3 of 4 takes done" in batch.result.stdout
    assert (batch.out / "demo.bvh").read_text() == _reference_bvh(batch.folder, "demo", [str(DEMO_VIDEO)], [])
    assert (batch.out / "two_people.bvh").read_text() == _reference_bvh(
        batch.folder, "two_people", [str(shared("video_images/video/sports2d_demo.mp4"))], [])
    calib = ["--calib", str(shared(f"{POSE2SIM}/calibration/Calib_qualisys_converted.toml")),
             "--calib-camera", "cam_01", "--calib-camera", "cam_04"]
    assert (batch.out / "pose2sim_1_4.bvh").read_text() == _reference_bvh(
        batch.folder, "pose2sim", [str(shared(f"{POSE2SIM}/videos/cam0{n}.mp4")) for n in (1, 4)], calib)


def test_a_second_run_skips_what_is_done_and_retries_what_failed(batch: Batch) -> None:
    before = {path.name: path.stat().st_mtime_ns for path in batch.out.glob("*.bvh")}
    again = run_mocap("batch", *batch.inputs, "--out", str(batch.out), "--no-progress", timeout_s=600)
    assert again.returncode == 1
    assert "3 take(s) already done with these settings are skipped" in again.stderr
    statuses = dict(line.split()[:2] for line in again.stdout.splitlines()[1:5])
    assert statuses == {"demo": "skipped", "two_people": "skipped", "corrupt": "failed", "pose2sim_1_4": "skipped"}
    assert {path.name: path.stat().st_mtime_ns for path in batch.out.glob("*.bvh")} == before


def test_other_settings_redo_the_takes(batch: Batch, tmp_path: Path) -> None:
    """The demo take done with offline smoothing is redone when asked for the live filters, and
    its BVH is then what `mocap capture --live --bvh` writes, not the smoothed one; without
    --live, `mocap capture --bvh` from a file is offline work and writes the smoothed one."""
    out = tmp_path / "out"
    shutil.copytree(batch.out, out)
    smoothed = (out / "demo.bvh").read_text()
    result = run_mocap("batch", str(batch.folder / "clips" / "demo.mp4"), "--out", str(out), "--live", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "skipped" not in result.stderr and json.loads((out / "demo.json").read_text())["status"] == "ok"
    live = batch.folder / "live.bvh"
    captured = run_mocap("capture", "--video", str(batch.folder / "clips" / "demo.mp4"), "--bvh", str(live), "--live",
                         "--no-progress")
    assert captured.returncode == 0, captured.stderr
    assert (out / "demo.bvh").read_text() == live.read_text() != smoothed
    offline = batch.folder / "offline.bvh"
    captured = run_mocap("capture", "--video", str(batch.folder / "clips" / "demo.mp4"), "--bvh", str(offline), "--no-progress")
    assert captured.returncode == 0, captured.stderr
    assert "Solved offline: the whole take smoothed at 6 Hz" in captured.stdout
    assert offline.read_text() == smoothed


def test_a_stopped_batch_leaves_no_partial_output_under_a_final_name(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "mocap", "batch", str(DEMO_VIDEO), "--out", str(out), "--no-progress"],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / ".partial").glob("*/*.journal")):
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert stderr.splitlines() == ["mocap: stopped by SIGTERM; 0 of 1 takes finished, those in progress discarded "
                                   "(run the batch again to go on)"]
    assert sorted(path.name for path in out.iterdir()) == []


def test_through_a_local_ray_instance_with_a_worker_killed(batch: Batch, tmp_path: Path) -> None:
    """Two Ray workers; the worker running the first take is killed: the task is retried and
    the outputs equal the process pool's."""
    import_or_unavailable("ray", "Ray (pip install '.[cluster]')")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "mocap", "batch", str(batch.folder / "clips" / "demo.mp4"), str(batch.folder / "clips" / "corrupt.mp4"),
         "--out", str(out), "--cluster", "local", "--jobs", "2", "--no-progress"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline, killed = time.monotonic() + 180, False
    while time.monotonic() < deadline and not killed and process.poll() is None:
        found = subprocess.run(["pgrep", "-f", "ray::run_take"], capture_output=True, text=True).stdout.split()
        if found and list((out / ".partial").glob("demo/*.journal")):
            subprocess.run(["kill", "-9", found[0]])
            killed = True
        time.sleep(0.1)
    stdout, stderr = process.communicate(timeout=300)
    assert killed, "the take finished before a worker could be killed"
    assert process.returncode == 1, stdout + stderr
    assert json.loads((out / "demo.json").read_text())["status"] == "ok"
    assert (out / "demo.bvh").read_text() == (batch.out / "demo.bvh").read_text()
    assert (out / "demo.npz").read_bytes() == (batch.out / "demo.npz").read_bytes()


def test_an_output_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    blocked = tmp_path / "a_file"
    blocked.write_text("")
    result = run_mocap("batch", str(DEMO_VIDEO), "--out", str(blocked / "out"))
    assert_one_line_error(result, "cannot make the batch output folder", "choose another --out")


def test_a_cluster_that_does_not_answer_is_one_line() -> None:
    import_or_unavailable("ray", "Ray (pip install '.[cluster]')")
    result = run_mocap("batch", str(DEMO_VIDEO), "--out", "/tmp/never", "--cluster", "ray://127.0.0.1:9")   # progress bar on
    assert_one_line_error(result, "Ray cluster ray://127.0.0.1:9 does not answer")


@pytest.mark.unit
def test_takes_from_files_folders_and_manifests(tmp_path: Path) -> None:
    (tmp_path / "solo").mkdir()
    (tmp_path / "solo" / "a.mp4").write_bytes(b"")
    (tmp_path / "solo" / "b.MOV").write_bytes(b"")
    (tmp_path / "solo" / "notes.txt").write_text("")
    studio = tmp_path / "solo" / "studio_take"
    studio.mkdir()
    for name in ("cam1.mp4", "cam2.mp4", "calib.toml"):
        (studio / name).write_bytes(b"")
    manifest = tmp_path / "m.toml"
    manifest.write_text('[[take]]\nname = "x"\nvideos = ["v1.mp4", "v2.mp4"]\ncalib = "c.toml"\ncalib_cameras = ["l", "r"]\n')
    assert find_takes([str(tmp_path / "solo"), str(manifest)]) == [
        Take("a", (str(tmp_path / "solo" / "a.mp4"),)),
        Take("b", (str(tmp_path / "solo" / "b.MOV"),)),
        Take("studio_take", (str(studio / "cam1.mp4"), str(studio / "cam2.mp4")), str(studio / "calib.toml")),
        Take("x", (str(tmp_path / "v1.mp4"), str(tmp_path / "v2.mp4")), str(tmp_path / "c.toml"), ("l", "r")),
    ]
    assert [take.name for take in find_takes([str(tmp_path / "solo" / "*.mp4")])] == ["a"]


@pytest.mark.unit
@pytest.mark.parametrize(("make", "needle"), [
    (lambda d: [str(d / "missing.mp4")], "batch input not found"),
    (lambda d: [str(d / "one" / "take.mp4"), str(d / "two" / "take.mp4")], "two takes are named take"),
    (lambda d: [str(d / "notes.txt")], "is not a video"),
    (lambda d: [str(d / "bad.toml")], "take 1 needs name"),
])
def test_take_mistakes_are_one_clear_error(tmp_path: Path, make, needle: str) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "take.mp4").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "bad.toml").write_text('[[take]]\nvideos = "a.mp4"\n')
    with pytest.raises(MocapError, match=needle):
        find_takes(make(tmp_path))


def test_batch_takes_no_live_output_or_window_options() -> None:
    """A batch runs takes in worker processes: no option of its opens a window, a virtual camera
    or a network output (each worker would open its own)."""
    result = run_mocap("batch", "--help")
    assert result.returncode == 0, result.stderr
    flags = set(re.findall(r"--[a-z][a-z-]*", result.stdout))
    assert "--bvh-units" in flags and "--vmc-expressions" in flags      # what the solve itself takes, kept
    live = {"--vmc", "--osc", "--vrchat", "--preview", "--viewer", "--virtual-camera", "--virtual-camera-width",
            "--virtual-camera-height", "--virtual-camera-fps", "--virtual-camera-view", "--virtual-camera-background",
            "--camera"}
    assert not flags & live, flags & live
