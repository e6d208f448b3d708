"""Speakers of mono recordings, measured against truth that stereo calls carry in their channels.

Every stereo call mixed to mono is a mono call whose answer is known: at each word the louder channel is
the speaker who said it, and channel 0 is the agent (the demo calls' layout; the phone call's first
speaker). For each call the mono mix is transcribed with diarization off, then `find_speakers` runs and is
timed on its own, so the figures are the step the pipeline adds:

- word attribution: share of the mono transcript's words given to the right role (agent/customer), and
  to the right speaker whatever the role (the clusters mapped to channels the best way);
- role: whether the speaker labelled agent is the agent;
- diarization error rate of the pipeline's speaker turns (missed + false alarm + confusion over
  reference speech, 10 ms frames, the speakers mapped one to one the best way) against each channel's
  voice activity (what each side said, heard on its own), and on pyannote's `sample.wav` against its
  `sample.rttm`; collar 0 and 0.25 s;
- seconds per audio minute of the step, beside the transcription's own.

Sets, said apart in the output: `dev` is the demo calls (synthesised voices; the constants of
`diarization.py` and `speaker_roles.py` were tuned on it), `test` the real recordings: the two-speaker
stereo file in ../shared/data/audio and the real phone conversation from the pyannote.audio wheel
(`phone_call.py`), never tuned on. Single-speaker recordings (`jfk`, `ru_tone_long`) check that one voice
stays one speaker.

    python benchmarks/diarization.py                  # dev + test, bundled Whisper base
    python benchmarks/diarization.py --set test
"""

from __future__ import annotations

import argparse
import json
import time
import wave
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from phone_call import real_phone_call  # benchmarks/ is the script's folder
from scipy.optimize import linear_sum_assignment

from qa_pipeline.models import Call, CallMetadata, SpeakerTurn, Transcript
from qa_pipeline.transcription.audio import SAMPLE_RATE, decode_call
from qa_pipeline.transcription.ingest import CallSource, discover_inputs, probe_call
from qa_pipeline.transcription.speakers import find_speakers
from qa_pipeline.transcription.timings import call_timings, merge
from qa_pipeline.transcription.transcribe import TranscribeOptions, Transcriber
from qa_pipeline.transcription.voice_activity import speech_regions
from qa_pipeline.transcription.whisper_models import cache_root

REPO = Path(__file__).resolve().parent.parent
SHARED_AUDIO = REPO.parent / "shared" / "data" / "audio"
FRAME = 0.01
Spans = dict[str, list[tuple[float, float]]]


@dataclass
class Row:
    set: str
    call_id: str
    minutes: float
    words: int
    role_accuracy: float
    speaker_accuracy: float
    role_right: bool
    speakers: int
    der: float
    der_collar: float
    transcribe_s: float
    diarize_s: float
    doubts: list[str]
    separation: float | None
    stereo: Transcript
    mono: Transcript


def mix_to_mono(stereo: Path, target: Path) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The mono mix written as 16 kHz wav; returns the two channels (16 kHz) for the truth."""
    channels = decode_call(stereo, 2).channels
    if len(channels) != 2:
        raise SystemExit(f"{stereo}: not a two-channel recording")
    left, right = channels
    _write_wav(target, (left + right) / 2)
    return left, right


def _write_wav(path: Path, audio: npt.NDArray[np.float32]) -> None:
    frames = np.clip(audio * 32767, -32768, 32767).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(frames.tobytes())


def word_truth(
    words: list[tuple[float, float]], left: npt.NDArray[np.float32], right: npt.NDArray[np.float32]
) -> list[int]:
    """0 where the left (agent) channel is louder over the word, else 1."""
    truth = []
    for start, end in words:
        a, b = int(start * SAMPLE_RATE), max(int(start * SAMPLE_RATE) + 1, int(end * SAMPLE_RATE))
        energy = [
            float(np.mean(np.square(channel[a:b]))) if b <= len(channel) else 0.0 for channel in (left, right)
        ]
        truth.append(0 if energy[0] >= energy[1] else 1)
    return truth


def turn_spans(turns: list[SpeakerTurn]) -> Spans:
    """The pipeline's speaker turns (voice activity split at speaker changes) as each speaker's spans."""
    spans: Spans = {}
    for turn in turns:
        spans.setdefault(turn.speaker, []).append((turn.start, turn.end))
    return {speaker: merge(found) for speaker, found in spans.items()}


def diarization_error(reference: Spans, hypothesis: Spans, duration: float, collar: float = 0.0) -> float:
    """NIST-style DER on 10 ms frames: sum over frames of max(n_ref, n_hyp) - n_correct, over n_ref."""
    frames = int(np.ceil(duration / FRAME)) + 1
    ref_names, hyp_names = sorted(reference), sorted(hypothesis)
    ref = _activity(reference, ref_names, frames)
    hyp = _activity(hypothesis, hyp_names, frames)
    scored = np.ones(frames, dtype=bool)
    if collar > 0:
        for spans in reference.values():
            for start, end in spans:
                for edge in (start, end):
                    scored[max(0, int((edge - collar) / FRAME)) : int((edge + collar) / FRAME) + 1] = False
    ref, hyp = ref[:, scored], hyp[:, scored]
    overlap = ref.astype(np.int64) @ hyp.T.astype(np.int64)
    rows, cols = linear_sum_assignment(-overlap)
    mapped = np.zeros_like(ref)
    for r, c in zip(rows, cols, strict=True):
        mapped[r] = ref[r] & hyp[c]
    n_ref, n_hyp, correct = ref.sum(axis=0), hyp.sum(axis=0), mapped.sum(axis=0)
    total = n_ref.sum()
    return float((np.maximum(n_ref, n_hyp) - correct).sum() / total) if total else 0.0


def _activity(spans: Spans, names: list[str], frames: int) -> npt.NDArray[np.bool_]:
    active = np.zeros((len(names), frames), dtype=bool)
    for index, name in enumerate(names):
        for start, end in spans[name]:
            active[index, int(start / FRAME) : int(np.ceil(end / FRAME))] = True
    return active


def rttm_spans(text: str) -> Spans:
    spans: Spans = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            start, length = float(parts[3]), float(parts[4])
            spans.setdefault(parts[7], []).append((start, start + length))
    return spans


def evaluate_stereo(
    name: str, set_name: str, stereo: Path, metadata: CallMetadata, plain: Transcriber, folder: Path
) -> Row:
    mono_path = folder / f"{name}_mono.wav"
    left, right = mix_to_mono(stereo, mono_path)
    stereo_transcript, _ = _transcribed(
        plain, probe_call(CallSource(name, stereo, metadata)), folder, "stereo"
    )
    call = probe_call(CallSource(name, mono_path, metadata))
    unlabelled, transcribe_s = _transcribed(plain, call, folder, "mono")
    audio = decode_call(mono_path, 1).channels[0]
    started = time.perf_counter()
    segments, diarization = find_speakers(
        audio, unlabelled.segments, plain.speaker_encoder, (2, 2), call.metadata
    )
    diarize_s = time.perf_counter() - started
    words = [(w.start, w.end, s.speaker) for s in segments for w in s.words]
    truth = word_truth([(a, b) for a, b, _ in words], left, right)
    roles = ["agent", "customer"]
    role_hits = sum(1 for (_, _, who), t in zip(words, truth, strict=True) if who == roles[t])
    speaker_accuracy = _best_mapping_accuracy([who for *_, who in words], truth)
    agent_words = [t for (_, _, who), t in zip(words, truth, strict=True) if who == "agent"]
    role_right = bool(agent_words) and np.mean(np.array(agent_words) == 0) > 0.5
    reference = {"agent": speech_regions(left), "customer": speech_regions(right)}
    hypothesis = turn_spans(diarization.turns)
    duration = unlabelled.duration
    return Row(
        set_name,
        name,
        duration / 60,
        len(words),
        role_hits / len(words) if words else 0.0,
        speaker_accuracy,
        role_right,
        diarization.speakers,
        diarization_error(reference, hypothesis, duration),
        diarization_error(reference, hypothesis, duration, collar=0.25),
        transcribe_s,
        diarize_s,
        list(diarization.doubts),
        diarization.separation,
        stereo_transcript,
        unlabelled.model_copy(
            update={
                "segments": segments,
                "timings": call_timings(segments, duration, diarization.turns),
                "diarization": diarization,
            }
        ),
    )


def _transcribed(plain: Transcriber, call: Call, folder: Path, kind: str) -> tuple[Transcript, float]:
    """Transcribed once per audio and model (kept beside the mixes, with the time it took), so that
    runs after the first measure the speaker step alone."""
    cached = (
        folder
        / f"{call.call_id}.{kind}.{call.audio.sha256[:12]}.{plain.model_ref.identity.replace('/', '_')}.json"
    )
    if cached.is_file():
        stored = json.loads(cached.read_text(encoding="utf-8"))
        transcript = Transcript.model_validate(stored["transcript"])
        return transcript.model_copy(update={"metadata": call.metadata}), float(stored["seconds"])
    started = time.perf_counter()
    transcript = plain.transcribe(call)
    seconds = time.perf_counter() - started
    cached.write_text(
        json.dumps({"transcript": transcript.model_dump(mode="json"), "seconds": seconds}), encoding="utf-8"
    )
    return transcript, seconds


def _best_mapping_accuracy(labels: list[str], truth: list[int]) -> float:
    names = sorted(set(labels))
    counts = np.zeros((len(names), 2))
    for label, t in zip(labels, truth, strict=True):
        counts[names.index(label), t] += 1
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / max(1, len(labels)))


def pyannote_sample_der(plain: Transcriber, folder: Path) -> tuple[float, float, float, float] | None:
    """DER of the real mono recording against its published RTTM; (DER, DER with collar, minutes, s)."""
    wheel = next((cache_root() / "benchmark-phone-call").glob("pyannote_audio-*.whl"), None)
    if wheel is None:
        return None
    with zipfile.ZipFile(wheel) as archive:
        reference = rttm_spans(archive.read("pyannote/audio/sample/sample.rttm").decode())
        (folder / "sample.wav").write_bytes(archive.read("pyannote/audio/sample/sample.wav"))
    call = probe_call(CallSource("pyannote_sample", folder / "sample.wav"))
    transcript, _ = _transcribed(plain, call, folder, "mono")
    audio = decode_call(folder / "sample.wav", 1).channels[0]
    started = time.perf_counter()
    _, diarization = find_speakers(audio, transcript.segments, plain.speaker_encoder, (2, 2), call.metadata)
    seconds = time.perf_counter() - started
    hypothesis = turn_spans(diarization.turns)
    duration = transcript.duration
    return (
        diarization_error(reference, hypothesis, duration),
        diarization_error(reference, hypothesis, duration, collar=0.25),
        duration / 60,
        seconds,
    )


def single_speaker(plain: Transcriber, path: Path, folder: Path) -> tuple[int, list[str]]:
    call = probe_call(CallSource(path.stem, path))
    transcript, _ = _transcribed(plain, call, folder, "mono")
    audio = decode_call(path, call.audio.channels).channels[0]
    _, diarization = find_speakers(audio, transcript.segments, plain.speaker_encoder, (1, 2), call.metadata)
    return diarization.speakers, list(diarization.doubts)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", default="dev,test", help="dev (demo calls), test (real recordings)")
    parser.add_argument("--whisper-model", default="bundled:base")
    parser.add_argument(
        "--score",
        metavar="JUDGE_MODEL",
        help="also score each dev call's stereo and mono transcripts with this judge "
        "(e.g. bundled:qwen2.5-1.5b) and print how often the items agree",
    )
    args = parser.parse_args()
    plain = Transcriber(TranscribeOptions(whisper_model=args.whisper_model, diarize=False))
    folder = cache_root() / "benchmark-diarization"
    folder.mkdir(parents=True, exist_ok=True)
    # the encoder loads once per process: paid here, so each call's seconds are the step itself
    plain.speaker_encoder.embed(np.zeros(2 * SAMPLE_RATE, dtype=np.float32), [(0.0, 2.0)])
    rows: list[Row] = []
    if "dev" in args.set:
        for source in discover_inputs([REPO / "seeds" / "manifest.csv"]).sources:
            rows.append(evaluate_stereo(source.call_id, "dev", source.path, source.metadata, plain, folder))
            _print_row(rows[-1])
    if "test" in args.set:
        if (SHARED_AUDIO / "stereo_diarization.wav").is_file():
            rows.append(
                evaluate_stereo(
                    "stereo_diarization",
                    "test",
                    SHARED_AUDIO / "stereo_diarization.wav",
                    CallMetadata(language="en"),
                    plain,
                    folder,
                )
            )
            _print_row(rows[-1])
        fetched = real_phone_call(cache_root())
        if fetched is not None:
            rows.append(
                evaluate_stereo(
                    "pyannote_phone_call", "test", fetched[0], CallMetadata(language="en"), plain, folder
                )
            )
            _print_row(rows[-1])
    _print_summary(rows)
    if args.score:
        score_agreement(rows, args.score)
    if "test" in args.set:
        sample = pyannote_sample_der(plain, folder)
        if sample is not None:
            der, der_collar, minutes, seconds = sample
            print(
                f"\ntest  pyannote sample.wav vs sample.rttm: DER {der:.3f} "
                f"(collar 0.25 s: {der_collar:.3f}), {seconds / minutes:.1f} s per audio minute"
            )
        for name in ("jfk.flac", "ru_tone_long.flac"):
            if (SHARED_AUDIO / name).is_file():
                count, doubts = single_speaker(plain, SHARED_AUDIO / name, folder)
                found = f"{count} speaker(s) found, doubts {doubts or '-'}"
                print(f"test  one speaker, {name} (speakers 1-2): {found}")
    return 0


def score_agreement(rows: list[Row], judge_model: str) -> None:
    """Each dev call's stereo and diarized-mono transcripts scored by the same judge: how often the
    answers agree, item by item (an item left to a person on one side and not the other disagrees)."""
    from qa_pipeline.checklist import load_checklist
    from qa_pipeline.judging.options import JudgeOptions, make_judge

    judge = make_judge(JudgeOptions(model=judge_model, device="cpu"))
    checklists = {
        lang: load_checklist(REPO / "checklists" / f"inbound-service-{lang}.yaml") for lang in ("en", "ru")
    }
    same = total = 0
    by_language: dict[str, list[int]] = {}  # language -> [agreeing, items]
    for row in rows:
        if row.set != "dev":
            continue
        checklist = checklists[row.stereo.language if row.stereo.language in checklists else "en"]
        (stereo_card, _), (mono_card, _) = judge.score_many([(checklist, row.stereo), (checklist, row.mono)])
        stereo_answers = {v.item_id: v.answer for v in stereo_card.verdicts}
        mono_answers = {v.item_id: v.answer for v in mono_card.verdicts}
        agree = [item for item, answer in stereo_answers.items() if mono_answers.get(item) == answer]
        differ = sorted(set(stereo_answers) - set(agree))
        same, total = same + len(agree), total + len(stereo_answers)
        tally = by_language.setdefault(row.stereo.language, [0, 0])
        tally[0], tally[1] = tally[0] + len(agree), tally[1] + len(stereo_answers)
        print(
            f"dev   {row.call_id:24s} items agreeing mono/stereo {len(agree)}/{len(stereo_answers)}"
            f"  totals {stereo_card.total} / {mono_card.total}  differ: {', '.join(differ) or '-'}",
            flush=True,
        )
    print(
        f"\ndev: scorecards from the mono mix agree with the stereo ones on {same}/{total} items "
        f"({same / max(1, total):.1%}); "
        + ", ".join(f"{lang} {a}/{n} ({a / max(1, n):.1%})" for lang, (a, n) in sorted(by_language.items()))
    )


def _print_row(row: Row) -> None:
    print(
        f"{row.set:4s}  {row.call_id:24s} {row.minutes:5.2f} min {row.words:4d} words"
        f"  role-acc {row.role_accuracy:.3f}"
        f"  speaker-acc {row.speaker_accuracy:.3f}  role {'right' if row.role_right else 'WRONG'}"
        f"  speakers {row.speakers}  DER {row.der:.3f}/{row.der_collar:.3f}"
        f"  s/min: ASR {row.transcribe_s / row.minutes:.1f} diar {row.diarize_s / row.minutes:.2f}"
        f"  doubts {','.join(row.doubts) or '-'}  separation {row.separation}",
        flush=True,
    )


def _print_summary(rows: list[Row]) -> None:
    for set_name in ("dev", "test"):
        chosen = [r for r in rows if r.set == set_name]
        if not chosen:
            continue
        words = sum(r.words for r in chosen)
        role_acc = sum(r.role_accuracy * r.words for r in chosen) / max(1, words)
        speaker_acc = sum(r.speaker_accuracy * r.words for r in chosen) / max(1, words)
        minutes = sum(r.minutes for r in chosen)
        asr = sum(r.transcribe_s for r in chosen)
        diar = sum(r.diarize_s for r in chosen)
        roles = sum(r.role_right for r in chosen)
        der = np.mean([r.der for r in chosen])
        der_collar = np.mean([r.der_collar for r in chosen])
        print(
            f"\n{set_name}: {len(chosen)} calls, {minutes:.1f} min, {words} words: "
            f"word role accuracy {role_acc:.3f}, speaker accuracy {speaker_acc:.3f}, "
            f"roles right {roles}/{len(chosen)}, mean DER {der:.3f} (collar 0.25 s: {der_collar:.3f}); "
            f"diarization {diar / minutes:.2f} s per audio minute = {diar / asr:.1%} of transcription "
            f"({asr / minutes:.1f} s/min)"
        )


if __name__ == "__main__":
    raise SystemExit(main())
