"""Installing MediaPipe's lite and heavy pose models from an npm package served over real HTTP
on loopback: what lands in the model folder, and what a broken download leaves there."""

from __future__ import annotations

import hashlib
import io
import socket
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mocap.core.errors import MocapError
from mocap.estimation.models import install_pose_models


def npm_package(files: dict[str, bytes]) -> bytes:
    """A gzipped tar laid out like an npm package: every file under package/."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


PACKAGE = npm_package({"pose_landmark_lite.tflite": b"lite model", "pose_landmark_heavy.tflite": b"heavy model",
                       "pose.js": b"// not a model"})
PACKAGE_SHA256 = hashlib.sha256(PACKAGE).hexdigest()


@pytest.fixture()
def package_url() -> Iterator[str]:
    """A real HTTP server on loopback serving PACKAGE at /pose.tgz."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(PACKAGE)))
            self.end_headers()
            self.wfile.write(PACKAGE)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/pose.tgz"
    server.shutdown()
    server.server_close()


def test_only_the_missing_model_is_written_and_the_present_one_is_left_alone(tmp_path: Path, package_url: str) -> None:
    (tmp_path / "pose_landmark_lite.tflite").write_bytes(b"the user's own lite model")
    downloaded = []
    written = install_pose_models(tmp_path, package_url, PACKAGE_SHA256, on_bytes=downloaded.append)
    assert written == [tmp_path / "pose_landmark_heavy.tflite"]
    assert (tmp_path / "pose_landmark_heavy.tflite").read_bytes() == b"heavy model"
    assert (tmp_path / "pose_landmark_lite.tflite").read_bytes() == b"the user's own lite model"
    assert sum(downloaded) == len(PACKAGE)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pose_landmark_heavy.tflite", "pose_landmark_lite.tflite"]
    assert install_pose_models(tmp_path, package_url, PACKAGE_SHA256) == []


def test_a_package_with_the_wrong_checksum_installs_nothing(tmp_path: Path, package_url: str) -> None:
    with pytest.raises(MocapError, match="not the expected one.*nothing was installed.*mocap models"):
        install_pose_models(tmp_path, package_url, "0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_registry_names_the_address_and_the_fix(tmp_path: Path) -> None:
    with socket.socket() as closed:   # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/pose.tgz"
    with pytest.raises(MocapError, match=f"could not download .* from {url} .*run `mocap models` again"):
        install_pose_models(tmp_path, url, PACKAGE_SHA256)
    assert list(tmp_path.iterdir()) == []


def test_a_model_that_cannot_be_written_leaves_no_partial_file(tmp_path: Path, package_url: str) -> None:
    (tmp_path / "pose_landmark_heavy.tflite").mkdir()   # a folder where the model file should go
    with pytest.raises(MocapError, match="could not write .*pose_landmark_heavy.tflite.*run `mocap models` again"):
        install_pose_models(tmp_path, package_url, PACKAGE_SHA256)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pose_landmark_heavy.tflite", "pose_landmark_lite.tflite"]
    assert (tmp_path / "pose_landmark_heavy.tflite").is_dir()
