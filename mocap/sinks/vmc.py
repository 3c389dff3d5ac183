"""VMC protocol sender (OSC over UDP), as VSeeFace, VNyan, Warudo and VirtualMotionCapture receive it.

Per frame: /VMC/Ext/OK, /VMC/Ext/T, /VMC/Ext/Root/Pos and one /VMC/Ext/Bone/Pos per bone,
packed into OSC bundles of at most 1500 bytes (one Ethernet MTU, so no IP fragmentation).
Positions and rotations are converted to Unity axes here and nowhere else.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.parsing import osc_types

from mocap.core.conventions import (
    continuous_quaternions,
    positions_to_unity,
    quaternions_to_unity,
)
from mocap.core.errors import MocapError
from mocap.core.frames import SkeletonPose

DEFAULT_VMC_PORT = 39539
MAX_DATAGRAM_BYTES = 1500


def parse_address(text: str, *, default_port: int = DEFAULT_VMC_PORT) -> tuple[str, int]:
    """'HOST:PORT' (or just 'HOST', meaning the default port) -> (host, port)."""
    host, colon, port_text = text.rpartition(":")
    if not colon:
        host, port_text = text, str(default_port)
    if not port_text.isdigit() or not host.strip():
        raise MocapError(f"bad address '{text}': expected HOST:PORT, e.g. 127.0.0.1:{default_port}")
    port = int(port_text)
    if not 0 < port < 65536:
        raise MocapError(f"bad address '{text}': port {port} is out of range; use a port from 1 to 65535 "
                         f"(VMC receivers listen on {default_port} by default)")
    return host, port


def _message(address: str, *args: object) -> bytes:
    """One OSC message, encoded with python-osc's type writers (ints, floats, strings)."""
    tags = ","
    encoded = []
    for arg in args:
        if isinstance(arg, str):
            tags += "s"
            encoded.append(osc_types.write_string(arg))
        elif isinstance(arg, int):
            tags += "i"
            encoded.append(osc_types.write_int(arg))
        else:
            tags += "f"
            encoded.append(osc_types.write_float(float(arg)))  # type: ignore[arg-type]
    return osc_types.write_string(address) + osc_types.write_string(tags) + b"".join(encoded)


def vmc_messages(pose: SkeletonPose, quats_unity: NDArray[np.float64]) -> list[bytes]:
    """The VMC messages for one pose whose local rotations are ``quats_unity`` (bones, 4) in
    Unity axes, in sending order. /VMC/Ext/T carries the frame's capture time (seconds since
    the source started).

    Root/Pos is the ground point under the hips; the Hips bone carries the hips' height
    above it. Every other bone carries its real local rest offset (never zeros: receivers
    such as EVMC4U apply positions, and zeros would crush the skeleton).
    """
    skeleton = pose.skeleton
    hips = pose.root_position_m
    root_unity = positions_to_unity(np.array([hips[0], 0.0, hips[2]]))
    offsets = skeleton.rest_offsets_m.copy()
    offsets[0] = (0.0, hips[1], 0.0)
    offsets_unity = positions_to_unity(offsets).tolist()
    messages = [
        _message("/VMC/Ext/OK", 1, 3, 0, 1 if pose.tracked else 0),  # loaded, calibrated, mode, tracking
        _message("/VMC/Ext/T", float(pose.timestamp_s)),
        _message("/VMC/Ext/Root/Pos", "root", *root_unity.tolist(), 0.0, 0.0, 0.0, 1.0),
    ]
    for name, offset, quat in zip(skeleton.names, offsets_unity, quats_unity.tolist()):
        messages.append(_message("/VMC/Ext/Bone/Pos", name, *offset, *quat))
    return messages


_BUNDLE_HEADER = OscBundleBuilder(IMMEDIATELY).build().dgram  # "#bundle\0" + time tag "immediately"


def pack_bundles(messages: list[bytes], max_bytes: int = MAX_DATAGRAM_BYTES) -> list[bytes]:
    """OSC bundles, in order, each at most ``max_bytes`` long."""
    bundles: list[bytes] = []
    current: list[bytes] = []
    size = len(_BUNDLE_HEADER)
    for message in messages:
        element = osc_types.write_int(len(message)) + message
        if current and size + len(element) > max_bytes:
            bundles.append(_BUNDLE_HEADER + b"".join(current))
            current, size = [], len(_BUNDLE_HEADER)
        current.append(element)
        size += len(element)
    if current:
        bundles.append(_BUNDLE_HEADER + b"".join(current))
    return bundles


class VmcSender:
    """Sends each pose as VMC bundles over one persistent UDP socket.

    ``max_rate_hz``: the most frames per second to send (0: every frame). ``on_sent``: called
    with each sent pose's timestamp once its datagrams have left (for latency). A receiver that
    is not running loses packets, as UDP does; capture goes on. Each bone's quaternion keeps
    the sign side of the one sent before it, so receivers never see q then -q.
    """

    def __init__(self, host: str, port: int, *, max_rate_hz: float = 0.0,
                 on_sent: Callable[[float], None] | None = None) -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except socket.gaierror:
            raise MocapError(f"cannot resolve VMC host '{host}': use an IP address such as 127.0.0.1") from None
        family, _, _, _, address = infos[0]
        self._address: tuple[Any, ...] = address
        self._socket = socket.socket(family, socket.SOCK_DGRAM)
        self._min_interval_s = 1.0 / max_rate_hz if max_rate_hz > 0 else 0.0
        self._last_sent_s = -np.inf
        self._sent_quats_unity: NDArray[np.float64] | None = None
        self.sent_frames = 0
        self.send_errors = 0
        self._on_sent = on_sent

    def write(self, pose: SkeletonPose) -> None:
        now = time.monotonic()
        if now - self._last_sent_s < self._min_interval_s:
            return
        self._last_sent_s = now
        quats_unity = quaternions_to_unity(pose.local_rotations.as_quat())
        self._sent_quats_unity = continuous_quaternions(quats_unity, self._sent_quats_unity)
        for datagram in pack_bundles(vmc_messages(pose, self._sent_quats_unity)):
            try:
                self._socket.sendto(datagram, self._address)
            except OSError:
                self.send_errors += 1
        self.sent_frames += 1
        if self._on_sent is not None:
            self._on_sent(pose.timestamp_s)

    def close(self) -> None:
        self._socket.close()
