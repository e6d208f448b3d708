"""Benchmark the transcription stage against bare faster-whisper on the same files, in one run.

Bare faster-whisper is what a user would write by hand: decode, split stereo, transcribe each channel with
the same decoding options. The pipeline adds probing, hashing, one language detection per call, the
hallucination guard, timings, the store and JSON files. Both share one loaded model; model loading is
reported apart.

    python benchmarks/transcribe.py                       # demo corpus, bundled base, CPU
    python benchmarks/transcribe.py CALLS/ --whisper-model large-v3-turbo --device cuda
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from qa_pipeline.audio import decode_call
from qa_pipeline.batch import summarise, transcribe_batch
from qa_pipeline.ingest import discover_inputs, probe_call
from qa_pipeline.store import Store
from qa_pipeline.transcribe import TranscribeOptions, Transcriber

REPO = Path(__file__).resolve().parent.parent


def bare_faster_whisper(transcriber: Transcriber, paths: list[Path]) -> float:
    """Seconds faster-whisper alone needs for the same audio and decoding options."""
    started = time.perf_counter()
    for path in paths:
        channels = probe_call_channels(path)
        for audio in decode_call(path, channels).channels:
            segments, _ = transcriber.model.transcribe(
                audio,
                beam_size=transcriber.options.beam_size,
                vad_filter=transcriber.options.vad,
                word_timestamps=True,
                condition_on_previous_text=False,
            )
            for _ in segments:  # segments are lazy: decoding happens while iterating
                pass
    return time.perf_counter() - started


def probe_call_channels(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        return int(container.streams.audio[0].channels)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("inputs", nargs="*", type=Path, default=[REPO / "seeds" / "audio"])
    parser.add_argument("--whisper-model", default="bundled:base")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=0)
    args = parser.parse_args()

    found = discover_inputs(args.inputs)
    if not found.sources:
        print(f"no audio found in {args.inputs}", file=sys.stderr)
        return 1
    options = TranscribeOptions(
        whisper_model=args.whisper_model,
        device=args.device,
        cpu_threads=args.threads,
        batch_size=args.batch_size,
    )
    transcriber = Transcriber(options)
    started = time.perf_counter()
    _ = transcriber.model
    load_seconds = time.perf_counter() - started

    calls = [probe_call(source) for source in found.sources]
    audio_seconds = sum(call.audio.duration for call in calls)
    transcriber.transcribe(min(calls, key=lambda c: c.audio.duration))  # warm-up: first-call costs

    bare_seconds = bare_faster_whisper(transcriber, [Path(c.audio_path) for c in calls])
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.sqlite")
        started = time.perf_counter()
        results = list(transcribe_batch(found.sources, transcriber, store, Path(tmp) / "out"))
        pipeline_seconds = time.perf_counter() - started
        store.close()
    summary = summarise(results)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    model = f"{transcriber.model_ref.identity} on {transcriber.device} ({transcriber.compute_type})"
    print(f"model             {model}")
    print(f"calls             {len(calls)} ({summary.failed} failed), {audio_seconds / 60:.1f} min of audio")
    print(f"model load        {load_seconds:.1f} s")
    print(f"bare faster-whisper  {bare_seconds:7.1f} s   {audio_seconds / bare_seconds:6.1f}x real time")
    print(
        f"qa-pipeline          {pipeline_seconds:7.1f} s   {audio_seconds / pipeline_seconds:6.1f}x real time"
    )
    ratio = pipeline_seconds / bare_seconds
    print(f"pipeline / bare   {ratio:.3f} ({ratio - 1:+.1%} overhead)")
    print(
        f"throughput        {len(calls) / pipeline_seconds * 3600:.0f} calls/hour, "
        f"{audio_seconds / pipeline_seconds:.1f} audio hours per hour"
    )
    print(f"peak memory (RSS) {peak_mb:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
