"""End-to-end throughput: call-hours per hour for transcription, judging and the whole run, with memory.

Each stage runs as the command a user runs (`qa-pipeline transcribe`, `score`, `report`) in its own
process on a fresh store, so its wall time includes loading models and its peak memory is its own
(resident memory from wait4; GPU memory polled from nvidia-smi when a GPU is used).

    python benchmarks/pipeline.py                                   # demo calls, CPU, bundled models
    python benchmarks/pipeline.py --inputs calls/ --device cuda --whisper-model large-v3-turbo \\
        --judge-backend openai --base-url http://localhost:8000/v1 --judge-model Qwen/Qwen2.5-7B-Instruct
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Stage:
    name: str
    seconds: float
    peak_rss_mib: float
    peak_gpu_mib: float | None
    output: str


class GpuPeak:
    """Highest GPU memory in use while a stage runs (nvidia-smi, once a second)."""

    def __init__(self) -> None:
        self.peak: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> GpuPeak:
        if shutil.which("nvidia-smi"):
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set():
            query = ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"]
            done = subprocess.run(query, capture_output=True, text=True, check=False)
            used = [float(line) for line in done.stdout.split() if line.strip()]
            if used:
                self.peak = max(self.peak or 0.0, sum(used))
            self._stop.wait(1.0)


def run_stage(name: str, args: list[str]) -> Stage:
    command = [str(Path(sys.executable).parent / "qa-pipeline"), *args]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, GpuPeak() as gpu:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read()
    if process.returncode not in (0, 1):  # 1: some call failed, reported in the output
        raise SystemExit(f"{name} failed ({process.returncode}):\n{output[-3000:]}")
    return Stage(name, seconds, usage.ru_maxrss / 1024, gpu.peak, output)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inputs", nargs="*", type=Path, default=[REPO / "seeds" / "manifest.csv"])
    parser.add_argument("--whisper-model", default="auto")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--judge-backend", default="auto")
    parser.add_argument("--judge-model", default="auto")
    parser.add_argument("--base-url", default=None, help="vLLM or llama.cpp server (OpenAI-compatible)")
    parser.add_argument("--checklist", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="keep the work folder here")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="qa-bench-"))
    store = str(work / "qa.sqlite")
    checklist = ["--checklist", str(args.checklist)] if args.checklist else []
    transcribe = run_stage(
        "transcribe",
        ["transcribe", *map(str, args.inputs), "--store", store, "--out", str(work / "transcripts"),
         "--whisper-model", args.whisper_model, "--device", args.device, "--json"],
    )  # fmt: skip
    results = json.loads(transcribe.output[transcribe.output.index("{") :])
    calls = [r for r in results["results"] if r["status"] == "transcribed"]
    audio_seconds = sum(r["duration"] for r in calls)
    judge = ["--backend", args.judge_backend, "--model", args.judge_model]
    # A judge server decides its own device (the openai backend refuses one); a local judge shares Whisper's.
    judge += ["--base-url", args.base_url] if args.base_url else ["--device", args.device]
    score = run_stage(
        "score",
        ["score", "--store", store, "--out", str(work / "scorecards"), *judge, *checklist, "--json"],
    )
    scored = json.loads(score.output[score.output.index("[") :])
    report = run_stage(
        "report", ["report", "--store", store, "--out", str(work / "report.html"), *checklist, "--json"]
    )
    stages = [transcribe, score, report]
    whole = Stage(
        "whole run",
        sum(s.seconds for s in stages),
        max(s.peak_rss_mib for s in stages),
        max((s.peak_gpu_mib for s in stages if s.peak_gpu_mib is not None), default=None),
        "",
    )

    hours = audio_seconds / 3600
    print(f"{len(calls)} calls transcribed, {sum(r['status'] == 'scored' for r in scored)} scored, "
          f"{audio_seconds / 60:.1f} min of audio; device {args.device}, work folder {work}")  # fmt: skip
    print(f"{'stage':12s} {'wall s':>8s} {'call-hours/hour':>16s} {'calls/hour':>11s} {'peak RSS MiB':>13s} "
          f"{'peak GPU MiB':>13s}")  # fmt: skip
    for stage in [*stages, whole]:
        gpu = f"{stage.peak_gpu_mib:.0f}" if stage.peak_gpu_mib is not None else "-"
        print(f"{stage.name:12s} {stage.seconds:8.1f} {hours / (stage.seconds / 3600):16.2f} "
              f"{len(calls) / stage.seconds * 3600:11.0f} {stage.peak_rss_mib:13.0f} {gpu:>13s}")  # fmt: skip
    real_time = [r["processing_seconds"] for r in calls]
    if real_time:
        print(f"transcription alone (no model loading): {audio_seconds / sum(real_time):.1f}x real time")
    judge_seconds = [r["seconds"] for r in scored if r["status"] == "scored"]
    if judge_seconds:
        print(f"judging alone (no model loading): {sum(judge_seconds) / len(judge_seconds):.1f} s per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
