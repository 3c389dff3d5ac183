"""Hands and face: speed against bare MediaPipe doing the same work, and the finger solve's accuracy.

1. Speed, one run: for the body alone, the body and face, and the body, hands and face, a bare
   process (decode each frame, run the MediaPipe graphs mocap runs for that choice: Pose; Pose
   and Face Mesh; Holistic) and a `mocap capture` process (VMC to a loopback socket, BVH to a
   file) over the same video, ``--rounds`` times in turn, start-up included. Prints frames/s,
   the ratio, and mocap's per-stage milliseconds.
2. The finger solve: known gestures -> landmarks with pixel noise (on a hand 150 px across) ->
   solve; how soon the filtered fingers follow a fist; InterHand2.6M's photo with triangulated
   joints; ManipNet's captured finger motion.
3. On the real video: finger jitter while the thumbs-up is held (each finger joint's turn from
   frame to frame, solved raw and after the hand stage's filter), and how neutral the face's
   expressions stay (she neither blinks nor opens her mouth).

    .venv/bin/python benchmarks/hands_and_face.py [--video FILE] [--repeat 3] [--rounds 2]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
from pathlib import Path

import numpy as np
from pipeline_speed import repeated_video, timed_process
from scipy.spatial.transform import Rotation

from mocap.evaluation.hands import (
    GESTURES,
    gesture_landmarks,
    interhand_hands,
    joint_bends_deg,
    manipnet_landmarks,
    mediapipe_hands,
)
from mocap.formats.landmarks_file import load_landmarks
from mocap.solving.face import FaceTracker
from mocap.solving.fingers import finger_angles_deg, finger_rotations
from mocap.solving.hands import HandTracker

REPO = Path(__file__).resolve().parent.parent

HANDS = REPO.parent / "shared" / "data" / "hands"
BARE_LOOP = """
import sys
import cv2
import mediapipe as mp
from mocap.app.console import quiet_native_logs
quiet_native_logs()
mode = sys.argv[2]
graphs = {"body": lambda: [mp.solutions.pose.Pose(model_complexity=1)],
          "body+face": lambda: [mp.solutions.pose.Pose(model_complexity=1),
                                mp.solutions.face_mesh.FaceMesh(max_num_faces=1, refine_landmarks=True)],
          "body+hands+face": lambda: [mp.solutions.holistic.Holistic(model_complexity=1, refine_face_landmarks=True)]}[mode]()
capture = cv2.VideoCapture(sys.argv[1])
while True:
    ok, image = capture.read()
    if not ok:
        break
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    for graph in graphs:
        graph.process(rgb)
"""
MODES = {"body": [], "body+face": ["--face"], "body+hands+face": ["--preset", "vtuber"]}


def speed(clip: Path, repeat: int, rounds: int, folder: Path) -> Path:
    """Prints the speed table; returns the landmarks recorded by the last body+hands+face run."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    landmarks = folder / "take.npz"
    video, frames = repeated_video(clip, repeat, folder)
    print(f"Speed on {clip.name} played {repeat} times ({frames} frames), {rounds} rounds, whole processes "
          "(start-up included)")
    print(f"{'tracked':<17} {'bare frames/s':>14} {'mocap frames/s':>15} {'ratio':>6}   mocap per-stage ms")
    for mode, flags in MODES.items():
        bare_runs, mocap_runs = [], []
        for _ in range(rounds):
            bare_runs.append(timed_process([sys.executable, "-c", BARE_LOOP, str(video), mode]))
            mocap_runs.append(timed_process([
                sys.executable, "-m", "mocap", "capture", "--video", str(video), *flags,
                "--vmc", f"127.0.0.1:{receiver.getsockname()[1]}", "--bvh", str(folder / "take.bvh"),
                "--record-landmarks", str(landmarks), "--no-progress"]))
        bare_fps = float(np.median([frames / wall_s for wall_s, _, _ in bare_runs]))
        mocap_fps = float(np.median([frames / wall_s for wall_s, _, _ in mocap_runs]))
        stages = next((line.split("per-stage ms: ")[1] for line in mocap_runs[-1][2].splitlines() if "per-stage" in line), "")
        print(f"{mode:<17} {bare_fps:>14.1f} {mocap_fps:>15.1f} {mocap_fps / bare_fps:>6.2f}   {stages}")
    receiver.close()
    return landmarks


def round_trip() -> None:
    print("\nFinger solve round trip: gestures -> landmarks (+ pixel noise, hand about 150 px across) -> solve")
    rng = np.random.default_rng(0)
    for noise_px in (0.0, 1.0, 2.0):
        errors = []
        for angles in GESTURES.values():
            for side in ("Left", "Right"):
                for seed in range(20):
                    hand = gesture_landmarks(angles, side, Rotation.random(random_state=seed))
                    hand = (hand - hand[0]) * (150.0 / 700.0 / 0.09) + rng.normal(0.0, noise_px, hand.shape)
                    solved = finger_angles_deg(hand, side)
                    assert solved is not None
                    errors.append(np.abs(solved - np.array(angles, dtype=float)))
        error = np.array(errors)
        print(f"  noise {noise_px:.0f} px: mean {error.mean():.2f} deg, 95th percentile {np.percentile(error, 95):.2f} deg "
              f"(spread {error[..., 0].mean():.2f}, curls {error[..., 1:].mean():.2f})")


def fist_delay(fps: float = 25.0) -> None:
    """How long the filtered fingers take to follow a fist formed between two frames."""
    from mocap.core.frames import PoseObservation
    from mocap.evaluation.hands import FIST, OPEN_HAND

    def seen(hand: np.ndarray) -> tuple[PoseObservation, ...]:
        return (PoseObservation(0.0, (1280, 720), np.full((33, 3), np.nan), None, np.stack([np.full((21, 3), np.nan), hand])),)

    tracker = HandTracker()
    for frame in range(int(fps)):
        tracker(seen(gesture_landmarks(OPEN_HAND, "Right", Rotation.identity())), frame / fps)
    fist = gesture_landmarks(FIST, "Right", Rotation.identity())
    angles = finger_angles_deg(fist, "Right")
    assert angles is not None
    target = finger_rotations(angles, "Right")
    for frame in range(int(fps), int(3 * fps)):
        error_deg = np.degrees((tracker(seen(fist), frame / fps)[15:].inv() * target).magnitude()).max()
        if error_deg < 10.0:
            break
    print(f"A fist formed between two frames at {fps:g} frames/s: every finger joint within 10 degrees of it "
          f"{1000 * (frame - int(fps) + 1) / fps:.0f} ms later")


def real_hands() -> None:
    import cv2

    print("\nInterHand2.6M photos (triangulated truth) through MediaPipe's hand model and the solve:")
    for truth in interhand_hands(HANDS / "interhand26m_mmpose"):
        found = dict(mediapipe_hands(cv2.cvtColor(cv2.imread(str(truth.image)), cv2.COLOR_BGR2RGB)))
        if truth.side not in found:
            print(f"  {truth.image.name} {truth.side}: MediaPipe finds no such hand")
            continue
        ours, true = finger_angles_deg(found[truth.side], truth.side), finger_angles_deg(truth.joints_mm, truth.side)
        assert ours is not None and true is not None
        print(f"  {truth.image.name} {truth.side}: curl error {np.abs(ours - true)[:, 1:].mean():.1f} deg, "
              f"spread error {np.abs(ours - true)[:, 0].mean():.1f} deg")
    landmarks, _ = manipnet_landmarks(HANDS / "mocap_manipnet" / "manipnet_cup1_rightHand.bvh")
    truth = joint_bends_deg(landmarks)
    ours = np.abs(np.array([finger_angles_deg(frame, "Right")[:, 2:] for frame in landmarks]))
    error = np.abs(ours - truth)
    print(f"ManipNet's captured finger motion ({len(landmarks)} frames): bend error at the middle and last joints, "
          f"fingers mean {error[:, 1:].mean():.2f} deg (median {np.median(error[:, 1:]):.2f}), "
          f"thumb mean {error[:, 0].mean():.2f} deg")


def on_the_video(landmarks_path: Path) -> None:
    recording = load_landmarks(landmarks_path)
    assert recording.hands_px is not None
    held = range(recording.frame_count - 50, recording.frame_count)   # the thumbs-up held, its last 2 s
    print()
    tracker = HandTracker()
    raw, filtered = [], []
    for frame in range(recording.frame_count):
        rotations = tracker(recording.observations(frame), float(recording.timestamps_s[frame]))
        if frame in held:
            angles = finger_angles_deg(recording.hands_px[0, frame, 1], "Right")
            raw.append(finger_rotations(angles, "Right") if angles is not None else None)
            filtered.append(rotations[15:])
    def steps_deg(series: list[Rotation | None]) -> np.ndarray:
        return np.array([np.degrees((a.inv() * b).magnitude()) for a, b in zip(series, series[1:])
                         if a is not None and b is not None])
    tracker_face = FaceTracker()
    assert recording.face_px is not None
    faces = [tracker_face(recording.face_px[0, frame], float(recording.timestamps_s[frame])) for frame in range(recording.frame_count)]
    weights = np.array([[face.blink_left, face.blink_right, face.jaw_open, max(face.vowels)] for face in faces])
    print(f"The face stays neutral (no blink, mouth closed) through the video: blink left/right, jaw, largest vowel: "
          f"max {np.round(weights.max(axis=0), 2).tolist()}, 95th percentile {np.round(np.percentile(weights, 95, axis=0), 2).tolist()}")
    for name, series in (("raw", raw), ("filtered", filtered)):
        steps = steps_deg(series)
        print(f"Finger jitter while the thumbs-up is held ({len(held)} frames), {name}: each joint's turn from frame to "
              f"frame, RMS {np.sqrt(np.mean(steps ** 2)):.1f} deg, median {np.median(steps):.2f} deg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, default=HANDS / "video" / "gesture_recognizer_android_test_video_thumbs_up.mp4")
    parser.add_argument("--repeat", type=int, default=3, help="times the clip is played in one take")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each pair of processes; medians are reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        landmarks = speed(args.video, args.repeat, args.rounds, Path(folder))
        round_trip()
        fist_delay()
        real_hands()
        on_the_video(landmarks)


if __name__ == "__main__":
    main()
