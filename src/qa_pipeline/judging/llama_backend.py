"""The llama.cpp judge backend: a GGUF model in process, on an ordinary CPU.

Its strength is the one-question-per-item mode: the system prompt and transcript are encoded once per
call (the KV cache keeps them), each item's question is appended and read at its first answer token, then
the cache is rewound to the transcript. The system prompt stays cached from call to call too. The whole
scorecard JSON mode runs as well (constrained by a grammar built from the checklist's schema), but without
token probabilities: keeping them would cost context x vocabulary floats. On a GPU it runs only where
llama-cpp-python was built with GPU offload; asked for one otherwise, it refuses rather than use the CPU.
"""

from __future__ import annotations

import math
import os
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from qa_pipeline.errors import ModelError
from qa_pipeline.judging.backends import RETRY_TEMPERATURE, BackendConfig, JudgeError, register_backend
from qa_pipeline.judging.chat import ChatTemplate
from qa_pipeline.judging.confidence import Generation
from qa_pipeline.judging.item_prompt import ItemConversation
from qa_pipeline.judging.llm_models import resolve_llm
from qa_pipeline.judging.prompt import JudgePrompt

OptionProbabilities = dict[str | int, float]


class LlamaConfig(BackendConfig):
    """What the llama.cpp backend honours.

    Attributes:
        device: `auto` and `cpu` run on the CPU; `cuda` offloads every layer to the GPU, and is refused
            where this llama.cpp build has no GPU offload.
        threads: CPU threads; 0 uses every core this process may run on.
        context: the context window in tokens (system prompt, transcript and one question).
    """

    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int = Field(default=0, ge=0)
    context: int = Field(default=8192, gt=0)


@register_backend("llama", LlamaConfig)
class LlamaCppBackend:
    """A GGUF file (`bundled:qwen2.5-1.5b`, `bundled:smollm2` or a path) run by llama-cpp-python."""

    name = "llama"

    def __init__(self, config: LlamaConfig) -> None:
        self.ref = resolve_llm(config.model, cuda=False)
        if not self.ref.gguf_file:
            raise ModelError(
                f"the llama backend runs GGUF files; {config.model!r} is not one (use bundled:qwen2.5-1.5b, "
                "a .gguf path, or the transformers backend)"
            )
        if config.device == "cuda" and not _llama_cpp().llama_supports_gpu_offload():
            raise ModelError(
                "the llama backend was asked for device cuda, but this llama-cpp-python build has no GPU "
                "offload: reinstall it built for CUDA (CMAKE_ARGS=-DGGML_CUDA=on pip install "
                "--force-reinstall --no-cache-dir llama-cpp-python), or use the transformers backend"
            )
        self.device = "cuda" if config.device == "cuda" else "cpu"
        self.path = Path(self.ref.load_path) / self.ref.gguf_file
        self.model_id = self.ref.identity
        self.threads = config.threads or len(os.sched_getaffinity(0))
        self.context = config.context
        self.max_new_tokens = config.max_new_tokens

    @cached_property
    def _llm(self) -> Any:
        try:
            return _llama_cpp().Llama(
                model_path=str(self.path),
                n_ctx=self.context,
                n_threads=self.threads,
                n_threads_batch=self.threads,
                n_batch=512,
                n_gpu_layers=-1 if self.device == "cuda" else 0,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{self.path}: llama.cpp cannot load this model: {exc}") from exc

    @cached_property
    def _chat(self) -> ChatTemplate:
        llm = self._llm
        return ChatTemplate.from_metadata(llm.metadata, llm.detokenize([llm.token_eos()]).decode())

    def _tokens(self, text: str, *, first: bool = False) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=first, special=True))

    def _option_tokens(self, options: dict[str | int, list[str]]) -> dict[str | int, set[int]]:
        """First tokens of each answer's words; a token that starts two answers counts for neither."""
        starts: dict[str | int, set[int]] = {}
        for answer, words in options.items():
            ids = set()
            for word in words:
                for form in (word, " " + word):
                    tokens = self._llm.tokenize(form.encode("utf-8"), add_bos=False, special=False)
                    if tokens:
                        ids.add(tokens[0])
            starts[answer] = ids
        for answer, ids in starts.items():
            others = set().union(*(v for k, v in starts.items() if k != answer))
            starts[answer] = ids - others
        empty = [str(a) for a, ids in starts.items() if not ids]
        if empty:
            raise JudgeError(
                f"answers {', '.join(empty)} share their first token with another answer; "
                "ask this item in the scorecard judge mode"
            )
        return starts

    def _eval_from(self, tokens: list[int], reuse_at_most: int | None = None) -> None:
        """Evaluate `tokens`, reusing the cached prefix they share with what was evaluated before.

        `reuse_at_most` keeps the reuse at the shared prefix's end, so every question is evaluated from
        the same point whatever was asked before it: the same question gives the same probabilities
        (batch splits change floating-point sums, and a threshold sits between close probabilities).
        """
        llm = self._llm
        if len(tokens) >= self.context:
            raise JudgeError(f"prompt of {len(tokens)} tokens does not fit the context of {self.context}")
        cached = list(llm.input_ids[: llm.n_tokens])
        common = 0
        for old, new in zip(cached, tokens, strict=False):
            if old != new:
                break
            common += 1
        common = min(common, len(tokens) - 1)  # at least one token is evaluated, so logits are fresh
        if reuse_at_most is not None:
            common = min(common, reuse_at_most)
        llm.n_tokens = common
        llm.eval(tokens[common:])

    def _distribution(self, options: dict[str | int, set[int]]) -> OptionProbabilities:
        import llama_cpp
        import numpy as np

        llm = self._llm
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),))
        peak = float(logits.max())
        total = float(np.exp(logits - peak).sum())
        return {
            answer: sum(math.exp(float(logits[i]) - peak) for i in ids) / total
            for answer, ids in options.items()
        }

    def answer_items(self, conversation: ItemConversation) -> list[OptionProbabilities]:
        """For each question, the probability the model gives each allowed answer's first token."""
        chat = self._chat
        prefix = self._tokens(chat.prefix(conversation.system, conversation.shared), first=True)
        answers = []
        for question in conversation.questions:
            suffix = self._tokens(chat.question(question.text))
            self._eval_from(prefix + suffix, reuse_at_most=len(prefix))
            answers.append(self._distribution(self._option_tokens(question.options)))
        return answers

    def point_line(
        self, conversation: ItemConversation, question_index: int, answer: str, candidates: list[int]
    ) -> int | None:
        """Which transcript line supports an answer, chosen greedily among candidate line numbers."""
        if not candidates:
            return None
        chat = self._chat
        question = conversation.questions[question_index]
        prefix = self._tokens(chat.prefix(conversation.system, conversation.shared), first=True)
        tokens = prefix + self._tokens(
            chat.follow_up(question.text, answer, conversation.evidence_question()) + "L"
        )
        reuse = len(prefix)
        typed = ""
        labels = {conversation.line_label(c) for c in candidates}
        digits = {d: self._llm.tokenize(d.encode(), add_bos=False, special=False)[0] for d in "0123456789"}
        for _ in range(len(next(iter(labels)))):
            self._eval_from(tokens, reuse_at_most=reuse)
            reuse = len(tokens)
            allowed: dict[str | int, set[int]] = {
                digit: {token}
                for digit, token in digits.items()
                if any(n.startswith(typed + digit) for n in labels)
            }
            choice = str(max(self._distribution(allowed).items(), key=lambda kv: kv[1])[0])
            typed += choice
            tokens = [*tokens, digits[choice]]
        return int(typed) if typed in labels else None

    def generate(self, prompt: JudgePrompt, *, attempt: int) -> Generation:
        """The whole-scorecard JSON reply, constrained by the schema; no token probabilities here."""
        try:
            response = self._llm.create_chat_completion(
                messages=prompt.messages,
                response_format={"type": "json_object", "schema": prompt.schema},
                temperature=0.0 if attempt == 0 else RETRY_TEMPERATURE,
                max_tokens=self.max_new_tokens,
            )
        except (ValueError, RuntimeError) as exc:
            raise JudgeError(f"llama.cpp failed: {exc}") from exc
        choice = response["choices"][0]
        if choice.get("finish_reason") == "length":
            raise JudgeError(f"judge reply cut off at {self.max_new_tokens} tokens")
        usage = response.get("usage") or {}
        return Generation(
            text=choice["message"]["content"] or "",
            token_offsets=[],
            alternatives=lambda index: {},
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
        )

    def generate_many(self, prompts: list[JudgePrompt], *, attempt: int) -> list[Generation | JudgeError]:
        results: list[Generation | JudgeError] = []
        for prompt in prompts:
            try:
                results.append(self.generate(prompt, attempt=attempt))
            except JudgeError as exc:
                results.append(exc)
        return results


def _llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise ModelError(
            "the llama backend needs llama-cpp-python: pip install 'qa-pipeline[bundled]' "
            f"(it builds llama.cpp from source in a few minutes): {exc}"
        ) from exc
    return llama_cpp
