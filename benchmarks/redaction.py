"""Benchmark redaction: recall per kind and false positives on the redaction set.

The set (tests/data/redaction_set.yaml) holds card, phone and passport numbers, e-mails, CVV/PIN codes,
СНИЛС/ИНН and birth dates as callers say them and Whisper writes them, in English and Russian, some
split over several segments, and negatives that must stay. `dev` is the list the rules were tuned on;
`eval` is only measured, and is the one the acceptance test gates on (recall >= 98% for cards, phones,
passports and e-mails).

    python benchmarks/redaction.py              # both lists
    python benchmarks/redaction.py --set eval -v  # every miss and false positive
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from qa_pipeline.redaction.evaluation import evaluate, load_redaction_set

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--set", default="dev,eval", help="dev, eval or both (comma-separated)")
    parser.add_argument("--cases", type=Path, default=REPO / "tests" / "data" / "redaction_set.yaml")
    parser.add_argument("-v", "--verbose", action="store_true", help="list misses and false positives")
    args = parser.parse_args()
    loaded = load_redaction_set(args.cases)
    for name in args.set.split(","):
        cases = getattr(loaded, name)
        started = time.perf_counter()
        scores = evaluate(cases)
        elapsed = time.perf_counter() - started
        print(
            f"\n{name}: {len(cases)} cases, {sum(scores.expected.values())} items ({elapsed * 1000:.0f} ms)"
        )
        for kind in sorted(scores.expected):
            found, expected = scores.found[kind], scores.expected[kind]
            print(f"  {kind:11s} recall {found:3d}/{expected:<3d} {scores.recall(kind):6.1%}")
        print(
            f"  false positives: {scores.false_positives} redacted stretches outside the expected data; "
            f"{scores.negatives_redacted}/{scores.negatives} negative cases touched"
        )
        if args.verbose:
            for case in scores.cases:
                for item in case.missed:
                    print(f"    missed {case.id}: {item.kind} {item.text!r}")
                for text in case.false_positives:
                    print(f"    false positive {case.id}: {text!r}")


if __name__ == "__main__":
    main()
