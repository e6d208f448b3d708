"""Everything that decides how calls are judged, as one typed object, and the one way to build the judge.

`score`, `run`, `demo` and a notebook alike build a `JudgeOptions` and call `make_judge`, so a team's fitted
thresholds and every backend option reach the judge the same way whichever door it came in by. The backend
gets only the options that were given (not left at their defaults), and refuses those it cannot honour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from qa_pipeline.judging.backends import (
    DEFAULT_API_KEY_ENV,
    DEFAULT_MAX_NEW_TOKENS,
    JudgeBackend,
    make_backend,
)
from qa_pipeline.judging.judge import Judge, JudgeMode, shipped_thresholds
from qa_pipeline.judging.thresholds import thresholds_for

BACKEND_OPTIONS = frozenset({"model", "device", "base_url", "api_key_env", "max_new_tokens", "threads"})


class JudgeOptions(BaseModel):
    """Everything that decides how calls are judged.

    Attributes:
        backend: llama (llama.cpp, GGUF on CPU), transformers, openai, or auto: openai with a base_url,
            else transformers when torch sees CUDA, else llama.
        model: model id, local folder, GGUF file, bundled:qwen2.5-1.5b, bundled:smollm2, or auto (chosen
            by device); for openai, the name the server serves.
        device: auto, cpu or cuda; a backend that cannot run where asked refuses it.
        base_url: an OpenAI-compatible server, e.g. http://localhost:8000/v1 (openai backend only).
        api_key_env: the environment variable holding that server's key.
        max_new_tokens: cap on a reply in tokens; the schema bounds replies, non-Latin text needs more.
        threads: CPU threads of the llama backend; 0 uses every core.
        retries: retries for an invalid reply before its items are left to a person.
        judge_mode: items (one question per item, answered from token probabilities), scorecard (one JSON
            reply for all items), or auto: the checklist's judge_mode, else items where the backend can.
        evidence: items mode: ask which transcript line supports each answer (one more short step).
        thresholds: a team's thresholds file (fitted on its reviews), used over the shipped ones when it
            exists.
        redact_pii: replace personal data in what the judge sees and in the scorecards (for a remote
            server).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: str = "auto"
    model: str = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    base_url: str | None = None
    api_key_env: str = DEFAULT_API_KEY_ENV
    max_new_tokens: int = Field(default=DEFAULT_MAX_NEW_TOKENS, gt=0)
    threads: int = Field(default=0, ge=0)
    retries: int = Field(default=2, ge=0)
    judge_mode: JudgeMode = "auto"
    evidence: bool = True
    thresholds: Path | None = None
    redact_pii: bool = False

    def backend_options(self) -> dict[str, Any]:
        """The backend options that were given; one left at its default asks nothing of the backend."""
        return self.model_dump(include=set(BACKEND_OPTIONS), exclude_defaults=True)


def make_judge_backend(options: JudgeOptions) -> JudgeBackend:
    return make_backend(options.backend, **options.backend_options())


def make_judge(options: JudgeOptions) -> Judge:
    """The judge `options` describe: a team's fitted thresholds over the shipped ones."""
    backend = make_judge_backend(options)
    team = [options.thresholds] if options.thresholds else []
    return Judge(
        backend,
        retries=options.retries,
        mode=options.judge_mode,
        evidence=options.evidence,
        thresholds=thresholds_for(backend.model_id, [*shipped_thresholds(), *team]),
        redact_pii=options.redact_pii,
    )
