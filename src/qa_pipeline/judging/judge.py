"""Score one call against one checklist: rule items by their rules, the rest by an LLM judge.

First every item's `applies_if` gate and every phrase or timing rule is decided from the transcript
(`source: rule`); on a conversation without times (a chat, an e-mail) an item resting on times, by its
rule or its window, is N/A (`no_times`). The items left go to the model in one of two modes:
- `items`: one question per item on a shared, cached prefix, answered from the allowed answers' token
  probabilities (small local models on CPU: nothing to generate, confidence for free); evidence is a
  transcript line the model points at, quoted by the code with its timestamps;
- `scorecard`: one JSON reply for all items, constrained to the checklist's schema, validated by pydantic
  and retried (strong models, servers); quotes are located in the transcript, an unfound quote is flagged
  and halves the item's confidence.
When the model fails, its items are marked `needs_human`: the judge never guesses.

Before anything is decided, the manipulation guard (judging/manipulation.py) takes speech addressed to the
evaluator out of the transcript; where a call had such speech, its items are also answered on the
transcript as said, and an item whose answer the attempt changes keeps the answer without it and goes to
a person. A fatal fail below `fatal_min_confidence` is not trusted to zero an agent's call: it waits for a
person and the total stays provisional.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from qa_pipeline.checklist import Checklist, Item
from qa_pipeline.errors import ConfigError
from qa_pipeline.judging.backends import ItemBackend, JudgeBackend, JudgeError
from qa_pipeline.judging.confidence import Generation, answer_confidence, answer_positions, calibrate
from qa_pipeline.judging.evidence import in_scope_lines, locate_quote
from qa_pipeline.judging.item_prompt import (
    ANSWER_WORDS,
    ITEMS_PROMPT,
    ItemConversation,
    ItemQuestion,
    build_conversation,
    condition_question,
    item_question,
)
from qa_pipeline.judging.manipulation import find_attempts, guard_identity, without_attempts
from qa_pipeline.judging.phrases import asr_confidence
from qa_pipeline.judging.prompt import (
    DEFAULT_PROMPT,
    MAX_QUOTES,
    JudgePrompt,
    build_prompt,
    build_roles_prompt,
    output_schema,
    prompt_dir,
    prompt_hash,
)
from qa_pipeline.judging.rules import (
    MIN_ASR_CONFIDENCE,
    RULES_VERSION,
    call_placeholders,
    condition_by_rules,
    doubtful_speakers_verdict,
    missing_placeholders,
    not_applicable,
    phrase_verdict,
    speaker_scoped,
    times_needed,
    timing_verdict,
    untimed_verdict,
)
from qa_pipeline.judging.thresholds import DEFAULT_THRESHOLD, THRESHOLDS_FILE, thresholds_for
from qa_pipeline.models import (
    Diarization,
    Evidence,
    ItemVerdict,
    ManipulationAttempt,
    Scorecard,
    Speaker,
    Transcript,
)
from qa_pipeline.redaction import redact_transcript
from qa_pipeline.scoring import item_points, score_call

logger = logging.getLogger(__name__)

UNMATCHED_EVIDENCE_PENALTY = 0.5
# A fatal item answered "no" with less confidence than this goes to a person instead of zeroing the call.
# Measured with the bundled 1.5B judge on the demo and development scripts: its two fatal fails there were
# right at 0.51 and 0.76, and its wrong one on the demo's ASR (en08, a polite agent) came at 0.56, so no
# cut below 0.77 separates right from wrong; until a larger model or more reviews show one, a fatal fail
# from this judge is confirmed by a person.
FATAL_MIN_CONFIDENCE = 0.8
# A fatal item answered "yes" with less confidence than this keeps its answer (a pass does not punish the
# agent) but is flagged `uncertain_fatal_pass`, and sampling puts the call before ordinary risks: a rude
# agent passed on a coin toss is what human control is there to catch. Chosen on the demo and development
# scripts (benchmarks/score.py prints every fatal verdict's p(yes) against its label): see the README.
FATAL_PASS_MIN_CONFIDENCE = 0.65
# Lines the model must label alike for its word to settle which of two voices is the agent's.
ROLE_VOTE_SHARE = 2 / 3
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


JudgeMode = Literal["auto", "items", "scorecard"]


class Judge:
    def __init__(
        self,
        backend: JudgeBackend,
        retries: int = 2,
        prompt: str = DEFAULT_PROMPT,
        mode: JudgeMode = "auto",
        evidence: bool = True,
        thresholds: dict[str, float] | None = None,
        backoff: float = 1.0,
        redact_pii: bool = False,
        guard: bool = True,
        fatal_min_confidence: float = FATAL_MIN_CONFIDENCE,
        fatal_pass_min_confidence: float = FATAL_PASS_MIN_CONFIDENCE,
    ) -> None:
        self.backend = backend
        self.retries = retries
        # Seconds before the first retry after a backend error (server down, timeout), doubled after each:
        # a server restarting gets time to come back instead of three instant failures.
        self.backoff = backoff
        # Personal data out of the transcript before any prompt is built (for a remote judge endpoint).
        self.redact_pii = redact_pii
        # The manipulation guard; off only to measure what it prevents (benchmarks/manipulation.py).
        self.guard = guard
        self.fatal_min_confidence = fatal_min_confidence
        self.fatal_pass_min_confidence = fatal_pass_min_confidence
        self.prompt = prompt
        self.mode = mode
        self.evidence = evidence
        # Item id -> p(yes) at which a yes/no item is answered yes (judging/thresholds.py).
        self.thresholds = (
            thresholds if thresholds is not None else thresholds_for(backend.model_id, shipped_thresholds())
        )

    def mode_for(self, checklist: Checklist) -> Literal["items", "scorecard"]:
        """--judge-mode, else the checklist's `judge_mode`, else what the backend does best."""
        mode = self.mode if self.mode != "auto" else checklist.judge_mode
        if mode is None:
            mode = "items" if isinstance(self.backend, ItemBackend) else "scorecard"
        if mode == "items" and not isinstance(self.backend, ItemBackend):
            raise ConfigError(
                f"the {self.backend.name} backend cannot ask item by item: use the llama backend "
                "or the scorecard judge mode"
            )
        return mode

    def identity(self, checklist: Checklist) -> dict[str, object]:
        """What decides a scorecard besides transcript and checklist: part of the cache key."""
        mode = self.mode_for(checklist)
        identity: dict[str, object] = {
            "backend": self.backend.name,
            "model": self.backend.model_id,
            "mode": mode,
            "rules": RULES_VERSION,
            "fatal_min_confidence": self.fatal_min_confidence,
            "fatal_pass_min_confidence": self.fatal_pass_min_confidence,
        }
        if self.guard:
            identity["guard"] = guard_identity()
        if self.redact_pii:
            identity["redact_pii"] = True
        if mode == "items":
            identity["prompt"] = prompt_hash(ITEMS_PROMPT)
            identity["evidence"] = self.evidence
            identity["thresholds"] = {
                item.id: self.thresholds[item.id] for item in checklist.items if item.id in self.thresholds
            }
        else:
            identity["prompt"] = prompt_hash(self.prompt)
            identity["schema"] = output_schema(checklist)  # its limits live in code, not in the templates
        return identity

    def label_speakers(self, transcript: Transcript, stats: dict[str, Any] | None = None) -> Transcript:
        """Mono calls whose speakers were not found by voice have one 'unknown' speaker; ask the model
        which lines are the agent's.

        Labels are per segment, so a segment holding both voices keeps one label. When no valid labelling
        comes back, the call stays unlabelled and speaker-scoped items are judged on everything said.
        """
        found = transcript.diarization
        if found is not None and "roles" in found.doubts and found.speakers == 2:
            return self._settle_roles(transcript, found, stats)
        if transcript.channel_layout != "mono" or not any(
            s.speaker == "unknown" for s in transcript.segments
        ):
            return transcript  # stereo, empty, or speakers already found from their voices
        prompt = build_roles_prompt(transcript, self.prompt)
        reply = self._first_valid(prompt, _roles_parser(len(transcript.segments)), transcript.call_id, stats)
        if reply is None:
            return transcript
        segments = [
            s.model_copy(update={"speaker": role})
            for s, role in zip(transcript.segments, reply[1], strict=True)
        ]
        return transcript.model_copy(update={"segments": segments})

    def _settle_roles(
        self, transcript: Transcript, found: Diarization, stats: dict[str, Any] | None
    ) -> Transcript:
        """The voices were told apart but the cues could not say which is the agent: the model labels
        each line, not shown the voices' labels, and a clear majority (ROLE_VOTE_SHARE) decides whether
        the labels stand or swap. Without one the doubt stays and speaker-scoped items go to people."""
        hidden = transcript.model_copy(
            update={"segments": [s.model_copy(update={"speaker": "unknown"}) for s in transcript.segments]}
        )
        prompt = build_roles_prompt(hidden, self.prompt)
        reply = self._first_valid(prompt, _roles_parser(len(hidden.segments)), transcript.call_id, stats)
        if reply is None:
            return transcript
        agree = sum(1 for s, role in zip(transcript.segments, reply[1], strict=True) if s.speaker == role)
        share = agree / max(1, len(transcript.segments))
        if max(share, 1 - share) < ROLE_VOTE_SHARE:
            return transcript
        swap = share < 0.5
        other: dict[str, Speaker] = {"agent": "customer", "customer": "agent", "unknown": "unknown"}
        segments = [
            s.model_copy(update={"speaker": other[s.speaker]}) if swap else s for s in transcript.segments
        ]
        settled = found.model_copy(
            update={
                "doubts": [d for d in found.doubts if d != "roles"],
                "agent": (1 - found.agent) if swap and found.agent is not None else found.agent,
                "role_reason": f"judge ({max(share, 1 - share):.0%} of lines)",
            }
        )
        return transcript.model_copy(update={"segments": segments, "diarization": settled})

    def score(self, checklist: Checklist, transcript: Transcript) -> tuple[Scorecard, dict[str, Any]]:
        """The scorecard and generation statistics (tokens, attempts) for benchmarks."""
        return self.score_many([(checklist, transcript)])[0]

    def score_many(self, calls: list[tuple[Checklist, Transcript]]) -> list[tuple[Scorecard, dict[str, Any]]]:
        """Rules first; then the model's items: item by item, or the first scorecard attempts of all
        calls together (a padded batch, or concurrent requests), a call whose reply is invalid retried on
        its own."""
        jobs = [self._plan(checklist, transcript) for checklist, transcript in calls]
        # A call with an attempt is also judged as said, to find the items the attempt would change.
        as_said = {
            index: self._plan(job.checklist, job.transcript, guard=False, stats=job.stats)
            for index, job in enumerate(jobs)
            if job.attempts
        }
        asked = [*jobs, *as_said.values()]
        by_json = [job for job in asked if job.mode == "scorecard" and (job.asked or job.gates)]
        for job in asked:
            if job.mode == "items" and (job.asked or job.gates):
                self._ask_items(job)
        if by_json:
            self._ask_scorecards(by_json)
        return [(self._scorecard(job, as_said.get(index)), job.stats) for index, job in enumerate(jobs)]

    def _plan(
        self,
        checklist: Checklist,
        transcript: Transcript,
        guard: bool = True,
        stats: dict[str, Any] | None = None,
    ) -> _Job:
        if stats is None:
            stats = {"attempts": 0, "prompt_tokens": 0, "completion_tokens": 0, "errors": []}
        if self.redact_pii:
            transcript = redact_transcript(transcript)
        attempts = find_attempts(transcript) if guard and self.guard else []
        labelled = self.label_speakers(without_attempts(transcript, attempts), stats)
        job = _Job(checklist, transcript, labelled, stats, self.mode_for(checklist), attempts=attempts)
        values = call_placeholders(checklist, labelled)
        heard = asr_confidence(labelled)
        if not labelled.has_speech:
            # A silent or failed recording: rules would fail the agent on greetings nobody could hear.
            job.decided = {item.id: _no_speech(item) for item in checklist.items}
            return job
        doubts = labelled.diarization.doubts if labelled.diarization is not None else []
        for item in checklist.items:
            if doubts and speaker_scoped(item):
                job.decided[item.id] = doubtful_speakers_verdict(item, doubts)
                continue
            needed = None if labelled.timed else times_needed(item)
            if needed is not None:
                job.decided[item.id] = untimed_verdict(item, labelled, needed)
                continue
            if item.applies_if is not None:
                holds, why = condition_by_rules(item.applies_if, item, labelled, values)
                if not holds and item.applies_if.question is None:
                    # A condition not met is as sure as the transcript it was not found in.
                    job.decided[item.id] = not_applicable(item, why, "rule", round(heard, 4))
                    continue
                if not holds and heard < MIN_ASR_CONFIDENCE:
                    job.decided[item.id] = _garbled(item, heard)
                    continue
                if not holds:
                    job.gates[item.id] = item.applies_if.question or ""
            missing = missing_placeholders(item.phrases, values) if item.phrases is not None else []
            if item.phrases is not None and not missing:
                job.decided[item.id] = phrase_verdict(item, item.phrases, labelled, values)
            elif item.timing is not None:
                job.decided[item.id] = timing_verdict(item, item.timing, labelled)
            elif heard < MIN_ASR_CONFIDENCE:  # the model would judge noise: a person listens instead
                job.decided[item.id] = _garbled(item, heard)
            else:
                if missing:  # the rule cannot be checked as written: the item's own question can be asked
                    job.fallbacks[item.id] = (
                        f"the call's metadata has no {', '.join('{' + m + '}' for m in missing)} for this "
                        "item's phrases, so the judge answered its question"
                    )
                job.asked.append(item)
        return job

    def _ask_items(self, job: _Job) -> None:
        backend = self.backend
        assert isinstance(backend, ItemBackend)
        gated = [job.checklist.item(item_id) for item_id in job.gates]
        questions = [condition_question(item, job.gates[item.id]) for item in gated]
        questions += [item_question(item) for item in job.asked]
        conversation = build_conversation(job.labelled, questions)
        job.stats["attempts"] += 1
        try:
            distributions = backend.answer_items(conversation)
        except JudgeError as exc:
            logger.warning("%s: judge failed: %s", job.transcript.call_id, exc)
            job.stats["errors"].append(str(exc))
            job.failed = True
            return
        gate_probabilities: dict[str, dict[str, float]] = {}
        for index, (question, raw) in enumerate(zip(questions, distributions, strict=True)):
            probabilities = {str(a): round(p, 4) for a, p in _normalised(raw).items()}
            answer, confidence = _choice(calibrate(_normalised(raw), self._prior(question)))
            if question.key.startswith("applies:"):
                item = job.checklist.item(question.key.removeprefix("applies:"))
                gate_probabilities[item.id] = {f"applies:{a}": p for a, p in probabilities.items()}
                if answer == "no":
                    job.decided[item.id] = not_applicable(
                        item, f"the judge answered no to {job.gates[item.id]!r}", "llm", confidence
                    )
                continue
            item = job.checklist.item(question.key)
            if item.id in job.decided:  # N/A by its gate: keep what the model said, for refitting
                verdict = job.decided[item.id]
                job.decided[item.id] = verdict.model_copy(
                    update={"probabilities": {**probabilities, **verdict.probabilities}}
                )
                continue
            threshold = self.thresholds.get(item.id) if set(question.options) == {"yes", "no"} else None
            job.decided.setdefault(
                item.id,
                ItemVerdict(
                    item_id=item.id,
                    answer=answer,
                    evidence=self._point_at_line(backend, job, conversation, index, item, answer),
                    rationale="model's answer probabilities: "
                    + ", ".join(f"{a} {p:.2f}" for a, p in probabilities.items())
                    + (f"; yes from {threshold:.2f} (fitted threshold)" if threshold is not None else ""),
                    probabilities=probabilities,
                    confidence=round(confidence, 4),
                ),
            )
        for item_id, gate in gate_probabilities.items():  # kept with the verdict, for refitting the gate
            verdict = job.decided[item_id]
            job.decided[item_id] = verdict.model_copy(
                update={"probabilities": {**verdict.probabilities, **gate}}
            )

    def _prior(self, question: ItemQuestion) -> dict[str | int, float]:
        """A fitted threshold t as the prior (t, 1 - t); otherwise no correction."""
        if set(question.options) != {"yes", "no"}:
            return {answer: 1.0 for answer in question.options}
        # Question keys are the thresholds' keys: the item id, or "applies:<item id>" for a gate.
        threshold = self.thresholds.get(question.key, DEFAULT_THRESHOLD)
        return {"yes": threshold, "no": 1.0 - threshold}

    def _point_at_line(
        self,
        backend: ItemBackend,
        job: _Job,
        conversation: ItemConversation,
        index: int,
        item: Item,
        answer: str | int,
    ) -> list[Evidence]:
        if not self.evidence or item_points_lost(item, answer) == 0:
            # Evidence is asked where the answer costs points: what a supervisor checks first, at a
            # quarter of the cost of asking for every answer.
            return []
        candidates = in_scope_lines(job.labelled, item.scope)
        line = backend.point_line(conversation, index, ANSWER_WORDS.get(answer, [str(answer)])[0], candidates)
        if line is None:
            return []
        segment = job.labelled.segments[line - 1]
        return [
            Evidence(
                quote=segment.text.strip(),
                matched=True,
                speaker=segment.speaker,
                start=segment.start,
                end=segment.end,
                match_score=100.0,
            )
        ]

    def _ask_scorecards(self, jobs: list[_Job]) -> None:
        asked = [_only(job.checklist, [item.id for item in job.asked], job.gates) for job in jobs]
        prompts = [
            build_prompt(checklist, job.labelled, self.prompt)
            for checklist, job in zip(asked, jobs, strict=True)
        ]
        first = self.backend.generate_many(prompts, attempt=0)
        for job, checklist, prompt, generation in zip(jobs, asked, prompts, first, strict=True):
            job.stats["attempts"] += 1
            parse = _reply_parser(checklist)
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
                reply = self._first_valid(
                    prompt,
                    parse,
                    job.transcript.call_id,
                    job.stats,
                    start=1,
                    after_backend_error=isinstance(exc, JudgeError),
                )
            if reply is None:
                job.failed = True
                continue
            generation, replies = reply
            positions = answer_positions(generation.text)
            items = checklist.items
            if len(positions) != len(items):  # cannot tie tokens to items: confidence unknown
                positions = []
            for i, item in enumerate(items):
                verdict = _verdict(
                    item, replies[item.id], generation, positions[i] if positions else None, job.labelled
                )
                if item.id in job.gates and verdict.answer == "na":
                    verdict = verdict.model_copy(update={"rationale": f"does not apply: {verdict.rationale}"})
                elif item.id in job.gates and item.id in job.decided:
                    continue  # the gate held: the rule's verdict stands
                job.decided[item.id] = verdict

    def _scorecard(self, job: _Job, as_said: _Job | None = None) -> Scorecard:
        checklist, transcript, labelled = job.checklist, job.transcript, job.labelled
        judge = {"backend": self.backend.name, "model": self.backend.model_id, "mode": job.mode}
        judge["prompt"] = prompt_hash(ITEMS_PROMPT if job.mode == "items" else self.prompt)
        found = labelled.diarization
        if found is not None:
            judge["speakers"] = f"found from voices ({found.method}); agent by {found.role_reason}" + (
                f"; in doubt: {', '.join(found.doubts)}" if found.doubts else ""
            )
        elif labelled is not transcript:
            judge["speakers"] = "labelled by the judge (mono call)"
        verdicts = []
        for item in checklist.items:
            verdict = job.decided.get(item.id)
            if verdict is None or (job.failed and item.id in job.gates):
                verdict = ItemVerdict(item_id=item.id, answer=None, needs_human=True, flags=["judge_failed"])
            if item.id in job.fallbacks:
                verdict = verdict.model_copy(
                    update={
                        "rationale": f"{job.fallbacks[item.id]}; {verdict.rationale}".rstrip("; "),
                        "flags": [*verdict.flags, "placeholder_missing"],
                    }
                )
            if as_said is not None:
                verdict = _unmoved_by_attempt(verdict, as_said.decided.get(item.id))
            if not transcript.timed:
                verdict = _without_times(verdict)
            verdicts.append(self._fatal_certainty(item, verdict))
        return score_call(checklist, transcript.call_id, verdicts, judge, manipulation=job.attempts)

    def _fatal_certainty(self, item: Item, verdict: ItemVerdict) -> ItemVerdict:
        """A fatal fail zeroes an agent's call: below the confidence it needs, a person decides. A fatal
        pass on low confidence stands but is flagged, so that the sample shows it to a person."""
        if item.critical != "fatal" or verdict.source == "human":
            return verdict
        confidence = verdict.confidence
        if verdict.answer == "yes":
            if confidence is None or confidence >= self.fatal_pass_min_confidence:
                return verdict
            return verdict.model_copy(
                update={
                    "flags": [*verdict.flags, "uncertain_fatal_pass"],
                    "rationale": f"passed at confidence {confidence:.2f}, below the "
                    f"{self.fatal_pass_min_confidence:.2f} a fatal pass needs to go unchecked; "
                    f"{verdict.rationale}",
                }
            )
        if verdict.answer != "no":
            return verdict
        if confidence is not None and confidence >= self.fatal_min_confidence:
            return verdict
        shown = "unknown" if confidence is None else f"{confidence:.2f}"
        return verdict.model_copy(
            update={
                "answer": None,
                "needs_human": True,
                "flags": [*verdict.flags, "uncertain_fatal"],
                "rationale": f"the {verdict.source} answered no at confidence {shown}, below the "
                f"{self.fatal_min_confidence:.2f} a fatal fail needs: a person decides; {verdict.rationale}",
            }
        )

    def _first_valid(
        self,
        prompt: JudgePrompt,
        parse: Callable[[str], T],
        call_id: str,
        stats: dict[str, Any] | None,
        start: int = 0,
        after_backend_error: bool = False,
    ) -> tuple[Generation, T] | None:
        """Greedy first, then sampled retries; None when no attempt gave a valid reply."""
        backend_failed = after_backend_error
        for attempt in range(start, 1 + self.retries):
            if backend_failed:  # an invalid reply is retried at once: a new sample may be valid
                time.sleep(self.backoff * 2 ** max(0, attempt - 1))
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
                backend_failed = isinstance(exc, JudgeError)
                if stats is not None:
                    stats["errors"].append(str(exc))
        return None


@dataclass
class _Job:
    checklist: Checklist
    transcript: Transcript
    labelled: Transcript
    stats: dict[str, Any]
    mode: Literal["items", "scorecard"]
    decided: dict[str, ItemVerdict] = field(default_factory=dict)  # rules, gates, then the model
    asked: list[Item] = field(default_factory=list)  # items for the model
    gates: dict[str, str] = field(default_factory=dict)  # item id -> applies_if question for the model
    failed: bool = False
    attempts: list[ManipulationAttempt] = field(default_factory=list)  # taken out of `labelled`
    fallbacks: dict[str, str] = field(default_factory=dict)  # item id -> why its rule was not used


def shipped_thresholds() -> list[Path]:
    """The thresholds shipped beside the items prompt, then a team's own in $QA_PIPELINE_THRESHOLDS."""
    paths = [prompt_dir(ITEMS_PROMPT) / THRESHOLDS_FILE]
    if os.environ.get("QA_PIPELINE_THRESHOLDS"):
        paths.append(Path(os.environ["QA_PIPELINE_THRESHOLDS"]))
    return paths


def _unmoved_by_attempt(verdict: ItemVerdict, as_said: ItemVerdict | None) -> ItemVerdict:
    """An item whose answer differs when the attempt is left in goes to a person, keeping the answer
    without it: the attempt can never raise the score."""
    if (
        as_said is None
        or as_said.answer is None
        or verdict.answer is None
        or as_said.answer == verdict.answer
    ):
        return verdict
    return verdict.model_copy(
        update={
            "needs_human": True,
            "flags": [*verdict.flags, "manipulation_sensitive"],
            "rationale": f"with the speech addressed to the evaluator left in, the answer was "
            f"{as_said.answer!r}: a person should confirm; {verdict.rationale}",
        }
    )


def _without_times(verdict: ItemVerdict) -> ItemVerdict:
    """Evidence from a conversation without times points at a line, not at a moment to play."""
    evidence = [e.model_copy(update={"start": None, "end": None}) for e in verdict.evidence]
    return verdict.model_copy(update={"evidence": evidence})


def _garbled(item: Item, heard: float) -> ItemVerdict:
    return ItemVerdict(
        item_id=item.id,
        answer=None,
        needs_human=True,
        rationale=f"the call's ASR word confidence is {heard:.2f}: too garbled to judge",
        flags=["asr_unreliable"],
    )


def _no_speech(item: Item) -> ItemVerdict:
    return ItemVerdict(
        item_id=item.id,
        answer=None,
        needs_human=True,
        rationale="the recording has no speech: check the audio before scoring the agent",
        flags=["no_speech"],
    )


def _normalised(distribution: dict[str | int, float]) -> dict[str | int, float]:
    total = sum(distribution.values())
    return {a: p / total for a, p in distribution.items()} if total > 0 else distribution


def item_points_lost(item: Item, answer: str | int) -> float:
    """Share of an item's weight an answer loses (0 for yes, N/A or a full scale)."""
    if answer == "na":
        return 0.0
    return 1.0 - item_points(item, answer)


def _choice(distribution: dict[str | int, float]) -> tuple[str | int, float]:
    """The most probable allowed answer and its share of the mass the allowed answers got."""
    total = sum(distribution.values())
    answer = max(distribution, key=lambda a: distribution[a])
    return answer, (distribution[answer] / total if total > 0 else 0.0)


def _only(checklist: Checklist, item_ids: list[str], gates: dict[str, str]) -> Checklist:
    """The checklist cut to the items the model answers; a gated item's question becomes guidance."""
    wanted = set(item_ids) | set(gates)
    sections = []
    for section in checklist.sections:
        items = []
        for item in section.items:
            if item.id not in wanted:
                continue
            if item.id in gates:
                guidance = f"{item.guidance} Answer na unless this holds: {gates[item.id]}".strip()
                item = item.model_copy(update={"guidance": guidance})
            items.append(item)
        if items:
            sections.append(section.model_copy(update={"items": items}))
    return checklist.model_copy(update={"sections": sections})


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
    evidence = [locate_quote(quote, transcript, item.scope) for quote in reply.evidence]
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
