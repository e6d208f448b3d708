"""Write the demo's synthetic customer and employee outcomes to seeds/outcomes/ from the dialogue scripts.

No customer ever answered these: each demo call's CSAT and NPS are made from the answers its script was
written to earn (a fatal fail and an unsolved matter cost the most, missing empathy a little), plus a
fixed-seed jitter, and each team's eNPS for the month is made up. The files say "synthetic" in their
names, and the report labels figures from such files as synthetic. They exist so that the demo can show
the validity analysis end to end; twelve calls are far too few for it to claim anything, and it says so.

    python scripts/make_synthetic_outcomes.py      # rewrite seeds/outcomes/synthetic-*.csv
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from qa_pipeline.demo_corpus import load_scripts

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
FATAL = ("no_rudeness", "no_unverified_disclosure")
# Team eNPS for October 2026: five team-periods, under the eight the EX-CX analysis needs.
TEAM_ENPS = {"billing": 32, "cards": 18, "mobile": -6, "internet": 41, "delivery": -15}


def main() -> None:
    scripts = load_scripts(SEEDS / "scripts")
    teams = _manifest_teams(SEEDS / "manifest.csv")
    rng = random.Random(20261001)
    out = SEEDS / "outcomes"
    out.mkdir(exist_ok=True)
    surveys = []
    for call_id in sorted(scripts):
        expected = scripts[call_id].expected
        csat = 4.6 - 1.8 * any(expected.get(i) == "no" for i in FATAL)
        csat -= 1.2 * (expected.get("solution") == "no") + 0.4 * (expected.get("empathy") == "no")
        csat += rng.uniform(-0.4, 0.4)
        nps = 9.0 + 2.2 * (csat - 4.6) + rng.uniform(-1, 1)
        surveys.append(
            {
                "call_id": call_id,
                "csat": min(5, max(1, round(csat))),
                "nps": min(10, max(0, round(nps))),
            }
        )
    _write(out / "synthetic-surveys.csv", ["call_id", "csat", "nps"], surveys)
    enps = [
        {"team": team, "period": "2026-10", "enps": value}
        for team, value in TEAM_ENPS.items()
        if team in teams
    ]
    _write(out / "synthetic-enps.csv", ["team", "period", "enps"], enps)


def _manifest_teams(manifest: Path) -> set[str]:
    with manifest.open(newline="", encoding="utf-8") as handle:
        return {row["team"] for row in csv.DictReader(handle)}


def _write(path: Path, columns: list[str], rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
