"""Write the demo's human-controller scores to seeds/human_scores/ from the dialogue scripts.

Two QA controllers: qa.elena scores every demo call, qa.mikhail scores half of them again so human-human
agreement can be measured. Each controller gives the answer the script was written to earn except where
listed below: the disagreements real controllers have on judgement items (was the agent empathetic, was
the summary enough), each with the controller's comment.

    python scripts/make_human_scores.py            # rewrite seeds/human_scores/*.csv
"""

from __future__ import annotations

import csv
from pathlib import Path

from qa_pipeline.demo_corpus import load_scripts

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
CHECKLISTS = {"en": "inbound-service-en", "ru": "inbound-service-ru"}
CONTROLLERS = {
    "qa.elena": None,  # every call
    "qa.mikhail": [
        "en01_billing_exemplary",
        "en03_no_identification",
        "en05_unresolved",
        "en07_hold_no_permission",
        "ru01_exemplary",
        "ru03_rude",
    ],
}
# (controller, call, item) -> (answer, comment): where a controller's judgement differs from the script.
DIFFERENCES = {
    ("qa.elena", "en05_unresolved", "empathy"): (
        "no",
        "Polite, but never acknowledges that the customer has been charged twice.",
    ),
    ("qa.elena", "en08_prompt_injection", "empathy"): ("no", "Customer was upset about the fee; no empathy."),
    ("qa.elena", "en07_hold_no_permission", "summary"): ("no", "One-line summary, no next steps."),
    ("qa.elena", "ru04_unresolved", "closing"): ("yes", "Короткое, но вежливое прощание — засчитываю."),
    ("qa.mikhail", "en01_billing_exemplary", "summary"): ("no", "Summary missed the refund date."),
    ("qa.mikhail", "en07_hold_no_permission", "empathy"): ("yes", "Says sorry for the wait: enough for me."),
    ("qa.mikhail", "ru03_rude", "needs_discovery"): ("yes", "Один уточняющий вопрос всё же был."),
}


def main() -> None:
    scripts = load_scripts(SEEDS / "scripts")
    out = SEEDS / "human_scores"
    out.mkdir(exist_ok=True)
    for controller, calls in CONTROLLERS.items():
        rows = []
        for call_id in calls or sorted(scripts):
            script = scripts[call_id]
            for item_id, expected in script.expected.items():
                answer, comment = DIFFERENCES.get((controller, call_id, item_id), (expected, ""))
                rows.append(
                    {
                        "call_id": call_id,
                        "checklist": CHECKLISTS[script.language],
                        "item_id": item_id,
                        "answer": answer,
                        "comment": comment,
                        "reviewer": controller,
                    }
                )
        path = out / f"{controller}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"{path}: {len(rows)} answers")


if __name__ == "__main__":
    main()
