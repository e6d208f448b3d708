"""People check the voice of the customer like checklist items: a VoC sample with blind review sheets,
the import, agreement and the trust map per field; the VoC checklist gives no total, so nothing of it
reaches an agent's score, and an agent cannot dispute the customer's side of a call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from scored_store import REPO, demo_checklists, fill_store
from test_voc_report import REASONS, _record
from typer.testing import CliRunner

from qa_pipeline.checklist import Item
from qa_pipeline.cli import app
from qa_pipeline.control.agreement import categorical_agreement
from qa_pipeline.models import User
from qa_pipeline.report.data import build_report
from qa_pipeline.store.database import Store
from qa_pipeline.team.access import NotAllowed
from qa_pipeline.team.disputes import raise_dispute
from qa_pipeline.voc.review import voc_checklist, voc_checklists, voc_scorecard
from qa_pipeline.voc.taxonomy import shipped_taxonomies

runner = CliRunner()


def _store_with_voc(path: Path) -> Store:
    store = Store(path)
    fill_store(store)
    checklists = voc_checklists(shipped_taxonomies())
    for number, call in enumerate(store.calls()):
        record = _record(call.call_id, REASONS.get(call.call_id, ["service", "service_fault"]), "yes", False)
        if number == 3:  # the model was unsure of the resolution: a person must confirm it
            record = record.model_copy(
                update={
                    "resolved": record.resolved.model_copy(update={"needs_human": True, "confidence": 0.5})
                }
            )
        store.save_voc(call.call_id, f"voc-{call.call_id}", record.model_dump(mode="json"))
        store.save_scorecard(
            f"voc-{call.call_id}", voc_scorecard(record, checklists["voc.contact-reasons-en"])
        )
    return store


def test_the_voc_checklist_offers_the_taxonomys_reasons_and_gives_no_total() -> None:
    [english] = [t for t in shipped_taxonomies() if t.language == "en"]
    checklist = voc_checklist(english)
    assert checklist.id == "voc.contact-reasons-en" and not checklist.scored
    reason = checklist.item("reason")
    assert (
        reason.answers[-1] == "other" and "billing_refund" in reason.answers and "billing" in reason.answers
    )
    assert checklist.item("effort").answers == [0, 1, 2, 3, 4, 5]
    record = _record("c1", ["billing", "billing_refund"], "partial", unsure=True)
    card = voc_scorecard(record, checklist)
    answers = {v.item_id: v.answer for v in card.verdicts}
    assert answers["reason"] == "billing_refund" and answers["resolved"] == "partial"
    assert card.total is None and not card.complete  # the unsure resolution waits for a person
    assert [v.item_id for v in card.verdicts if v.needs_human] == ["resolved"]


def test_choice_items_are_checked_and_categories_agree_only_with_themselves() -> None:
    with pytest.raises(ValueError, match="at least two different choices"):
        Item(id="x", question="Which one?", answer="choice", choices=["a", "a"])
    with pytest.raises(ValueError, match="choices only apply"):
        Item(id="x", question="Which one?", choices=["a", "b"])
    stats = categorical_agreement(
        ["billing", "order", "na"],
        ["billing", "service", "na"],
        ["billing", "order", "service", "na"],
        reps=50,
    )
    assert stats.alignment == pytest.approx(2 / 3)  # two calls alike, one reason told apart


def test_a_voc_sample_is_reviewed_imported_and_calibrated_like_checklist_items(tmp_path: Path) -> None:
    db = str(tmp_path / "qa.sqlite")
    store = _store_with_voc(Path(db))
    common = ["--store", db, "--checklist", str(REPO / "checklists")]
    qa = runner.invoke(
        app, ["sample", "--controllers", "ann", "--size", "4", "--out", str(tmp_path / "qa"), *common]
    )
    assert qa.exit_code == 0, qa.output
    voc = runner.invoke(
        app,
        [
            "sample",
            "--voc",
            "--controllers",
            "kate",
            "--size",
            "6",
            "--risk",
            "1",
            "--out",
            str(tmp_path / "voc"),
            "--store",
            db,
        ],
    )
    assert voc.exit_code == 0, voc.output
    plan = json.loads((tmp_path / "voc" / "plan.json").read_text(encoding="utf-8"))
    assert {p["checklist_id"] for p in plan["picks"]} == {"voc.contact-reasons-en"}
    assert any("judge could not answer: resolved" in r for p in plan["picks"] for r in p["reasons"])
    # The VoC sample does not replace the checklist sample planned before it.
    assert {p.checklist_id.startswith("voc.") for p in store.sample_picks()} == {True, False}

    sheet_path = tmp_path / "voc" / "review-kate.xlsx"
    book = load_workbook(sheet_path)
    sheet = book["Review"]
    header = [c.value for c in sheet[1]]
    col = {name: header.index(name) + 1 for name in ("call_id", "item_id", "answer", "allowed")}
    ai = {
        (c.call_id, v.item_id): v.answer
        for c in store.scorecards()
        if c.checklist_id.startswith("voc.")
        for v in c.verdicts
    }
    disagreed = None
    for row in range(2, sheet.max_row + 1):
        call, item = (sheet.cell(row=row, column=col[k]).value for k in ("call_id", "item_id"))
        assert sheet.cell(row=row, column=col["answer"]).value in (None, "")  # blind: no AI answer shown
        answer = ai[(call, item)]
        if item == "reason" and disagreed is None:
            assert "billing_refund" in sheet.cell(row=row, column=col["allowed"]).value
            answer, disagreed = "order_late", call  # kate hears another reason
        sheet.cell(row=row, column=col["answer"]).value = answer
    book.save(sheet_path)
    imported = runner.invoke(app, ["import-scores", str(sheet_path), *common])
    assert imported.exit_code == 0, imported.output

    calibrated = runner.invoke(app, ["calibrate", "--json", "--min-reviews", "2", *common])
    assert calibrated.exit_code == 0, calibrated.output
    items = {(i["group"], i["item_id"]): i for i in json.loads(calibrated.stdout)["items"]}
    reason = items[("voc.contact-reasons-en", "reason")]
    assert reason["ai_human"]["n"] == 6 and reason["ai_human"]["agreement"]["value"] == pytest.approx(5 / 6)
    assert reason["ai_human"]["alignment"] == pytest.approx(5 / 6)  # a wrong reason is wrong, not "near"
    assert items[("voc.contact-reasons-en", "churn_risk")]["ai_human"]["agreement"]["value"] == 1.0
    # The trust map speaks of the field as of any item: 5 of 6 is too uncertain for the AI to go alone.
    assert reason["trust"]["status"] == "human_control_required"


def test_voc_scorecards_count_in_no_agents_score_and_cannot_be_disputed(tmp_path: Path) -> None:
    store = _store_with_voc(tmp_path / "qa.sqlite")
    qa_checklists = demo_checklists()
    data = build_report(store, qa_checklists)
    assert data.overview.scorecards == 12  # the twelve QA scorecards, not the VoC ones beside them
    every = qa_checklists | voc_checklists(shipped_taxonomies())
    agent = User(name="anna", role="agent", agent="Anna Clarke")
    with pytest.raises(NotAllowed, match="scores nobody"):
        raise_dispute(
            store,
            every,
            agent,
            call_id="en01_billing_exemplary",
            checklist_id="voc.contact-reasons-en",
            item_id="sentiment_end",
            reason="The customer was happy at the end, not neutral.",
        )


def test_a_controller_reviews_voc_fields_in_the_workspace_blind(tmp_path: Path) -> None:
    from qa_pipeline.control.workflow import plan_review
    from qa_pipeline.team.call_view import call_view
    from qa_pipeline.team.reviewing import review_queue, submit_review

    store = _store_with_voc(tmp_path / "qa.sqlite")
    checklists = demo_checklists() | voc_checklists(shipped_taxonomies())
    voc_only = {k: c for k, c in checklists.items() if not c.scored}
    plan = plan_review(store, voc_only, controllers=["kate"], size=2, risk_picks=0, name="voc")
    kate = User(name="kate", role="controller")
    queue = review_queue(store, kate, checklists)
    assert {(e.call_id, e.checklist_id) for e in queue} == {(p.call_id, p.checklist_id) for p in plan.picks}
    pick = plan.picks[0]
    view = call_view(store, checklists, kate, pick.call_id, pick.checklist_id)
    assert all(item.ai_answer is None for item in view.items)  # blind: the model's reason is not shown
    saved = submit_review(
        store,
        checklists,
        kate,
        call_id=pick.call_id,
        checklist_id=pick.checklist_id,
        answers={"reason": "billing_refund", "resolved": "partial", "effort": "4"},
    )
    assert saved.inserted == 3
    mine = {r.item_id: r.answer for r in store.human_reviews(reviewer="kate")}
    assert mine == {"reason": "billing_refund", "resolved": "partial", "effort": 4}
    with pytest.raises(Exception, match="not one of"):
        submit_review(
            store,
            checklists,
            kate,
            call_id=pick.call_id,
            checklist_id=pick.checklist_id,
            answers={"reason": "pizza"},
        )
