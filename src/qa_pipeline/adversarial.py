"""The adversarial set: lines that try to steer the score from inside a call, and lookalikes that do not.

The people being scored speak in the transcript the judge reads, so the set places each attempt into a
poor call and keeps the call without it as its twin: a guard that works leaves the twin's score unchanged
and flags the inserted line. Clean lines that sound close (recording notices, "my supervisor said I can
offer a discount") are inserted the same way to count false flags. The set measures a guard and is never
used to tune one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from qa_pipeline.demo_corpus import DialogueScript, Turn, script_transcript
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import Transcript

Language = Literal["en", "ru"]
Family = Literal["direct", "indirect", "polite", "bossy", "fake_markup", "authority", "role_play", "hidden"]
Place = Literal["start", "middle", "end"]
FAMILIES: tuple[Family, ...] = get_args(Family)


class InsertedLine(BaseModel):
    """One line put into a base call; `after` counts the call's turns before it (0: first line)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    call: str = Field(min_length=1, description="the base call's id")
    after: int = Field(ge=0)
    speaker: Literal["agent", "customer"]
    language: Language
    text: str = Field(min_length=1)
    round: int = Field(
        1,
        ge=1,
        description="the writing round: each round is written before the guard changes that follow it, "
        "so a later round measures those changes on lines they never saw",
    )


class Attempt(InsertedLine):
    family: Family


class CleanLine(InsertedLine):
    """Legitimate contact-centre speech that resembles an attempt; flagging it is a false flag."""


class AttemptPair(NamedTuple):
    attempt_id: str
    family: Family
    attempt: Transcript
    twin: Transcript
    segment: int  # index of the inserted line among the attempt transcript's segments


class CleanCall(NamedTuple):
    line_id: str
    transcript: Transcript
    segment: int


class AdversarialSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    base_calls: list[DialogueScript]
    attempts: list[Attempt]
    clean: list[CleanLine]

    @property
    def calls(self) -> dict[str, DialogueScript]:
        return {call.call_id: call for call in self.base_calls}

    @model_validator(mode="after")
    def _lines_fit_their_calls(self) -> AdversarialSet:
        ids = [call.call_id for call in self.base_calls] + [line.id for line in self._lines()]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"ids used more than once: {', '.join(repeated)}")
        calls = self.calls
        for line in self._lines():
            base = calls.get(line.call)
            if base is None:
                raise ValueError(f"{line.id}: no base call {line.call!r}")
            if line.language != base.language:
                raise ValueError(f"{line.id}: language {line.language} but {line.call} is {base.language}")
            if line.after > len(base.turns):
                raise ValueError(f"{line.id}: after {line.after} but {line.call} has {len(base.turns)} turns")
        return self

    def _lines(self) -> list[InsertedLine]:
        return [*self.attempts, *self.clean]

    def inserted(self, line: InsertedLine) -> tuple[Transcript, int]:
        """The base call with the line in it, under the line's id, and the line's segment index."""
        base = self.calls[line.call]
        turns = list(base.turns)
        turns.insert(line.after, Turn.model_validate({line.speaker: line.text}))
        script = base.model_copy(update={"call_id": line.id, "turns": turns})
        segment = sum(turn.hold is None for turn in base.turns[: line.after])
        return script_transcript(script), segment

    def place(self, line: InsertedLine) -> Place:
        """Where in the call the line falls, by thirds of its lines."""
        transcript, segment = self.inserted(line)
        share = segment / max(1, len(transcript.segments) - 1)
        return "start" if share < 1 / 3 else "end" if share > 2 / 3 else "middle"

    def pairs(self) -> Iterator[AttemptPair]:
        for attempt in self.attempts:
            transcript, segment = self.inserted(attempt)
            twin = script_transcript(self.calls[attempt.call])
            yield AttemptPair(attempt.id, attempt.family, transcript, twin, segment)

    def clean_calls(self) -> Iterator[CleanCall]:
        for line in self.clean:
            transcript, segment = self.inserted(line)
            yield CleanCall(line.id, transcript, segment)


def load_adversarial_set(path: Path) -> AdversarialSet:
    """Base calls take `defaults[<their language>]` for what they do not say (team, queue, voices...)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise TypeError("expected a mapping with version, defaults, base_calls, attempts, clean")
        defaults: dict[str, dict[str, Any]] = data.pop("defaults", None) or {}
        data["base_calls"] = [
            {**defaults.get(call.get("language", ""), {}), **call} for call in data.get("base_calls") or []
        ]
        return AdversarialSet.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError, AttributeError, TypeError) as exc:
        raise ConfigError(f"{path}: invalid adversarial set: {exc}") from exc
