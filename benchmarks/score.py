"""Benchmark the judge: agreement with the scripts' labels per item and per method, and speed.

Three sets: the 12 demo calls (`seeds/scripts/`, the set the shipped checklists' rules were written
beside), the development set (`seeds/dev/`, 16 text-only calls for choosing questions and fitting
thresholds), and the evaluation set (`seeds/eval/`, 44 calls written apart from both, with traps where a
phrase is said but the behaviour is wrong and the reverse; it measures and is never fitted on). Two
sources: the scripts' own text (timed by a speaking rate: what a perfect ASR would give) and ASR
transcripts from a store. Every call is scored afresh (no cache). Agreement is printed per item and per
method (rule / LLM) with Wilson intervals; items the judge left to a person are counted apart, not as
agreement.

    python benchmarks/score.py                              # demo and eval sets, script text, bundled 1.5B
    python benchmarks/score.py --set demo,dev --thresholds none --fit-thresholds thresholds.yaml  # refit
    python benchmarks/score.py --set demo --source asr      # demo ASR transcripts (run the demo first)
    python benchmarks/score.py --set eval --source asr --store eval.sqlite   # after transcribing eval audio
    python benchmarks/score.py --backend openai --base-url http://localhost:8000/v1 --model qwen2.5-7b
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from qa_pipeline.checklist import Checklist, load_checklists
from qa_pipeline.control.agreement import wilson_interval
from qa_pipeline.demo_corpus import DialogueScript, load_script_set, load_scripts, script_transcript
from qa_pipeline.judging.judge import Judge
from qa_pipeline.judging.options import JudgeOptions, make_judge_backend
from qa_pipeline.judging.score_batch import select_checklist
from qa_pipeline.judging.thresholds import fit_all, labelled_probabilities, thresholds_for, write_thresholds
from qa_pipeline.models import Transcript
from qa_pipeline.store.database import Store

REPO = Path(__file__).resolve().parent.parent
INJECTED = ("en08_prompt_injection", "ev-en17-insurance-injection", "ev-ru17-insurance-injection")


SETS = ("demo", "dev", "eval")


def set_names(text: str) -> list[str]:
    names = ["demo", "eval"] if text == "both" else [name.strip() for name in text.split(",")]
    unknown = [name for name in names if name not in SETS]
    if unknown:
        raise SystemExit(f"--set: unknown set {unknown[0]!r}; choose from {', '.join(SETS)} or both")
    return names


def scripts_of(name: str) -> dict[str, DialogueScript]:
    if name == "demo":
        return load_scripts(REPO / "seeds" / "scripts")
    found: dict[str, DialogueScript] = {}
    for path in sorted((REPO / "seeds" / name).glob("calls-*.yaml")):
        found.update(load_script_set(path))
    return found


def transcripts_of(scripts: dict[str, DialogueScript], source: str, store: str) -> list[Transcript]:
    if source == "text":
        return [script_transcript(script) for script in scripts.values()]
    stored = {t.call_id: t for t in Store(store).transcripts(list(scripts))}
    missing = sorted(set(scripts) - set(stored))
    if missing:
        print(f"{len(missing)} calls have no transcript in {store} (first: {missing[0]})", file=sys.stderr)
    return [stored[call_id] for call_id in scripts if call_id in stored]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--set", default="both", help="demo, dev, eval, a comma list of them, or both (demo and eval)"
    )
    parser.add_argument("--source", choices=["text", "asr"], default="text")
    parser.add_argument("--store", default=str(REPO / "demo-output" / "qa.sqlite"))
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--model", default="auto")
    parser.add_argument("--judge-mode", default="auto", choices=["auto", "items", "scorecard"])
    parser.add_argument("--no-evidence", action="store_true", help="items mode: skip the evidence step")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--base-url")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--limit", type=int, default=0, help="score only the first N calls of each set")
    parser.add_argument("--verbose", action="store_true", help="print every disagreement")
    parser.add_argument(
        "--thresholds",
        help="items mode: a thresholds file to use instead of the shipped one, or 'none' for plain 0.5",
    )
    parser.add_argument(
        "--fit-thresholds",
        type=Path,
        help="fit per-item thresholds on the scored sets' labels and write them here (fit on the demo and "
        "dev sets, then measure on the evaluation set)",
    )
    args = parser.parse_args()

    checklists = load_checklists([REPO / "checklists"])
    backend = make_judge_backend(
        JudgeOptions(
            backend=args.backend,
            model=args.model,
            device=args.device,
            base_url=args.base_url,
            threads=args.threads,
        )
    )
    thresholds = None
    if args.thresholds:
        thresholds = (
            {} if args.thresholds == "none" else thresholds_for(backend.model_id, [Path(args.thresholds)])
        )
    judge = Judge(backend, mode=args.judge_mode, evidence=not args.no_evidence, thresholds=thresholds)
    sets = set_names(args.set)
    print(f"judge  {backend.model_id} ({backend.name}), source: {args.source}")
    labelled: list[tuple[str, float, bool]] = []
    calls = 0
    for name in sets:
        scripts = scripts_of(name)
        transcripts = transcripts_of(scripts, args.source, args.store)[: args.limit or None]
        labelled += benchmark_set(name, scripts, transcripts, checklists, judge, args.verbose)
        calls += len(transcripts)
    if args.fit_thresholds:
        fitted = fit_all(labelled)
        source = f"{' + '.join(sets)} set, {args.source}, {calls} calls, labels from the scripts"
        write_thresholds(args.fit_thresholds, backend.model_id, source, fitted)
        print(f"thresholds for {len(fitted)} questions written to {args.fit_thresholds}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS) {peak:.0f} MiB")
    return 0


def benchmark_set(
    name: str,
    scripts: dict[str, DialogueScript],
    transcripts: list[Transcript],
    checklists: list[Checklist],
    judge: Judge,
    verbose: bool,
) -> list[tuple[str, float, bool]]:
    """Prints the set's agreement and speed; returns (question, p(yes), label) for threshold fitting."""
    labelled: list[tuple[str, float, bool]] = []
    agree: Counter[tuple[str, str]] = Counter()  # (item, method) -> agreeing
    answered: Counter[tuple[str, str]] = Counter()
    to_people: Counter[tuple[str, str]] = Counter()
    by_language: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    # What a fatal item's certainty cuts are chosen on: p(yes), label, answer, confidence, flags.
    fatal: list[tuple[str, str, float, str | int, str | int | None, float | None, str]] = []
    seconds = audio = 0.0
    for transcript in transcripts:
        checklist = select_checklist(checklists, transcript)
        if checklist is None:
            continue
        script = scripts[transcript.call_id]
        started = time.perf_counter()
        card, _ = judge.score(checklist, transcript)
        seconds += time.perf_counter() - started
        audio += transcript.duration
        wrong = []
        for verdict in card.verdicts:
            key = (verdict.item_id, checklist.item(verdict.item_id).method)
            key = (key[0], "llm" if key[1] == "llm" else "rule")
            if verdict.answer is None:
                to_people[key] += 1
                continue
            expected = script.expected[verdict.item_id]
            labelled += labelled_probabilities(verdict.item_id, verdict.probabilities, expected)
            answered[key] += 1
            agree[key] += verdict.answer == expected
            by_language[script.language][0] += verdict.answer == expected
            by_language[script.language][1] += 1
            if verdict.answer != expected:
                wrong.append(f"{verdict.item_id}={verdict.answer}/{expected}")
        if transcript.call_id in INJECTED:
            yes = sum(v.answer == "yes" for v in card.verdicts)
            items = f"{yes}/{len(card.verdicts)}"
            print(f"  injected call {transcript.call_id}: {items} items yes, total {card.total}")
        if verbose and wrong:
            print(f"  {transcript.call_id}: {' '.join(wrong)}")
        for verdict in card.verdicts:
            if checklist.item(verdict.item_id).critical == "fatal" and "yes" in verdict.probabilities:
                expected = script.expected[verdict.item_id]
                fatal.append(
                    (
                        transcript.call_id,
                        verdict.item_id,
                        verdict.probabilities["yes"],
                        expected,
                        verdict.answer,
                        verdict.confidence,
                        ",".join(f for f in verdict.flags if f.startswith("uncertain_fatal")),
                    )
                )
    calls = len(transcripts)
    print(f"\n== {name} set: {calls} calls, {audio / 60:.1f} min of speech")
    print(f"{'item':26s} {'method':6s} {'agree':>7s} {'rate':>5s}  {'95% CI':11s} {'to people':>9s}")
    for key in sorted(set(answered) | set(to_people), key=lambda k: (k[1], k[0])):
        print_row(key[0], key[1], agree[key], answered[key], to_people[key])
    for method in ("rule", "llm"):
        keys = [k for k in answered if k[1] == method]
        print_row(
            f"all {method} items",
            method,
            sum(agree[k] for k in keys),
            sum(answered[k] for k in keys),
            sum(to_people[k] for k in to_people if k[1] == method),
        )
    print_row("all items", "", sum(agree.values()), sum(answered.values()), sum(to_people.values()))
    for language, (good, total) in sorted(by_language.items()):
        print_row(f"  language {language}", "", good, total, 0)
    print(f"fatal items against their labels ({len(fatal)}; certainty cuts are chosen on demo and dev only)")
    print(f"  {'p(yes)':>6s}  {'label':5s} {'answer':6s} {'conf.':>5s}  {'item':26s} {'flags':20s} call")
    for call_id, item_id, p_yes, expected, answer, confidence, flags in sorted(fatal, key=lambda r: r[2]):
        shown = "-" if confidence is None else f"{confidence:.2f}"
        print(
            f"  {p_yes:6.3f}  {expected!s:5s} {answer!s:6s} {shown:>5s}  {item_id:26s} {flags or '-':20s} "
            f"{call_id}"
        )
    if seconds:
        print(
            f"speed  {seconds:.0f} s for {calls} calls: {seconds / calls:.1f} s/call, "
            f"{calls / seconds * 3600:.0f} calls/hour, {audio / seconds * 60:.0f} call-minutes per hour "
            f"({audio / calls:.0f} s per call on average)"
        )
    return labelled


def print_row(label: str, method: str, good: int, total: int, left: int) -> None:
    if not total:
        print(f"{label:26s} {method:6s} {'-':>7s} {'':5s}  {'':11s} {left:9d}")
        return
    interval = wilson_interval(good, total)
    print(
        f"{label:26s} {method:6s} {good:3d}/{total:<3d} {good / total:5.0%}  "
        f"{interval.low or 0:4.0%}-{interval.high or 0:4.0%}   {left:9d}"
    )


if __name__ == "__main__":
    sys.exit(main())
