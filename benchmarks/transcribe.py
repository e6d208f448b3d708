"""The transcription stage against the fastest bare faster-whisper, like for like, in one run.

Bare faster-whisper is what a user would write by hand with the same model and the same decoding options
(beam size, VAD, word timestamps, no conditioning on previous text, hallucination_silence_threshold, the
manifest's language): decode, split stereo, transcribe each channel, once sequentially and once with
`BatchedInferencePipeline` at the pipeline's batch size. The pipeline adds probing and hashing, one
language detection per call, utterance splitting, the guards, timings, the store and JSON files; it runs
as shipped (the same decoding as bare batched: the like-for-like ratio) and with `--redecode-loops`, where
utterances that came out as loops are decoded again with sequential decoding's temperature fallback (a
quality pass bare batched decoding lacks, shown with its own time and word error rate). All share one
loaded model;
each runs `--repeats` times in turn and its fastest pass counts, so a burst of load on the machine does
not decide the ratio. Word error rate is measured where a reference exists: the demo scripts, and the
published references of the recordings in ../shared/data/audio (when that folder is present), and a real
two-person phone conversation made into an 8 kHz stereo call (`phone_call.py`).

    python benchmarks/transcribe.py                        # demo calls + shared recordings, bundled base
    python benchmarks/transcribe.py --set shared --repeats 3
    python benchmarks/transcribe.py --inputs CALLS/ --whisper-model large-v3-turbo --device cuda
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phone_call import real_phone_call  # benchmarks/ is the script's folder

from qa_pipeline.demo_corpus import load_scripts
from qa_pipeline.models import Call, Transcript
from qa_pipeline.store.database import Store
from qa_pipeline.transcription.audio import decode_call
from qa_pipeline.transcription.batch import transcribe_batch
from qa_pipeline.transcription.ingest import CallSource, discover_inputs, probe_call
from qa_pipeline.transcription.transcribe import TranscribeOptions, Transcriber
from qa_pipeline.transcription.wer import normalise_for_wer, word_error_rate
from qa_pipeline.transcription.whisper_models import cache_root

REPO = Path(__file__).resolve().parent.parent
SHARED_AUDIO = REPO.parent / "shared" / "data" / "audio"
# Published references of the shared recordings (../shared/data/README.md); per channel for stereo.
SHARED_REFERENCES: dict[str, list[str]] = {
    "jfk": [
        "And so my fellow Americans, ask not what your country can do for you, ask what you can do for "
        "your country."
    ],
    "stereo_diarization": [
        "He began a confused complaint against the wizard, who had vanished behind the curtain on the left.",
        "The horizon seems extremely distant.",
    ],
}


@dataclass
class Corpus:
    name: str
    calls: list[Call]
    references: dict[str, list[str]]  # call id -> reference per channel (agent first), where known

    @property
    def audio_seconds(self) -> float:
        return sum(call.audio.duration for call in self.calls)


@dataclass
class Outcome:
    seconds: list[float] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=dict)  # call id -> text per channel

    @property
    def best(self) -> float:
        return min(self.seconds)


def demo_corpus() -> Corpus:
    sources = discover_inputs([REPO / "seeds" / "manifest.csv"]).sources
    scripts = load_scripts(REPO / "seeds" / "scripts")
    references = {
        call_id: [script.reference_text("agent"), script.reference_text("customer")]
        for call_id, script in scripts.items()
    }
    return Corpus("demo calls", [probe_call(s) for s in sources], references)


def shared_corpus() -> Corpus | None:
    if not SHARED_AUDIO.is_dir():
        return None
    files = sorted(p for p in SHARED_AUDIO.iterdir() if p.suffix in (".wav", ".flac", ".mp3"))
    calls = [probe_call(CallSource(p.stem, p)) for p in files]
    return Corpus("shared recordings", calls, SHARED_REFERENCES)


def phone_corpus() -> Corpus | None:
    fetched = real_phone_call(cache_root())
    if fetched is None:
        return None
    path, references = fetched
    call = probe_call(CallSource("pyannote_phone_call", path))
    return Corpus("real phone call, 8 kHz stereo", [call], {call.call_id: references})


def bare(transcriber: Transcriber, corpus: Corpus, batched: bool) -> Outcome:
    """Hand-written faster-whisper over the corpus: per channel, agent (left) first."""
    from faster_whisper import BatchedInferencePipeline

    options = transcriber.options
    pipeline = BatchedInferencePipeline(model=transcriber.model) if batched else None
    outcome = Outcome()
    started = time.perf_counter()
    for call in corpus.calls:
        texts = []
        for audio in decode_call(Path(call.audio_path), call.audio.channels).channels:
            kwargs: dict[str, Any] = {
                "language": options.language or call.metadata.language,
                "beam_size": options.beam_size,
                "vad_filter": options.vad,
                "word_timestamps": True,
                "condition_on_previous_text": False,
                "hallucination_silence_threshold": options.hallucination_silence_threshold,
            }
            if pipeline is not None:
                segments, _ = pipeline.transcribe(audio, batch_size=transcriber.batch_size, **kwargs)
            else:
                segments, _ = transcriber.model.transcribe(audio, **kwargs)
            texts.append(" ".join(s.text.strip() for s in segments))  # decoding happens here, lazily
        outcome.texts[call.call_id] = texts
    outcome.seconds.append(time.perf_counter() - started)
    return outcome


def through_pipeline(transcriber: Transcriber, corpus: Corpus) -> Outcome:
    outcome = Outcome()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.sqlite")
        sources = [CallSource(c.call_id, Path(c.audio_path), c.metadata) for c in corpus.calls]
        started = time.perf_counter()
        results = list(transcribe_batch(sources, transcriber, store, Path(tmp) / "out", force=True))
        outcome.seconds.append(time.perf_counter() - started)
        for result in results:
            if result.output is None:
                raise SystemExit(f"{result.call_id}: {result.reason}")
            transcript = Transcript.model_validate_json(Path(result.output).read_text(encoding="utf-8"))
            if transcript.channel_layout == "stereo":
                texts = [transcript.text_by_speaker("agent"), transcript.text_by_speaker("customer")]
            else:  # one reference per mono recording, whoever said each word
                texts = [" ".join(s.text.strip() for s in transcript.segments).strip()]
            outcome.texts[result.call_id] = texts
        store.close()
    return outcome


def corpus_wer(corpus: Corpus, outcome: Outcome, language: str | None = None) -> tuple[float | None, int]:
    """Word error rate over every channel with a reference, weighted by reference words."""
    errors = words = 0.0
    languages = {call.call_id: call.metadata.language for call in corpus.calls}
    for call_id, references in corpus.references.items():
        if language is not None and languages.get(call_id) != language:
            continue
        texts = outcome.texts.get(call_id)
        if texts is None or len(texts) != len(references):
            continue
        for reference, text in zip(references, texts, strict=True):
            n = len(normalise_for_wer(reference).split())
            errors += word_error_rate(reference, text) * n
            words += n
    return (errors / words if words else None), int(words)


def measure(transcriber: Transcriber, corpus: Corpus, repeats: int) -> dict[str, Outcome]:
    """Bare faster-whisper has no speakers on a mono recording, so the like-for-like `qa-pipeline` run
    leaves them out too; `+ mono speakers` is the shipped default with the speaker step on top."""
    like_for_like = _sharing_model(transcriber, diarize=False)
    redecoding = _sharing_model(transcriber, diarize=False, redecode_loops=True)
    runs: dict[str, Callable[[], Outcome]] = {
        "bare sequential": lambda: bare(transcriber, corpus, batched=False),
        "bare batched": lambda: bare(transcriber, corpus, batched=True),
        "qa-pipeline": lambda: through_pipeline(like_for_like, corpus),
    }
    if transcriber.batch_size > 1:
        runs["--redecode-loops"] = lambda: through_pipeline(redecoding, corpus)
    if transcriber.options.diarize and any(c.audio.channels == 1 for c in corpus.calls):
        runs["+ mono speakers"] = lambda: through_pipeline(transcriber, corpus)
    outcomes: dict[str, Outcome] = {}
    for _ in range(repeats):  # interleaved, so a slow minute on the machine hits all three alike
        for name, run in runs.items():
            outcome = run()
            if name in outcomes:
                outcomes[name].seconds += outcome.seconds
            else:
                outcomes[name] = outcome
    return outcomes


def _sharing_model(transcriber: Transcriber, **options: bool) -> Transcriber:
    other = Transcriber(transcriber.options.model_copy(update=options))
    other.__dict__["model"] = transcriber.model  # the same loaded model (a cached property)
    return other


def report(corpus: Corpus, outcomes: dict[str, Outcome]) -> None:
    audio = corpus.audio_seconds
    print(f"\n{corpus.name}: {len(corpus.calls)} calls, {audio / 60:.1f} min of audio")
    languages = sorted({c.metadata.language for c in corpus.calls if c.metadata.language})
    by_language = "".join(f" {'WER ' + lang:>7s}" for lang in languages) if len(languages) > 1 else ""
    print(f"  {'':16s} {'best s':>7s} {'passes s':>18s} {'x real time':>11s} {'WER':>6s}{by_language}")
    wers = {}
    for name, outcome in outcomes.items():
        wer, words = corpus_wer(corpus, outcome)
        wers[name] = wer
        passes = " ".join(f"{s:.1f}" for s in outcome.seconds)
        columns = [_rate(wer)]
        if by_language:
            columns += [_rate(corpus_wer(corpus, outcome, lang)[0]) for lang in languages]
        print(
            f"  {name:16s} {outcome.best:7.1f} {passes:>18s} {audio / outcome.best:11.1f} "
            + " ".join(f"{c:>6s}" for c in columns)
        )
    fastest = min(("bare sequential", "bare batched"), key=lambda n: outcomes[n].best)
    ratio = outcomes["qa-pipeline"].best / outcomes[fastest].best
    print(f"  pipeline / fastest bare ({fastest}): {ratio:.3f}")
    if wers["qa-pipeline"] is not None and wers[fastest] is not None:
        difference = wers["qa-pipeline"] - wers[fastest]
        print(f"  WER pipeline - {fastest}: {difference:+.3f} ({words} reference words)")
    shipped = outcomes.get("+ mono speakers", outcomes["qa-pipeline"])
    print(f"  pipeline as shipped: {len(corpus.calls) / shipped.best * 3600:.0f} calls/hour, "
          f"{audio / shipped.best:.1f} call-hours per hour")  # fmt: skip


def _rate(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "-"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--set",
        default="demo,shared,phone",
        help="demo (the demo calls), shared (../shared/data/audio), phone (a real phone call, 8 kHz stereo, "
        "fetched once from the pyannote.audio wheel on PyPI); comma-separated",
    )
    parser.add_argument("--inputs", nargs="*", type=Path, help="your own calls instead (no WER)")
    parser.add_argument("--whisper-model", default="bundled:base")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=0, help="0 = the pipeline's automatic choice")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    corpora: list[Corpus] = []
    if args.inputs:
        found = discover_inputs(args.inputs)
        corpora.append(Corpus("inputs", [probe_call(s) for s in found.sources], {}))
    else:
        if "demo" in args.set:
            corpora.append(demo_corpus())
        if "shared" in args.set:
            shared = shared_corpus()
            if shared is None:
                print(f"(no {SHARED_AUDIO}: shared recordings left out)")
            else:
                corpora.append(shared)
        if "phone" in args.set:
            phone = phone_corpus()
            if phone is None:
                print("(could not fetch the pyannote.audio wheel: the real phone call is left out)")
            else:
                corpora.append(phone)
    transcriber = Transcriber(
        TranscribeOptions(
            whisper_model=args.whisper_model,
            device=args.device,
            cpu_threads=args.threads,
            batch_size=args.batch_size,
        )
    )
    started = time.perf_counter()
    _ = transcriber.model
    loaded = time.perf_counter() - started
    model = f"{transcriber.model_ref.identity} on {transcriber.device} ({transcriber.compute_type})"
    print(f"model       {model}, batch {transcriber.batch_size}, loaded in {loaded:.1f} s")
    warm = min(corpora[0].calls, key=lambda c: c.audio.duration)
    transcriber.transcribe(warm)  # first-call costs (allocations, VAD model) paid before timing
    if transcriber.options.diarize:
        _ = transcriber.speaker_encoder.embed(decode_call(Path(warm.audio_path), 1).channels[0], [(0.0, 2.0)])
    for corpus in corpora:
        # a few seconds of work is at the mercy of the machine's load: short sets run three times as often
        repeats = args.repeats * (3 if corpus.audio_seconds < 120 else 1)
        report(corpus, measure(transcriber, corpus, repeats))
    print(f"\npeak memory (RSS) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
