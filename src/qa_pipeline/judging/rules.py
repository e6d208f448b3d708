"""Items decided without a language model: phrase rules and timing rules, and `applies_if` gates.

Commercial speech analytics decides much of a QA form this way (phrases said by one side within a time
window, silences, overtalk). A rule's verdict says `source: rule`, carries the matched words with their
timestamps as evidence, and takes its confidence from the ASR's word probabilities: a rule is only as
sure as the words it heard.

A conversation without times (a chat, an e-mail) has no silences, talk shares or "first 30 seconds": an
item resting on them does not apply to it (`no_times`), rather than being measured on made-up times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa_pipeline.checklist import PLACEHOLDER, Checklist, Condition, Item, PhraseRule, Scope, TimingRule
from qa_pipeline.judging.phrases import PhraseMatch, asr_confidence, find_phrase, spoken_words
from qa_pipeline.models import Evidence, ItemVerdict, Transcript
from qa_pipeline.scoring import NO_TIMES, SPEAKERS_UNCERTAIN

RULES_VERSION = "rules-v1"  # part of the scorecard cache key: a change in matching re-scores calls
# Below this mean ASR word probability a transcript is too garbled to conclude that something was *not*
# said (or to judge the call at all): such verdicts go to a person instead of being guessed.
MIN_ASR_CONFIDENCE = 0.6


def call_placeholders(checklist: Checklist, transcript: Transcript) -> dict[str, str]:
    """{name} values for phrases: the checklist's own, overridden by what the call's metadata says."""
    metadata = transcript.metadata
    values = dict(checklist.placeholders)
    from_call = {
        "agent_name": metadata.agent,
        "agent_first_name": metadata.agent.split()[0] if metadata.agent and metadata.agent.split() else None,
        "company": metadata.company,
        "team": metadata.team,
        "queue": metadata.queue,
    }
    values.update({name: value for name, value in from_call.items() if value})
    return values


class MissingPlaceholder(LookupError):
    pass


def missing_placeholders(rule: PhraseRule, values: dict[str, str]) -> list[str]:
    """The rule's {name}s this call has no value for: the rule cannot be checked as written."""
    phrases = [*rule.any, *rule.none]
    for entry in rule.all:
        phrases.extend([entry] if isinstance(entry, str) else entry)
    return sorted({name for phrase in phrases for name in PLACEHOLDER.findall(phrase) if name not in values})


def fill(phrase: str, values: dict[str, str]) -> str:
    def value(match: object) -> str:
        name = match.group(1)  # type: ignore[attr-defined]
        if name not in values:
            raise MissingPlaceholder(name)
        return values[name]

    return PLACEHOLDER.sub(value, phrase)


@dataclass
class PhraseOutcome:
    passed: bool
    found: list[PhraseMatch]  # what was said that the rule looked for (or forbids)
    missing: list[str]  # phrases (filled) the rule needed and did not hear
    forbidden: list[PhraseMatch]
    scope_probability: float  # mean ASR word probability in the rule's scope


def check_phrases(
    rule: PhraseRule, scope: Scope, transcript: Transcript, values: dict[str, str]
) -> PhraseOutcome:
    words = spoken_words(transcript, rule.speaker or scope.speaker, rule.window or scope.window)
    language = transcript.language

    def find(phrases: list[str]) -> list[PhraseMatch]:
        hits = (find_phrase(fill(p, values), words, language, rule.min_similarity) for p in phrases)
        return [hit for hit in hits if hit is not None]

    found: list[PhraseMatch] = []
    missing: list[str] = []
    if rule.any:
        hits = find(rule.any)
        found.extend(sorted(hits, key=lambda m: -m.similarity)[:1])
        if not hits:
            missing.append(" / ".join(fill(p, values) for p in rule.any))
    for entry in rule.all:
        alternatives = [entry] if isinstance(entry, str) else entry
        hits = find(alternatives)
        if hits:
            found.append(max(hits, key=lambda m: m.similarity))
        else:
            missing.append(" / ".join(fill(p, values) for p in alternatives))
    forbidden = find(rule.none)
    # Nothing heard in scope is only as trustworthy as the whole call's transcript.
    probability = sum(w.probability for w in words) / len(words) if words else asr_confidence(transcript)
    return PhraseOutcome(not missing and not forbidden, found, missing, forbidden, probability)


def phrase_verdict(
    item: Item, rule: PhraseRule, transcript: Transcript, values: dict[str, str]
) -> ItemVerdict:
    try:
        outcome = check_phrases(rule, item.scope, transcript, values)
    except MissingPlaceholder as exc:
        return ItemVerdict(
            item_id=item.id,
            answer=None,
            needs_human=True,
            source="rule",
            rationale=f"the call's metadata has no {{{exc.args[0]}}} for this item's phrases",
            flags=["placeholder_missing"],
        )
    shown = outcome.forbidden or outcome.found
    if outcome.forbidden:
        rationale = _said(outcome.forbidden, transcript.timed)
        confidence = _mean([m.probability for m in outcome.forbidden])
    elif outcome.missing:
        rationale = "not said: " + "; ".join(repr(p) for p in outcome.missing)
        # A phrase not heard may have been misheard: the scope's ASR confidence bounds this verdict.
        confidence = outcome.scope_probability
        if confidence < MIN_ASR_CONFIDENCE:
            return ItemVerdict(
                item_id=item.id,
                answer=None,
                needs_human=True,
                rationale=f"{rationale}, but the ASR's word confidence here is {confidence:.2f}: "
                "a person should listen",
                confidence=round(confidence, 4),
                flags=["asr_unreliable"],
                source="rule",
            )
    else:
        rationale = _said(outcome.found, transcript.timed)
        confidence = _mean([m.probability for m in outcome.found]) if outcome.found else 1.0
    return ItemVerdict(
        item_id=item.id,
        answer="yes" if outcome.passed else "no",
        evidence=[_evidence(m) for m in shown],
        rationale=rationale,
        confidence=round(confidence, 4),
        source="rule",
    )


def times_needed(item: Item) -> str | None:
    """What of the item rests on times (its timing rule, its time window), or None."""
    if item.timing is not None:
        return f"its {item.timing.metric} rule"
    if item.scope.window is not None or (item.phrases is not None and item.phrases.window is not None):
        return "its time window"
    return None


def untimed_verdict(item: Item, transcript: Transcript, needed: str) -> ItemVerdict:
    """N/A, whatever the checklist allows: the conversation cannot be measured the way the item asks."""
    return ItemVerdict(
        item_id=item.id,
        answer="na",
        rationale=f"does not apply: the conversation ({transcript.channel}) has no times, which {needed} "
        "needs",
        confidence=1.0,
        flags=[NO_TIMES],
        source="rule",
    )


def speaker_scoped(item: Item) -> bool:
    """Whether the item judges one side's words (or a rule counts one side's), not the whole call."""
    rule_side = item.phrases.speaker if item.phrases is not None else None
    return item.scope.speaker != "both" or rule_side in ("agent", "customer")


def doubtful_speakers_verdict(item: Item, doubts: Sequence[str]) -> ItemVerdict:
    """For a person: whose words are whose on this mono recording is not sure enough to judge one side."""
    why = {
        "speakers": "the two voices could not be told apart reliably",
        "roles": "which speaker is the agent rests on too little",
    }
    return ItemVerdict(
        item_id=item.id,
        answer=None,
        rationale=f"a person decides: on this mono recording {' and '.join(why[d] for d in doubts)}, and the "
        f"item judges the {item.scope.speaker if item.scope.speaker != 'both' else 'one side'}'s words",
        needs_human=True,
        flags=[SPEAKERS_UNCERTAIN],
        source="rule",
    )


def timing_value(rule: TimingRule, transcript: Transcript) -> tuple[float, list[tuple[float, float]]]:
    """The metric's value and the spans behind it (for evidence)."""
    timings = transcript.timings
    if rule.metric in ("longest_silence", "longest_overtalk"):
        spans = timings.silences if rule.metric == "longest_silence" else timings.overtalks
        longest = max(spans, key=lambda s: s.end - s.start, default=None)
        return (longest.end - longest.start, [(longest.start, longest.end)]) if longest else (0.0, [])
    if rule.metric == "silence_total":
        return timings.silence_total, [(s.start, s.end) for s in timings.silences]
    if rule.metric == "overtalk_total":
        return timings.overtalk_total, [(s.start, s.end) for s in timings.overtalks]
    talk = sum(timings.talk_time.values())
    side = rule.metric.removesuffix("_talk_share")
    return (timings.talk_time.get(side, 0.0) / talk if talk else 0.0), []


def timing_holds(rule: TimingRule, value: float) -> bool:
    return (rule.min is None or value >= rule.min) and (rule.max is None or value <= rule.max)


def timing_verdict(item: Item, rule: TimingRule, transcript: Transcript) -> ItemVerdict:
    value, spans = timing_value(rule, transcript)
    bounds = " and ".join(
        f"{name} {bound:g}" for name, bound in (("min", rule.min), ("max", rule.max)) if bound is not None
    )
    return ItemVerdict(
        item_id=item.id,
        answer="yes" if timing_holds(rule, value) else "no",
        evidence=[
            Evidence(quote=f"{rule.metric} {end - start:.1f} s", matched=True, start=start, end=end)
            for start, end in spans[:3]
        ],
        rationale=f"{rule.metric} = {value:.2f} ({bounds})",
        confidence=1.0,
        source="rule",
    )


def condition_by_rules(
    condition: Condition, item: Item, transcript: Transcript, values: dict[str, str]
) -> tuple[bool, str]:
    """Whether the phrases or timing of `applies_if` hold, and what was found (for the N/A rationale).

    Without times only the phrases can hold, and only when they look at no time window."""
    unmeasured: list[str] = []
    if condition.timing is not None and not transcript.timed:
        unmeasured.append(condition.timing.metric)
    elif condition.timing is not None:
        value, _ = timing_value(condition.timing, transcript)
        if timing_holds(condition.timing, value):
            return True, f"{condition.timing.metric} = {value:.2f}"
    if condition.phrases is not None and condition.phrases.window is not None and not transcript.timed:
        unmeasured.append("a time window")
    elif condition.phrases is not None:
        try:
            outcome = check_phrases(condition.phrases, item.scope, transcript, values)
        except MissingPlaceholder:
            return False, "a placeholder of the condition has no value"
        if outcome.passed:
            return True, "said " + "; ".join(repr(m.quote) for m in outcome.found)
    if unmeasured:
        return False, f"condition not met (the conversation has no times for {' or '.join(unmeasured)})"
    return False, "condition not met"


def not_applicable(item: Item, reason: str, source: str, confidence: float | None) -> ItemVerdict:
    return ItemVerdict(
        item_id=item.id,
        answer="na",
        rationale=f"does not apply: {reason}",
        confidence=confidence,
        source="rule" if source == "rule" else "llm",
    )


def _evidence(match: PhraseMatch) -> Evidence:
    return Evidence(
        quote=match.quote,
        matched=True,
        speaker=match.words[0].speaker,
        start=match.words[0].start,
        end=match.words[-1].end,
        match_score=round(match.similarity, 1),
    )


def _said(matches: list[PhraseMatch], timed: bool) -> str:
    """The phrases found, each with when it was said where the conversation has times."""
    return "said " + "; ".join(
        f"{m.quote!r} ({m.words[0].start:.1f} s)" if timed else repr(m.quote) for m in matches
    )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 1.0
