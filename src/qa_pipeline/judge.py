"""Score one call against one checklist with an LLM judge.

Output is constrained to the checklist's schema, then validated again by pydantic (a server may ignore the
schema). A reply that still fails is retried; after the retries every item is marked `needs_human`: the
judge never guesses. Quotes are located in the transcript; an unfound quote is flagged and halves the
item's confidence, which comes from the answer tokens' probabilities.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from qa_pipeline.checklist import Checklist, Item
from qa_pipeline.evidence import locate_quote
from qa_pipeline.judge_backends import JudgeBackend, JudgeError
from qa_pipeline.judge_confidence import Generation, answer_confidence, answer_positions
from qa_pipeline.judge_prompt import DEFAULT_PROMPT, MAX_QUOTES, JudgePrompt, build_prompt, build_roles_prompt
from qa_pipeline.models import ItemVerdict, Scorecard, Transcript
from qa_pipeline.scoring import score_call

logger = logging.getLogger(__name__)

UNMATCHED_EVIDENCE_PENALTY = 0.5
T = TypeVar("T")


class ItemReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evidence: list[str] = Field(max_length=MAX_QUOTES)
    rationale: str
    answer: str | int


_REPLY = TypeAdapter(dict[str, ItemReply])
_ROLES = TypeAdapter(dict[Literal["roles"], list[Literal["agent", "customer"]]])


class InvalidReply(ValueError):
    pass


def parse_reply(text: str, checklist: Checklist) -> dict[str, ItemReply]:
    try:
        replies = _REPLY.validate_json(text)
    except ValidationError as exc:
        raise InvalidReply(f"reply is not valid scorecard JSON: {exc.errors()[0]['msg']}") from exc
    expected = [item.id for item in checklist.items]
    if list(replies) != expected:
        raise InvalidReply(f"reply items {list(replies)} differ from checklist items {expected}")
    for item in checklist.items:
        answer = replies[item.id].answer
        if answer not in item.answers:
            raise InvalidReply(f"item {item.id}: answer {answer!r} not allowed")
    return replies


class Judge:
    def __init__(self, backend: JudgeBackend, retries: int = 2, prompt: str = DEFAULT_PROMPT) -> None:
        self.backend = backend
        self.retries = retries
        self.prompt = prompt

    def label_speakers(self, transcript: Transcript, stats: dict[str, Any] | None = None) -> Transcript:
        """Mono calls have one 'unknown' speaker; ask the model which lines are the agent's.

        Labels are per segment, so a segment holding both voices keeps one label. When no valid labelling
        comes back, the call stays unlabelled and speaker-scoped items are judged on everything said.
        """
        if transcript.channel_layout != "mono" or not transcript.segments:
            return transcript
        prompt = build_roles_prompt(transcript, self.prompt)
        reply = self._first_valid(prompt, _roles_parser(len(transcript.segments)), transcript.call_id, stats)
        if reply is None:
            return transcript
        segments = [
            s.model_copy(update={"speaker": role})
            for s, role in zip(transcript.segments, reply[1], strict=True)
        ]
        return transcript.model_copy(update={"segments": segments})

    def score(self, checklist: Checklist, transcript: Transcript) -> tuple[Scorecard, dict[str, Any]]:
        """The scorecard and generation statistics (tokens, attempts) for benchmarks."""
        return self.score_many([(checklist, transcript)])[0]

    def score_many(self, calls: list[tuple[Checklist, Transcript]]) -> list[tuple[Scorecard, dict[str, Any]]]:
        """First attempts for all calls go to the backend together (a padded batch, or concurrent requests);
        a call whose reply is invalid is retried on its own."""
        jobs = []
        for checklist, transcript in calls:
            stats: dict[str, Any] = {"attempts": 0, "prompt_tokens": 0, "completion_tokens": 0, "errors": []}
            labelled = self.label_speakers(transcript, stats)
            jobs.append(
                _Job(checklist, transcript, labelled, build_prompt(checklist, labelled, self.prompt), stats)
            )
        first = self.backend.generate_many([job.prompt for job in jobs], attempt=0)
        results = []
        for job, generation in zip(jobs, first, strict=True):
            job.stats["attempts"] += 1
            parse = _reply_parser(job.checklist)
            reply: tuple[Generation, dict[str, ItemReply]] | None = None
            try:
                if isinstance(generation, JudgeError):
                    raise generation
                job.stats["prompt_tokens"] += generation.prompt_tokens
                job.stats["completion_tokens"] += generation.completion_tokens
                reply = generation, parse(generation.text)
            except (JudgeError, InvalidReply) as exc:
                logger.warning("%s: judge attempt 1 failed: %s", job.transcript.call_id, exc)
                job.stats["errors"].append(str(exc))
                reply = self._first_valid(job.prompt, parse, job.transcript.call_id, job.stats, start=1)
            results.append((self._scorecard(job, reply), job.stats))
        return results

    def _scorecard(self, job: _Job, reply: tuple[Generation, dict[str, ItemReply]] | None) -> Scorecard:
        checklist, transcript, labelled = job.checklist, job.transcript, job.labelled
        judge = {
            "backend": self.backend.name,
            "model": self.backend.model_id,
            "prompt": job.prompt.prompt_hash,
        }
        if labelled is not transcript:
            judge["speakers"] = "labelled by the judge (mono call)"
        if reply is None:
            unscored = [
                ItemVerdict(item_id=item.id, answer=None, needs_human=True, flags=["judge_failed"])
                for item in checklist.items
            ]
            return score_call(checklist, transcript.call_id, unscored, judge)
        generation, replies = reply
        positions = answer_positions(generation.text)
        if len(positions) != len(checklist.items):  # cannot tie tokens to items: confidence unknown
            positions = []
        verdicts = [
            _verdict(item, replies[item.id], generation, positions[i] if positions else None, labelled)
            for i, item in enumerate(checklist.items)
        ]
        return score_call(checklist, transcript.call_id, verdicts, judge)

    def _first_valid(
        self,
        prompt: JudgePrompt,
        parse: Callable[[str], T],
        call_id: str,
        stats: dict[str, Any] | None,
        start: int = 0,
    ) -> tuple[Generation, T] | None:
        """Greedy first, then sampled retries; None when no attempt gave a valid reply."""
        for attempt in range(start, 1 + self.retries):
            if stats is not None:
                stats["attempts"] += 1
            try:
                generation = self.backend.generate(prompt, attempt=attempt)
                if stats is not None:
                    stats["prompt_tokens"] += generation.prompt_tokens
                    stats["completion_tokens"] += generation.completion_tokens
                return generation, parse(generation.text)
            except (JudgeError, InvalidReply) as exc:
                logger.warning("%s: judge attempt %d failed: %s", call_id, attempt + 1, exc)
                if stats is not None:
                    stats["errors"].append(str(exc))
        return None


@dataclass
class _Job:
    checklist: Checklist
    transcript: Transcript
    labelled: Transcript
    prompt: JudgePrompt
    stats: dict[str, Any]


def _reply_parser(checklist: Checklist) -> Callable[[str], dict[str, ItemReply]]:
    return lambda text: parse_reply(text, checklist)


def _roles_parser(count: int) -> Callable[[str], list[Literal["agent", "customer"]]]:
    def parse(text: str) -> list[Literal["agent", "customer"]]:
        try:
            roles = _ROLES.validate_json(text)["roles"]
        except (ValidationError, KeyError) as exc:
            raise InvalidReply(f"speaker labels are not valid JSON: {exc}") from exc
        if len(roles) != count:
            raise InvalidReply(f"{len(roles)} speaker labels for {count} lines")
        return roles

    return parse


def _verdict(
    item: Item, reply: ItemReply, generation: Generation, position: int | None, transcript: Transcript
) -> ItemVerdict:
    options = item.answer_labels
    closing = '"' if isinstance(reply.answer, str) else ""
    confidence = (
        answer_confidence(generation, position, str(reply.answer), options, closing)
        if position is not None
        else None
    )
    evidence = [locate_quote(quote, transcript) for quote in reply.evidence]
    flags = []
    if any(not e.matched for e in evidence):
        flags.append("evidence_not_found")
        if confidence is not None:
            confidence *= UNMATCHED_EVIDENCE_PENALTY
    return ItemVerdict(
        item_id=item.id,
        answer=reply.answer,
        evidence=evidence,
        rationale=reply.rationale,
        confidence=round(confidence, 4) if confidence is not None else None,
        flags=flags,
    )
