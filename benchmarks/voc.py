"""Benchmark the voice-of-the-customer stage on its labelled evaluation set (`seeds/voc/`, 40 written
conversations, English and Russian; never used to tune the rules, the methods or the confidence cut), or
on its development set (`seeds/voc/dev/`, 24 conversations: the one methods are tuned on).

Prints agreement with the labels per field and language with Wilson intervals: reason (the label is a
taxonomy id; a top-level label is matched by the path's first id, a leaf by its last), resolved,
repeat contact, churn risk, sentiment at the start and at the end, effort within one point; and how
many answers were left to a person (needs_human), with the agreement on the rest.

    python benchmarks/voc.py                              # bundled Qwen2.5-1.5B on llama.cpp
    python benchmarks/voc.py --model bundled:smollm2 --limit 4
    python benchmarks/voc.py --set dev                    # the development set
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import yaml

from qa_pipeline.control.agreement import wilson_interval
from qa_pipeline.judging.options import JudgeOptions, make_judge_backend
from qa_pipeline.models import CallMetadata, CallTimings, Segment, Transcript
from qa_pipeline.voc.extract import VocRecord, extract_voc
from qa_pipeline.voc.taxonomy import shipped_taxonomies

REPO = Path(__file__).resolve().parent.parent
FIELDS = ["reason", "resolved", "repeat_contact", "churn_risk", "sentiment_start", "sentiment_end", "effort"]
GOALS = {"reason": 0.85, "resolved": 0.85, "sentiment_end": 0.80, "effort": 0.85, "repeat_contact": 0.85}


def transcript_of(conversation: dict, language: str) -> Transcript:  # type: ignore[type-arg]
    segments = [
        Segment(
            speaker=speaker,
            start=5.0 * i,
            end=5.0 * i + 4,
            text=text,
            avg_logprob=0.0,
            no_speech_prob=0.0,
            compression_ratio=1.0,
        )
        for i, (speaker, text) in enumerate(conversation["lines"])
    ]
    duration = 5.0 * len(segments)
    return Transcript(
        call_id=conversation["id"],
        duration=duration,
        language=language,
        language_probability=1.0,
        channel_layout="stereo",
        segments=segments,
        timings=CallTimings(talk_time={}, silence_total=0, silences=[], overtalk_total=0, overtalks=[]),
        model="script",
        options={},
        audio_sha256="",
        metadata=CallMetadata(language=language),
    )


def right(record: VocRecord, field: str, label: object) -> bool:
    if field == "reason":
        return label in (record.reason_path[0], record.reason_path[-1])
    if field == "effort":
        return isinstance(record.effort.value, int) and abs(record.effort.value - int(label)) <= 1  # type: ignore[call-overload]
    return getattr(record, field).value == label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled:qwen2.5-1.5b")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--limit", type=int, default=0, help="the first N conversations of each language")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--set", choices=["test", "dev"], default="test", help="evaluation or dev set")
    parser.add_argument(
        "--reasons",
        choices=["shortlist", "two-step"],
        default="shortlist",
        help="reasons chosen among the e5 shortlist (shipped) or top level then child",
    )
    args = parser.parse_args()
    folder = REPO / "seeds" / "voc" / ("dev" if args.set == "dev" else "")
    backend = make_judge_backend(JudgeOptions(backend="llama", model=args.model, threads=args.threads))
    taxonomies = {t.id: t for t in shipped_taxonomies()}
    tally: dict[tuple[str, str], list[int]] = defaultdict(
        lambda: [0, 0, 0, 0]
    )  # right, n, unsure, right-of-sure
    seconds, count = 0.0, 0
    for path in sorted(folder.glob("conversations-*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        taxonomy = taxonomies[data["taxonomy"]]
        for conversation in data["conversations"][: args.limit or None]:
            started = time.perf_counter()
            record = extract_voc(
                transcript_of(conversation, taxonomy.language),
                taxonomy,
                backend,
                shortlist_reasons=args.reasons == "shortlist",
            )
            seconds += time.perf_counter() - started
            count += 1
            for field in FIELDS:
                ok = right(record, field, conversation["labels"][field])
                unsure = getattr(record, field).needs_human
                for language in (taxonomy.language, "all"):
                    t = tally[(field, language)]
                    t[0] += ok
                    t[1] += 1
                    t[2] += unsure
                    t[3] += ok and not unsure
    rows = []
    for (field, language), (ok, n, unsure, ok_sure) in sorted(tally.items()):
        interval = wilson_interval(ok, n)
        sure = wilson_interval(ok_sure, n - unsure)
        rows.append(
            {
                "field": field,
                "language": language,
                "right": ok,
                "n": n,
                "agreement": interval.value,
                "low": interval.low,
                "high": interval.high,
                "needs_human": unsure,
                "agreement_when_sure": sure.value,
                "goal": GOALS.get(field) if language == "all" else None,
            }
        )
    if args.json:
        print(
            json.dumps(
                {
                    "model": args.model,
                    "set": args.set,
                    "reasons": args.reasons,
                    "seconds_per_conversation": seconds / max(1, count),
                    "rows": rows,
                },
                indent=2,
            )
        )
        return
    each = seconds / max(1, count)
    where = "seeds/voc/dev (development)" if args.set == "dev" else "seeds/voc (test)"
    print(f"model {args.model}, reasons {args.reasons}; {count} conversations, {each:.1f} s each; {where}")
    head = ("field", "lang", "right", "agreement", "95% interval", "unsure", "when sure")
    print("{:<16} {:<4} {:>9} {:>9} {:>15} {:>6} {:>9} goal".format(*head))
    for r in rows:
        shown = "–" if r["agreement"] is None else f"{r['agreement']:.0%}"
        low_high = "" if r["low"] is None else f"{r['low']:.0%}-{r['high']:.0%}"
        sure = "–" if r["agreement_when_sure"] is None else f"{r['agreement_when_sure']:.0%}"
        goal = f"{r['goal']:.0%}" if r["goal"] else ""
        counted = f"{r['right']:>4}/{r['n']:<4}"
        print(
            f"{r['field']:<16} {r['language']:<4} {counted} {shown:>9} {low_high:>15} {r['needs_human']:>6} "
            f"{sure:>9} {goal}"
        )


if __name__ == "__main__":
    main()
