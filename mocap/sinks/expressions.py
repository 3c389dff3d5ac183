"""Face expressions as the blend shape names receivers know: VRM 0.x presets (what VSeeFace,
VNyan and VirtualMotionCapture apply), VRM 1.0 presets, or ARKit-style names for perfect-sync
avatars."""

from __future__ import annotations

from collections.abc import Iterable

from mocap.core.frames import NEUTRAL_FACE, FaceExpression

EXPRESSION_SCHEMES = ("vrm0", "vrm1", "arkit")
LOOK_FULL_DEG = 20.0          # gaze this far from straight ahead is a full Look expression


def _look(face: FaceExpression) -> tuple[float, float, float, float]:
    """Up, down, left (the performer's), right weights of the gaze."""
    def part(degrees: float) -> float:
        return min(max(degrees / LOOK_FULL_DEG, 0.0), 1.0)
    return part(face.gaze_pitch_deg), part(-face.gaze_pitch_deg), part(face.gaze_yaw_deg), part(-face.gaze_yaw_deg)


def expression_weights(face: FaceExpression, scheme: str = "vrm0") -> dict[str, float]:
    """Blend shape name -> weight 0..1 for ``face`` in ``scheme`` (one of :data:`EXPRESSION_SCHEMES`).

    VRM presets blink both eyes together with Blink and the rest of each eye with Blink_L/Blink_R
    (left: the avatar's own left), so an avatar whose Blink_L and Blink_R are missing still blinks."""
    up, down, left, right = _look(face)
    both = min(face.blink_left, face.blink_right)
    a, i, u, e, o = face.vowels
    if scheme == "vrm0":
        return {"Blink": both, "Blink_L": face.blink_left - both, "Blink_R": face.blink_right - both,
                "A": a, "I": i, "U": u, "E": e, "O": o,
                "LookUp": up, "LookDown": down, "LookLeft": left, "LookRight": right}
    if scheme == "vrm1":
        return {"blink": both, "blinkLeft": face.blink_left - both, "blinkRight": face.blink_right - both,
                "aa": a, "ih": i, "ou": u, "ee": e, "oh": o,
                "lookUp": up, "lookDown": down, "lookLeft": left, "lookRight": right}
    if scheme == "arkit":   # each eye looks in (toward the nose) or out
        return {"eyeBlinkLeft": face.blink_left, "eyeBlinkRight": face.blink_right, "jawOpen": face.jaw_open,
                "mouthFunnel": o, "mouthPucker": u, "mouthStretchLeft": i, "mouthStretchRight": i,
                "eyeLookUpLeft": up, "eyeLookUpRight": up, "eyeLookDownLeft": down, "eyeLookDownRight": down,
                "eyeLookOutLeft": left, "eyeLookInRight": left, "eyeLookInLeft": right, "eyeLookOutRight": right,
                "browInnerUp": face.brow_up, "browOuterUpLeft": face.brow_up, "browOuterUpRight": face.brow_up,
                "browDownLeft": face.brow_down, "browDownRight": face.brow_down}
    raise ValueError(f"unknown expression scheme {scheme!r}: use one of {', '.join(EXPRESSION_SCHEMES)}")


def describe_rig_expressions(rig_file: str, rig_expressions: Iterable[str], scheme: str) -> str:
    """One line: which of the expressions sent in ``scheme`` the rig (``rig_file``, declaring
    ``rig_expressions``) has, and which it lacks."""
    sent = list(expression_weights(NEUTRAL_FACE, scheme))
    has = {name.lower() for name in rig_expressions}
    present = [name for name in sent if name.lower() in has]
    missing = [name for name in sent if name.lower() not in has]
    return (f"rig {rig_file}: {len(present)} of the {len(sent)} {scheme} expressions sent are on it"
            + (f" ({', '.join(present)})" if present else "") + (f"; it lacks {', '.join(missing)}" if missing else ""))
