"""MediaPipe's lite and heavy pose models, installed without Google's download host.

The mediapipe 0.10.21 wheel bundles only the full pose landmark model. For the lite
(``--model-complexity 0``) and heavy (``2``) ones it downloads from storage.googleapis.com on
first use, which fails behind firewalls and on machines that reach only package registries.
The same two files are published in the npm registry's ``@mediapipe/pose`` package (Google's
JavaScript release, Apache-2.0; its full model is byte-identical to the wheel's).
:func:`install_pose_models` downloads that package once, checks its SHA-256, and puts the two
files where MediaPipe looks for them, so it never tries to download them itself.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

from mocap.core.errors import MocapError

NPM_PACKAGE_URL = "https://registry.npmjs.org/@mediapipe/pose/-/pose-0.5.1675469404.tgz"
NPM_PACKAGE_SHA256 = "8bb349a7b3a3ba699df23be804ddd3b3eab810b50b15406894be257859388a84"
NPM_PACKAGE_BYTES = 40_985_403
POSE_MODEL_FILES = ("pose_landmark_lite.tflite", "pose_landmark_heavy.tflite")  # --model-complexity 0 and 2


def pose_model_folder() -> Path:
    """Where MediaPipe's pose solution loads its landmark models from."""
    import mediapipe

    return Path(mediapipe.__file__).resolve().parent / "modules" / "pose_landmark"


def missing_pose_models(folder: Path) -> list[str]:
    """The lite and heavy model files not yet in ``folder``."""
    return [name for name in POSE_MODEL_FILES if not (folder / name).is_file()]


def _download(url: str, on_bytes: Callable[[int], None]) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            chunks = []
            while chunk := response.read(1 << 20):
                chunks.append(chunk)
                on_bytes(len(chunk))
    except OSError as error:  # URLError, timeouts and refused connections are all OSErrors
        raise MocapError(
            f"could not download MediaPipe's pose models from {url} ({error}): check the internet "
            "connection or proxy, then run `mocap models` again"
        ) from None
    return b"".join(chunks)


def install_pose_models(
    folder: Path,
    url: str = NPM_PACKAGE_URL,
    sha256: str = NPM_PACKAGE_SHA256,
    *,
    on_bytes: Callable[[int], None] = lambda count: None,
) -> list[Path]:
    """Download the npm package at ``url``, check its ``sha256``, and write the lite and heavy
    pose models missing from ``folder`` (normally :func:`pose_model_folder`) into it; returns
    the files written (none if both were there).

    ``on_bytes`` is called with each downloaded chunk's size in bytes (a progress bar).
    Nothing is written unless the whole package arrived with the expected SHA-256, and each
    file appears under its final name only once complete.
    """
    missing = missing_pose_models(folder)
    if not missing:
        return []
    if not os.access(folder, os.W_OK):
        raise MocapError(f"cannot write MediaPipe's model folder {folder}: run `mocap models` as the user "
                         "who installed mocap")
    package = _download(url, on_bytes)
    digest = hashlib.sha256(package).hexdigest()
    if digest != sha256:
        raise MocapError(f"the package downloaded from {url} is not the expected one (SHA-256 {digest[:12]}..., "
                         f"expected {sha256[:12]}...): nothing was installed; check for a proxy "
                         "rewriting downloads, then run `mocap models` again")
    written = []
    with tarfile.open(fileobj=io.BytesIO(package), mode="r:gz") as archive:
        for name in missing:
            model = archive.extractfile(f"package/{name}")
            assert model is not None, name   # the package's checksum was checked: it holds both
            handle, partial_name = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
            os.close(handle)
            partial = Path(partial_name)
            try:
                partial.write_bytes(model.read())
                partial.chmod(0o644)
                partial.replace(folder / name)
            except OSError as error:
                partial.unlink(missing_ok=True)
                raise MocapError(f"could not write {folder / name} ({error}): make room on the disk or move "
                                 "what is in the way, then run `mocap models` again") from None
            written.append(folder / name)
    return written
