"""Who said which word of a mono recording.

Whisper gives words with times but no speakers; a mixed recording's segments often hold both people's
words. Speech is embedded in short overlapping windows (`speaker_encoder`), the windows are clustered into
the call's speakers, and each word takes the speaker its windows resemble, smoothed along the call by a
Viterbi pass that makes a change of speaker cheap at a pause and dear inside running speech: short
"yes"/"hello" turns survive where they stand apart, and one word is not flipped in the middle of a
sentence. Segments are then cut at every change of speaker, so no segment holds two people's words.

A call whose clusters lie too close to be told apart is marked doubtful; speaker-scoped checklist items
then go to people (judging reads `Transcript.diarization`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from qa_pipeline.models import Segment, Speaker
from qa_pipeline.transcription.speaker_encoder import EmbeddedWindows

# Chosen on the demo calls mixed to mono and on each of their channels alone (the development set;
# benchmarks/diarization.py), as cosine distances between the two closest speakers' centroids. Two voices
# split right down to 0.071 (ru03: 88% of words; 92-100% above it), so below DOUBTFUL_DISTANCE a split
# is kept but marked doubtful. Whether a recording holds one voice or two is asked only when the caller
# allows one speaker: a single voice split in two lay at 0.04-0.14 (one channel at 0.50), two synthetic
# voices at 0.07-0.36, so ONE_VOICE_DISTANCE errs towards one speaker, and two similar voices may be
# taken for one; the default count is two for that reason.
DOUBTFUL_DISTANCE = 0.075
ONE_VOICE_DISTANCE = 0.15
MAX_CLUSTERED = 2000  # windows clustered directly; the rest are assigned to the nearest centroid
MIN_CLUSTER_SHARE = 0.04  # a "speaker" with fewer of the windows is noise or overtalk, not a person
ISLAND_GAP = 0.3  # words closer than this are embedded as one stretch of speech
PAD = 0.1
TEMPERATURE = 0.05  # cosine similarity differences -> log-odds for the Viterbi pass
SWITCH_COST = 2.0  # log-odds to change speaker between two words of running speech
PAUSE_SWITCH_COST = 0.5  # ... after a pause of at least PAUSE seconds
PAUSE = 0.25
OPENING_WORDS = 10  # the stretch of a call whose main speaker "opened" it


@dataclass(frozen=True)
class WordSlot:
    """A word of the transcript (or a segment without words) and where it sits."""

    segment: int
    word: int | None
    start: float
    end: float


@dataclass(frozen=True)
class SpeakerTurns:
    """Each slot's speaker index (0 is whoever spoke first) and how sure the split is."""

    slots: list[WordSlot]
    speakers: list[int]
    confidence: list[float]
    count: int
    separation: float | None
    uncertain: bool


def word_slots(segments: list[Segment]) -> list[WordSlot]:
    slots: list[WordSlot] = []
    for index, segment in enumerate(segments):
        if segment.words:
            slots.extend(WordSlot(index, i, w.start, w.end) for i, w in enumerate(segment.words))
        else:
            slots.append(WordSlot(index, None, segment.start, segment.end))
    return sorted(slots, key=lambda slot: (slot.start, slot.end))


def speech_islands(slots: list[WordSlot], duration: float) -> list[tuple[float, float]]:
    islands: list[tuple[float, float]] = []
    for slot in slots:
        start, end = max(0.0, slot.start - PAD), min(duration, slot.end + PAD)
        if islands and start - islands[-1][1] < ISLAND_GAP:
            islands[-1] = (islands[-1][0], max(islands[-1][1], end))
        else:
            islands.append((start, end))
    return islands


def assign_speakers(
    slots: list[WordSlot], windows: EmbeddedWindows, speakers: tuple[int, int]
) -> SpeakerTurns:
    """Cluster the windows into `speakers` (min, max) voices and give every slot one of them."""
    low, high = speakers
    if not slots or len(windows) < 2 or high == 1:
        return SpeakerTurns(slots, [0] * len(slots), [1.0] * len(slots), 1, None, False)
    unit = _normalised(windows.embeddings)
    candidates = [k for k in range(max(2, low), high + 1) if len(unit) >= 2 * k]
    fits = [fit for fit in (_cluster(unit, k) for k in candidates) if fit is not None]
    if not fits:
        return SpeakerTurns(slots, [0] * len(slots), [1.0] * len(slots), 1, None, low > 1)
    centroids = max(fits, key=lambda c: _silhouette(unit, c))
    separation = _separation(centroids)
    if low == 1 and separation < ONE_VOICE_DISTANCE:
        return SpeakerTurns(slots, [0] * len(slots), [1.0] * len(slots), 1, separation, False)
    emissions = _slot_scores(slots, windows.centres, unit @ centroids.T)
    path = _viterbi(slots, emissions)
    confidence = _confidence(emissions, path)
    path = _first_speaker_first(path, len(centroids))
    return SpeakerTurns(slots, path, confidence, len(set(path)), separation, separation < DOUBTFUL_DISTANCE)


def _normalised(embeddings: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    values = embeddings.astype(np.float64)
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    unit: npt.NDArray[np.float64] = values / np.maximum(norms, 1e-9)
    return unit


def _cluster(unit: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.float64] | None:
    """Ward clustering (balanced clusters, where average linkage splits off outliers) on at most
    MAX_CLUSTERED evenly spread windows, refined by a few rounds of spherical k-means over all of them;
    None when a cluster is too small to be a person."""
    from scipy.cluster.hierarchy import fcluster, linkage

    step = max(1, len(unit) // MAX_CLUSTERED)
    sample = unit[::step]
    labels = fcluster(linkage(sample, method="ward"), k, criterion="maxclust") - 1
    centroids = np.stack([_mean_direction(sample[labels == c]) for c in range(k) if (labels == c).any()])
    if len(centroids) < k:
        return None
    for _ in range(5):
        labels = np.argmax(unit @ centroids.T, axis=1)
        counts = np.bincount(labels, minlength=k)
        if counts.min() < max(2, MIN_CLUSTER_SHARE * len(unit)):
            return None
        centroids = np.stack([_mean_direction(unit[labels == c]) for c in range(k)])
    return centroids


def _mean_direction(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    mean: npt.NDArray[np.float64] = rows.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-9)


def _silhouette(unit: npt.NDArray[np.float64], centroids: npt.NDArray[np.float64]) -> float:
    """Mean simplified silhouette over centroids (cosine distance): how much closer each window is to
    its own speaker than to the next."""
    distances = 1.0 - unit @ centroids.T
    ordered = np.sort(distances, axis=1)
    own, other = ordered[:, 0], ordered[:, 1]
    return float(np.mean((other - own) / np.maximum(np.maximum(own, other), 1e-9)))


def _separation(centroids: npt.NDArray[np.float64]) -> float:
    similarity = centroids @ centroids.T
    np.fill_diagonal(similarity, -1.0)
    return float(1.0 - similarity.max())


def _slot_scores(
    slots: list[WordSlot], centres: npt.NDArray[np.float64], similarity: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Each slot's similarity to each speaker: the mean over windows centred on it (the nearest window
    when none is)."""
    scores = np.empty((len(slots), similarity.shape[1]))
    for index, slot in enumerate(slots):
        inside = (centres >= slot.start - PAD) & (centres <= slot.end + PAD)
        if inside.any():
            scores[index] = similarity[inside].mean(axis=0)
        else:
            middle = (slot.start + slot.end) / 2
            scores[index] = similarity[int(np.argmin(np.abs(centres - middle)))]
    return scores


def _viterbi(slots: list[WordSlot], scores: npt.NDArray[np.float64]) -> list[int]:
    logits = scores / TEMPERATURE
    k = scores.shape[1]
    best = logits[0].copy()
    back = np.zeros((len(slots), k), dtype=np.int64)
    for t in range(1, len(slots)):
        pause = slots[t].start - slots[t - 1].end
        cost = PAUSE_SWITCH_COST if pause >= PAUSE else SWITCH_COST
        moves = best[:, None] - cost * (1 - np.eye(k))  # moves[i, j]: from i to j
        back[t] = np.argmax(moves, axis=0)
        best = moves[back[t], np.arange(k)] + logits[t]
    path = [int(np.argmax(best))]
    for t in range(len(slots) - 1, 0, -1):
        path.append(int(back[t][path[-1]]))
    return path[::-1]


def _confidence(scores: npt.NDArray[np.float64], path: list[int]) -> list[float]:
    """The chosen speaker's share of a softmax over the slot's own scores (before smoothing)."""
    logits = scores / TEMPERATURE
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return [round(float(probabilities[t, s]), 3) for t, s in enumerate(path)]


def _first_speaker_first(path: list[int], k: int) -> list[int]:
    """Renumber speakers in order of first appearance, so speaker 0 opened the call."""
    order = list(dict.fromkeys(path))
    order += [s for s in range(k) if s not in order]
    return [order.index(s) for s in path]


def speaker_turns(regions: list[tuple[float, float]], turns: SpeakerTurns) -> list[tuple[float, float, int]]:
    """Each speech region split where its words change speaker, as (start, end, speaker index).

    Between two words of different speakers the region is cut halfway; its edges go to its first and
    last word's speaker; a region holding no word (a "mm" Whisper did not write) takes the speaker of the
    nearest word."""
    if not turns.slots:
        return []
    words = sorted(zip(turns.slots, turns.speakers, strict=True), key=lambda pair: pair[0].start)
    result: list[tuple[float, float, int]] = []
    first = 0  # regions come in order: the words before this one ended before the current region
    for start, end in sorted(regions):
        while first < len(words) and words[first][0].end <= start:
            first += 1
        inside = []
        for slot, who in words[first:]:
            if slot.start >= end:
                break
            inside.append((slot, who))
        if not inside:
            middle = (start + end) / 2
            around = words[max(0, first - 1) : first + 1]
            nearest = min(around, key=lambda pair: abs((pair[0].start + pair[0].end) / 2 - middle))
            result.append((start, end, nearest[1]))
            continue
        cursor, current = start, inside[0][1]
        for (before, who_before), (after, who_after) in pairwise(inside):
            if who_after != who_before:
                cut = min(max((before.end + after.start) / 2, cursor), end)
                if cut > cursor:
                    result.append((cursor, cut, current))
                cursor, current = cut, who_after
        if end > cursor:
            result.append((cursor, end, current))
    return result


def opening_speaker(turns: SpeakerTurns) -> int:
    """Who opened the call: the speaker of most of its first OPENING_WORDS words, so that one
    misattributed "hello" does not decide it; the earlier speaker on a tie."""
    opening = turns.speakers[:OPENING_WORDS]
    if not opening:
        return 0
    counts = {speaker: opening.count(speaker) for speaker in dict.fromkeys(opening)}
    return max(counts, key=lambda speaker: counts[speaker])


def split_segments(segments: list[Segment], turns: SpeakerTurns, labels: list[Speaker]) -> list[Segment]:
    """Each segment cut where its words change speaker; `labels[i]` is speaker i's role."""
    by_word: dict[tuple[int, int | None], int] = {
        (slot.segment, slot.word): speaker for slot, speaker in zip(turns.slots, turns.speakers, strict=True)
    }
    result: list[Segment] = []
    for index, segment in enumerate(segments):
        if not segment.words:
            speaker = labels[by_word[(index, None)]]
            result.append(segment.model_copy(update={"speaker": speaker}))
            continue
        run: list[int] = []
        for word_index in range(len(segment.words)):
            if run and by_word[(index, word_index)] != by_word[(index, run[-1])]:
                result.append(_piece(segment, run, labels[by_word[(index, run[-1])]]))
                run = []
            run.append(word_index)
        result.append(_piece(segment, run, labels[by_word[(index, run[-1])]]))
    return sorted(result, key=lambda s: (s.start, s.end))


def _piece(segment: Segment, indices: list[int], speaker: Speaker) -> Segment:
    words = [segment.words[i] for i in indices]
    if len(words) == len(segment.words):
        return segment.model_copy(update={"speaker": speaker})
    return segment.model_copy(
        update={
            "speaker": speaker,
            "start": words[0].start,
            "end": words[-1].end,
            "text": "".join(w.word for w in words).strip(),
            "words": words,
        }
    )
