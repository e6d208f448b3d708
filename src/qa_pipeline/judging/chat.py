"""Cut a model's own chat template into the pieces a per-item conversation is assembled from.

The template (from the GGUF metadata) is rendered once around marker strings; what lies between the
markers is the model's turn syntax. Prefix, questions and follow-ups are then joined as text, so the shared
prefix tokenises the same way for every question and stays in the KV cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_MARKS = ("\x00SYSTEM\x00", "\x00USER1\x00", "\x00ANSWER\x00", "\x00USER2\x00")


@dataclass(frozen=True)
class ChatTemplate:
    start: str  # before the system text
    system_to_user: str  # between system text and the first user text
    user_to_assistant: str  # end of a user turn and start of the assistant's
    assistant_to_user: str  # end of an assistant turn and start of the next user turn
    generation: str  # end of the last user turn and the assistant's start

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any], eos_token: str) -> ChatTemplate:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        def raise_exception(message: str) -> None:
            raise ValueError(message)

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = raise_exception
        source = metadata.get("tokenizer.chat_template") or CHATML
        rendered = env.from_string(source).render(
            messages=[
                {"role": "system", "content": _MARKS[0]},
                {"role": "user", "content": _MARKS[1]},
                {"role": "assistant", "content": _MARKS[2]},
                {"role": "user", "content": _MARKS[3]},
            ],
            add_generation_prompt=True,
            bos_token="",
            eos_token=eos_token,
        )
        pieces = []
        rest = rendered
        for mark in _MARKS:
            if mark not in rest:
                raise ValueError(f"the model's chat template drops a {mark.strip(chr(0)).lower()} message")
            before, rest = rest.split(mark, 1)
            pieces.append(before)
        start, system_to_user, user_to_assistant, assistant_to_user = pieces
        return cls(start, system_to_user, user_to_assistant, assistant_to_user, rest)

    def prefix(self, system: str, shared: str) -> str:
        return f"{self.start}{system}{self.system_to_user}{shared}\n\n"

    def question(self, text: str) -> str:
        return f"{text}{self.generation}"

    def follow_up(self, question: str, answer: str, next_question: str) -> str:
        answered = f"{question}{self.user_to_assistant}{answer}{self.assistant_to_user}"
        return f"{answered}{next_question}{self.generation}"
