"""Find phrases in what one side of a call said, tolerant to ASR slips and inflection.

Words are lemmatised (simplemma, in the call's language) and compared with rapidfuzz on the joined
lemmas with spaces left out, so "Northwind Energy" matches "north wind energy" and "Северный Телеком"
matches "Северного Телекома". Every match keeps its words' timestamps and ASR probabilities: that is a
rule's evidence and confidence.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from qa_pipeline.checklist import Window
from qa_pipeline.models import Speaker, Transcript

GAP = "..."
MAX_GAP_WORDS = 6  # how many words "may I ... hold" lets through between its parts
EXACT_BELOW_CHARS = 4  # short words ("hi", "no") match exactly: one letter off is another word
STRICT_BELOW_CHARS = 10  # short phrases need 90: "on hold" is 86% like "on the old"
STRICT_SIMILARITY = 90.0
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SpokenWord:
    text: str
    lemma: str
    start: float
    end: float
    probability: float
    speaker: Speaker


@dataclass(frozen=True)
class PhraseMatch:
    phrase: str
    words: tuple[SpokenWord, ...]
    similarity: float

    @property
    def quote(self) -> str:
        return " ".join(word.text for word in self.words)

    @property
    def probability(self) -> float:
        return sum(word.probability for word in self.words) / len(self.words)


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("ё", "е"))


@lru_cache(maxsize=200_000)
def lemma(token: str, language: str) -> str:
    import simplemma

    try:
        return str(simplemma.lemmatize(token, lang=language)).lower()
    except ValueError:  # a language simplemma does not know: compare surface forms
        return token


def spoken_words(transcript: Transcript, speaker: str, window: Window | None) -> list[SpokenWord]:
    """The words one side said (`both`: everyone), inside the window, in time order."""
    words = [w for w in _every_word(transcript) if speaker == "both" or w.speaker == speaker]
    if window is not None and window.first_seconds is not None:
        words = [w for w in words if w.start < window.first_seconds]
    if window is not None and window.last_seconds is not None:
        words = [w for w in words if w.end > transcript.duration - window.last_seconds]
    return sorted(words, key=lambda w: w.start)


_recent = threading.local()


def _every_word(transcript: Transcript) -> list[SpokenWord]:
    """Every word of the call with its lemma, in segment order. A call's rules ask for its words once per
    item; the last call's words are kept (per thread) while its text, speakers and times stay the same."""
    fingerprint = hash(
        (
            transcript.language,
            tuple((s.speaker, s.start, s.end, s.text, len(s.words)) for s in transcript.segments),
        )
    )
    kept: tuple[Transcript, int, list[SpokenWord]] | None = getattr(_recent, "words", None)
    if kept is not None and kept[0] is transcript and kept[1] == fingerprint:
        return kept[2]
    language = transcript.language
    words: list[SpokenWord] = []
    for segment in transcript.segments:
        timed = [(w.word, w.start, w.end, w.probability) for w in segment.words] or _spread(
            segment.text, segment.start, segment.end, math.exp(min(segment.avg_logprob, 0.0))
        )
        for text, start, end, probability in timed:
            for token in tokens(text):
                words.append(
                    SpokenWord(token, lemma(token, language), start, end, probability, segment.speaker)
                )
    _recent.words = (transcript, fingerprint, words)
    return words


def _spread(text: str, start: float, end: float, probability: float) -> list[tuple[str, float, float, float]]:
    """A segment without word timings (a typed transcript): its words spread evenly over its time."""
    parts = text.split()
    step = (end - start) / max(len(parts), 1)
    return [(part, start + i * step, start + (i + 1) * step, probability) for i, part in enumerate(parts)]


def find_phrase(
    phrase: str, words: list[SpokenWord], language: str, min_similarity: float
) -> PhraseMatch | None:
    """The best match of the phrase among the words, or None when nothing is similar enough."""
    parts = [[lemma(t, language) for t in tokens(part)] for part in phrase.split(GAP)]
    parts = [part for part in parts if part]
    lemmas = _lemmas_of(words)
    best: PhraseMatch | None = None
    for first in _part_matches(parts[0], lemmas, 0, len(words), min_similarity):
        chain = _continue(parts[1:], lemmas, first, min_similarity)
        if chain is None:
            continue
        spans, scores = chain
        matched = tuple(words[i] for start, stop in spans for i in range(start, stop))
        match = PhraseMatch(phrase, matched, min(scores))
        if best is None or match.similarity > best.similarity:
            best = match
    return best


class _Lemmas:
    """Every span of the words' lemmas run together, per span length, made once for all the phrases a
    rule looks for (phrase matching compares every span of every call)."""

    def __init__(self, words: list[SpokenWord]) -> None:
        self.count = len(words)
        self.text = "".join(w.lemma for w in words)
        self.starts = [0]
        for word in words:
            self.starts.append(self.starts[-1] + len(word.lemma))
        self._spans: dict[int, list[str]] = {}

    def spans(self, length: int) -> list[str]:
        """The span of `length` words starting at each word (as far as the words go)."""
        if length not in self._spans:
            text, starts = self.text, self.starts
            self._spans[length] = [
                text[starts[i] : starts[i + length]] for i in range(self.count - length + 1)
            ]
        return self._spans[length]


def _lemmas_of(words: list[SpokenWord]) -> _Lemmas:
    """The spans of the words list phrase matching was last given (per thread): a rule's phrases are
    all looked for in one list."""
    kept: tuple[list[SpokenWord], _Lemmas] | None = getattr(_recent, "lemmas", None)
    if kept is not None and kept[0] is words and kept[1].count == len(words):
        return kept[1]
    made = _Lemmas(words)
    _recent.lemmas = (words, made)
    return made


def _continue(
    parts: list[list[str]],
    lemmas: _Lemmas,
    first: tuple[int, int, float],
    min_similarity: float,
) -> tuple[list[tuple[int, int]], list[float]] | None:
    spans, scores = [(first[0], first[1])], [first[2]]
    for part in parts:
        stop = spans[-1][1]
        found = max(
            _part_matches(part, lemmas, stop, stop + MAX_GAP_WORDS + len(part) + 1, min_similarity),
            key=lambda m: m[2],
            default=None,
        )
        if found is None:
            return None
        spans.append((found[0], found[1]))
        scores.append(found[2])
    return spans, scores


def _part_matches(
    part: list[str], lemmas: _Lemmas, begin: int, end: int, min_similarity: float
) -> list[tuple[int, int, float]]:
    """Word spans in words[begin:end] similar to the part: lengths n-1..n+1 cover ASR splits and merges.
    Each start keeps its most similar span (the shorter one on a tie)."""
    target = "".join(part)
    threshold = min_similarity
    if len(target) < STRICT_BELOW_CHARS:
        threshold = max(min_similarity, STRICT_SIMILARITY)
    if len(target) < EXACT_BELOW_CHARS:
        threshold = 100.0
    end = min(end, lemmas.count)
    best: dict[int, tuple[int, int, float]] = {}
    for length in sorted({max(1, len(part) - 1), len(part), len(part) + 1}):
        starts = range(begin, end - length + 1)
        if not starts:
            continue
        # One call compares the part with every span of this length (the loop over spans in C++).
        candidates = lemmas.spans(length)[starts.start : starts.stop]
        scores = process.cdist([target], candidates, scorer=fuzz.ratio, score_cutoff=threshold)[0]
        for index in np.flatnonzero(scores >= threshold):
            start, score = starts[index], float(scores[index])
            if start not in best or score > best[start][2]:
                best[start] = (start, start + length, score)
    return [best[start] for start in sorted(best)]


def asr_confidence(transcript: Transcript) -> float:
    """Mean word probability of the side of the call Whisper heard worse (1.0 for a typed transcript).

    The weaker side, not the whole call: a clear agent channel must not vouch for a garbled customer one
    (demo call ru01: agent 0.67, customer 0.58, whole call 0.65, word error rate 82-94%)."""
    words = spoken_words(transcript, "both", None)
    by_speaker: dict[str, list[float]] = {}
    for word in words:
        by_speaker.setdefault(word.speaker, []).append(word.probability)
    return min((sum(p) / len(p) for p in by_speaker.values()), default=1.0)
