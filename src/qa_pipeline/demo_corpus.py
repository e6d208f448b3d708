"""The dialogue scripts behind the shipped demo corpus.

Each script is the reference text of one synthetic call (for word error rate) and records which checklist
items the call was written to pass or fail, so every later stage can be measured against known truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from qa_pipeline.checklist import Checklist
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import CallMetadata, Scorecard, Segment, Transcript
from qa_pipeline.scoring import score_answers
from qa_pipeline.transcription.timings import call_timings

Expected = Literal["yes", "no", "na"]


class Turn(BaseModel):
    """One line of the dialogue, or a hold (both sides silent) of `hold` seconds."""

    model_config = ConfigDict(extra="forbid")

    agent: str | None = None
    customer: str | None = None
    hold: float | None = Field(default=None, gt=0)
    overlap: float = Field(
        default=0.0, ge=0, description="Seconds this line starts before the last one ends."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Turn:
        given = [name for name in ("agent", "customer", "hold") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a turn needs exactly one of agent, customer, hold (got {given or 'none'})")
        return self

    @property
    def speaker(self) -> Literal["agent", "customer"] | None:
        if self.agent is not None:
            return "agent"
        return "customer" if self.customer is not None else None

    @property
    def text(self) -> str:
        return self.agent or self.customer or ""


class Voices(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str
    customer: str


class DialogueScript(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str
    language: Literal["en", "ru"]
    agent: str
    company: str
    team: str
    queue: str
    date: str
    sample_rate: Literal[8000, 16000] = 16000
    voices: Voices
    scenario: str
    expected: dict[str, Expected]
    turns: list[Turn]

    @field_validator("expected", mode="before")
    @classmethod
    def _yaml_booleans(cls, value: object) -> object:
        """YAML 1.1 reads an unquoted yes/no as a boolean; labels mean the answers."""
        if isinstance(value, dict):
            return {k: ("yes" if v else "no") if isinstance(v, bool) else v for k, v in value.items()}
        return value

    def reference_text(self, speaker: Literal["agent", "customer"]) -> str:
        return " ".join(t.text for t in self.turns if t.speaker == speaker)


def load_script(path: Path) -> DialogueScript:
    try:
        return DialogueScript.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: invalid dialogue script: {exc}") from exc


def load_scripts(folder: Path) -> dict[str, DialogueScript]:
    scripts = [load_script(p) for p in sorted(folder.glob("*.yaml"))]
    return {s.call_id: s for s in scripts}


def load_script_set(path: Path) -> dict[str, DialogueScript]:
    """A file of many scripts: `defaults` shared by all, `calls` with what differs (the evaluation set)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        defaults = data.get("defaults", {})
        scripts = [DialogueScript.model_validate({**defaults, **call}) for call in data["calls"]]
    except (OSError, yaml.YAMLError, ValidationError, AttributeError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: invalid script set: {exc}") from exc
    return {s.call_id: s for s in scripts}


SPOKEN_WORDS_PER_SECOND = 2.5
TURN_GAP_SECONDS = 0.4


def script_transcript(script: DialogueScript) -> Transcript:
    """The call as its script says it: what a perfect ASR would give, timed by a speaking rate, with
    holds as silences. Judging this and the ASR transcript apart separates judge errors from ASR errors."""
    segments: list[Segment] = []
    clock = 0.0
    for turn in script.turns:
        if turn.hold is not None:
            clock += turn.hold
            continue
        start = max(0.0, clock - turn.overlap)
        end = start + max(1.0, len(turn.text.split()) / SPOKEN_WORDS_PER_SECOND)
        segments.append(
            Segment(
                speaker=turn.speaker or "unknown",
                start=round(start, 2),
                end=round(end, 2),
                text=turn.text,
                avg_logprob=0.0,
                no_speech_prob=0.0,
                compression_ratio=1.0,
            )
        )
        clock = max(clock, end) + TURN_GAP_SECONDS
    duration = round(clock, 2)
    return Transcript(
        call_id=script.call_id,
        duration=duration,
        language=script.language,
        language_probability=1.0,
        channel_layout="stereo",
        segments=segments,
        timings=call_timings(segments, duration),
        model="script",
        options={},
        audio_sha256="",
        metadata=CallMetadata(
            agent=script.agent,
            company=script.company,
            team=script.team,
            queue=script.queue,
            date=script.date,
            language=script.language,
        ),
    )


def expected_scorecard(script: DialogueScript, checklist: Checklist) -> Scorecard:
    """The scorecard the call was written to earn, scored by the same maths as the AI's."""
    return score_answers(checklist, script.call_id, script.expected)


def item_agreement(ai: Scorecard, truth: Scorecard) -> dict[str, bool]:
    """For each item the AI answered: did it give the scripted answer?"""
    expected = {v.item_id: v.answer for v in truth.verdicts}
    return {
        v.item_id: v.answer == expected[v.item_id]
        for v in ai.verdicts
        if v.answer is not None and v.item_id in expected
    }
