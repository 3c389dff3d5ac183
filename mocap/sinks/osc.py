"""OSC over UDP, apart from any one schema: addresses, message and bundle encoding, and a
sender that streams one pose's messages a frame (the VMC, plain-schema and VRChat senders).

Messages carry only ``i``, ``f`` and ``s`` arguments, always the full count their schema
defines; bundles stay within 1500 bytes (one Ethernet MTU, so no IP fragmentation).
"""

from __future__ import annotations

import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.parsing import osc_types

from mocap.core.errors import MocapError
from mocap.core.frames import SkeletonPose

MAX_DATAGRAM_BYTES = 1500


def parse_address(text: str, *, default_port: int) -> tuple[str, int]:
    """'HOST:PORT' (or just 'HOST', meaning ``default_port``) -> (host, port)."""
    host, colon, port_text = text.rpartition(":")
    if not colon:
        host, port_text = text, str(default_port)
    if not port_text.isdigit() or not host.strip():
        raise MocapError(f"bad address '{text}': expected HOST:PORT, e.g. 127.0.0.1:{default_port}")
    port = int(port_text)
    if not 0 < port < 65536:
        raise MocapError(f"bad address '{text}': port {port} is out of range; use a port from 1 to 65535 "
                         f"(e.g. {default_port})")
    return host, port


def osc_message(address: str, *args: object) -> bytes:
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


class OscSender(ABC):
    """Sends each pose's messages (:meth:`messages`) as bundles over one persistent UDP socket.

    ``max_rate_hz``: the most frames per second to send (0: every frame). ``on_sent``: called
    with each sent pose's timestamp once its datagrams have left (for latency). A receiver that
    is not running loses packets, as UDP does; capture goes on, and failed sends are counted.
    """

    def __init__(self, host: str, port: int, *, max_rate_hz: float = 0.0,
                 on_sent: Callable[[float], None] | None = None) -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except socket.gaierror:
            raise MocapError(f"cannot resolve host '{host}': use an IP address such as 127.0.0.1") from None
        family, _, _, _, address = infos[0]
        self._address: tuple[Any, ...] = address
        self._socket = socket.socket(family, socket.SOCK_DGRAM)
        self._min_interval_s = 1.0 / max_rate_hz if max_rate_hz > 0 else 0.0
        self._last_sent_s = -float("inf")
        self._on_sent = on_sent
        self.sent_frames = 0
        self.send_errors = 0
        self.sent_bytes = 0

    @abstractmethod
    def messages(self, pose: SkeletonPose) -> list[bytes]:
        """The encoded OSC messages for one pose, in sending order."""

    def write(self, pose: SkeletonPose) -> None:
        now = time.monotonic()
        if now - self._last_sent_s < self._min_interval_s:
            return
        self._last_sent_s = now
        for datagram in pack_bundles(self.messages(pose)):
            try:
                self._socket.sendto(datagram, self._address)
                self.sent_bytes += len(datagram)
            except OSError:
                self.send_errors += 1
        self.sent_frames += 1
        if self._on_sent is not None:
            self._on_sent(pose.timestamp_s)

    def close(self) -> None:
        self._socket.close()
