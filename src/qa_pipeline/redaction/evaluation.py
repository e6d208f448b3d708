"""Measure redaction on a set of spoken forms: recall per kind, and what was redacted that should stay.

A case is a stretch of a call as the ASR split it into segments, with the personal data it holds (kind
and text). The data counts as found when every letter and digit of it lies under redactions of its
kind; a redaction that touches none of the expected data is a false positive. The set's format is
described at the top of tests/data/redaction_set.yaml.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from qa_pipeline.errors import ConfigError, first_line
from qa_pipeline.models import Segment, Speaker
from qa_pipeline.redaction.detect import Kind
from qa_pipeline.redaction.transcript import segment_spans


class SaidSegment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: Speaker = "customer"
    text: str


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    text: str = Field(min_length=1)
    speaker: Speaker = "customer"


class RedactionCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    segments: list[SaidSegment] = Field(min_length=1)
    expect: list[Expected]

    @field_validator("segments", mode="before")
    @classmethod
    def _plain_strings(cls, value: object) -> object:
        """A bare string is the customer's segment: most cases are one caller reading something out."""
        if isinstance(value, list):
            return [{"text": item} if isinstance(item, str) else item for item in value]
        return value


class RedactionSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dev: list[RedactionCase]
    eval: list[RedactionCase]


class CaseResult(BaseModel):
    id: str
    missed: list[Expected]
    false_positives: list[str] = Field(description="redacted text that is not expected personal data")


class RedactionScores(BaseModel):
    cases: list[CaseResult]
    expected: dict[str, int] = Field(description="expected items per kind")
    found: dict[str, int] = Field(description="expected items found, with their kind, per kind")
    negatives: int = Field(description="cases with nothing to redact")
    negatives_redacted: int = Field(description="of those, cases where something was redacted anyway")

    def recall(self, kind: str) -> float:
        return self.found.get(kind, 0) / self.expected[kind] if self.expected.get(kind) else 1.0

    @property
    def false_positives(self) -> int:
        return sum(len(case.false_positives) for case in self.cases)


def load_redaction_set(path: Path) -> RedactionSet:
    try:
        return RedactionSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: not a redaction set ({first_line(exc)})") from exc


def evaluate(cases: list[RedactionCase]) -> RedactionScores:
    results = [_evaluate_case(case) for case in cases]
    expected = Counter(item.kind for case in cases for item in case.expect)
    missed = Counter(item.kind for result in results for item in result.missed)
    negatives = [result for case, result in zip(cases, results, strict=True) if not case.expect]
    return RedactionScores(
        cases=results,
        expected=dict(expected),
        found={kind: count - missed[kind] for kind, count in expected.items()},
        negatives=len(negatives),
        negatives_redacted=sum(bool(result.false_positives) for result in negatives),
    )


def _evaluate_case(case: RedactionCase) -> CaseResult:
    segments = [
        Segment(
            speaker=said.speaker,
            start=2.0 * index,  # a short pause between segments, as batched decoding splits speech
            end=2.0 * index + 1.5,
            text=said.text,
            avg_logprob=-0.2,
            no_speech_prob=0.01,
            compression_ratio=1.2,
        )
        for index, said in enumerate(case.segments)
    ]
    spans = segment_spans(segments)
    # Each speaker's text joined by one space, as the expected texts are written, with kinds per char.
    joined: dict[str, str] = {}
    kinds: dict[str, list[str | None]] = {}
    for segment, found in zip(segments, spans, strict=True):
        marks: list[str | None] = [None] * len(segment.text)
        for span in found:
            marks[span.start : span.end] = [span.kind] * (span.end - span.start)
        if segment.speaker in joined:
            joined[segment.speaker] += " " + segment.text
            kinds[segment.speaker] += [None, *marks]
        else:
            joined[segment.speaker], kinds[segment.speaker] = segment.text, marks
    missed, claimed = [], set()
    for item in case.expect:
        text = joined.get(item.speaker, "")
        start = text.find(item.text)
        if start < 0:
            raise ConfigError(f"redaction case {case.id}: {item.text!r} is not in the {item.speaker}'s text")
        inside = range(start, start + len(item.text))
        claimed |= {(item.speaker, i) for i in inside}
        if any(text[i].isalnum() and kinds[item.speaker][i] != item.kind for i in inside):
            missed.append(item)
    false_positives = []
    for speaker, marks in kinds.items():
        for start, end in _marked_runs(marks):
            if not any((speaker, i) in claimed for i in range(start, end)):
                false_positives.append(joined[speaker][start:end])
    return CaseResult(id=case.id, missed=missed, false_positives=false_positives)


def _marked_runs(marks: list[str | None]) -> list[tuple[int, int]]:
    runs, start = [], None
    for index, mark in enumerate([*marks, None]):
        if mark is not None and start is None:
            start = index
        elif mark is None and start is not None:
            runs.append((start, index))
            start = None
    return runs
