"""Benchmark the judge: speed (calls/hour, tokens/s) and accuracy against the demo scripts' intended answers.

Reads transcripts from a store (run `qa-pipeline demo` or `qa-pipeline transcribe seeds/manifest.csv` first),
scores each call afresh (no cache), and compares with what each dialogue script was written to earn. The
injected call (en08) shows whether speech aimed at the scorer moved the scores.

    python benchmarks/score.py                                   # bundled SmolLM2 on CPU
    python benchmarks/score.py --model Qwen/Qwen2.5-7B-Instruct --device cuda --batch-size 8
    python benchmarks/score.py --backend openai --base-url http://localhost:8000/v1 --model qwen2.5-7b
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from pathlib import Path

from qa_pipeline.checklist import load_checklists
from qa_pipeline.demo_corpus import expected_scorecard, item_agreement, load_scripts
from qa_pipeline.judge import Judge
from qa_pipeline.judge_backends import make_backend
from qa_pipeline.score_batch import select_checklist
from qa_pipeline.store import Store

REPO = Path(__file__).resolve().parent.parent
INJECTED_CALL = "en08_prompt_injection"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", default=str(REPO / "demo-output" / "qa.sqlite"))
    parser.add_argument("--backend", default="transformers")
    parser.add_argument("--model", default="bundled:smollm2")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--base-url")
    parser.add_argument("--limit", type=int, default=0, help="score only the first N calls")
    parser.add_argument("--batch-size", type=int, default=1, help="calls per judge batch")
    args = parser.parse_args()

    transcripts = Store(args.store).transcripts()
    scripts = load_scripts(REPO / "seeds" / "scripts")
    transcripts = [t for t in transcripts if t.call_id in scripts][: args.limit or None]
    if not transcripts:
        print(f"no demo transcripts in {args.store}; run qa-pipeline demo first", file=sys.stderr)
        return 1
    checklists = load_checklists([REPO / "checklists"])
    backend = make_backend(args.backend, model=args.model, device=args.device, base_url=args.base_url)
    judge = Judge(backend)

    seconds = tokens = 0.0
    agree: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    abs_errors: list[float] = []
    fatal_hits = fatal_expected = fatal_flagged = 0
    jobs = [(c, t) for t in transcripts if (c := select_checklist(checklists, t)) is not None]
    for first in range(0, len(jobs), args.batch_size):
        chunk = jobs[first : first + args.batch_size]
        started = time.perf_counter()
        scored = judge.score_many(chunk)
        took = time.perf_counter() - started
        seconds += took
        for (checklist, transcript), (card, stats) in zip(chunk, scored, strict=True):
            tokens += stats["completion_tokens"]
            truth = expected_scorecard(scripts[transcript.call_id], checklist)
            for item_id, agreed in item_agreement(card, truth).items():
                answered[item_id] += 1
                agree[item_id] += agreed
            if card.total is not None and truth.total is not None:
                abs_errors.append(abs(card.total - truth.total))
            fatal_expected += bool(truth.failed_critical)
            fatal_flagged += bool(card.failed_critical)
            fatal_hits += bool(truth.failed_critical) and bool(card.failed_critical)
            if transcript.call_id == INJECTED_CALL:
                yes = sum(v.answer == "yes" for v in card.verdicts)
                print(
                    f"injected call     AI total {card.total}, intended {truth.total}; "
                    f"{yes}/{len(card.verdicts)} items 'yes'"
                )
            print(
                f"{transcript.call_id:28s} AI {card.total!s:>6}  intended {truth.total!s:>6}  "
                f"{took / len(chunk):5.1f} s"
            )

    calls = len(transcripts)
    correct = sum(agree.values())
    total_answered = sum(answered.values())
    print(f"judge             {backend.model_id} ({args.backend}), batch size {args.batch_size}")
    print(f"calls             {calls}, {seconds:.0f} s, {calls / seconds * 3600:.0f} calls/hour")
    print(f"generation        {tokens / seconds:.1f} tokens/s ({tokens / calls:.0f} tokens per call)")
    print(f"item accuracy     {correct}/{total_answered} = {correct / max(total_answered, 1):.1%}")
    for item in sorted(answered):
        print(f"  {item:26s} {agree[item]}/{answered[item]}")
    if abs_errors:
        print(f"total MAE         {sum(abs_errors) / len(abs_errors):.1f} points")
    print(f"fatal calls       {fatal_hits} of {fatal_expected} found; {fatal_flagged} marked fatal by the AI")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS) {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
