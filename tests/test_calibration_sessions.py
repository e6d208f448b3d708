"""Calibration sessions: agreement across controllers per item, each controller's deviation from the
others, points spread per call and the AI beside them, on answers whose figures are worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from scored_store import SEEDS
from workspace_fixture import CHECKLIST, EN01, EN02, user_named, workspace_store

from qa_pipeline.demo_corpus import load_scripts
from qa_pipeline.errors import ConfigError
from qa_pipeline.team.access import NotAllowed, NotVisible
from qa_pipeline.team.calibration_sessions import AI, create_session, session_result
from qa_pipeline.team.reviewing import review_queue, submit_review


def test_the_session_shows_who_deviates_and_where_the_ai_stands(tmp_path: Path) -> None:
    store, checklists = workspace_store(tmp_path / "qa.sqlite")
    supervisor = user_named(store, "sv.billing")
    controllers = ["ctl.ivan", "ctl.olga", "ctl.open"]
    session = create_session(
        store,
        checklists,
        supervisor,
        name="three controllers",
        calls=[(EN01, CHECKLIST), (EN02, CHECKLIST)],
        controllers=controllers,
    )
    assert session.id is not None
    # the session's calls are in each controller's queue
    ivan = user_named(store, "ctl.ivan")
    assert any(
        e.kind == "calibration: three controllers"
        for e in review_queue(store, user_named(store, "ctl.open"), checklists)
    )
    scripts = load_scripts(SEEDS / "scripts")
    olga_differs = {(EN01, "empathy"): "no", (EN02, "greeting"): "yes"}
    for name in controllers:
        for call_id in (EN01, EN02):
            answers = {k: str(v) for k, v in scripts[call_id].expected.items()}
            if name == "ctl.olga":
                answers |= {item: a for (call, item), a in olga_differs.items() if call == call_id}
            submit_review(
                store,
                checklists,
                user_named(store, name),
                call_id=call_id,
                checklist_id=CHECKLIST,
                answers=answers,
            )

    result = session_result(store, checklists, supervisor, session.id)
    items = len(checklists[CHECKLIST].items)
    assert result.finished == {name: 2 for name in controllers}
    assert result.share_within_agreement == pytest.approx((2 * items - 2) / (2 * items))
    empathy = next(i for i in result.items if i.item_id == "empathy")
    assert (empathy.unanimous_calls, empathy.answered_calls) == (1, 2)
    # the AI said "no" to empathy on en01 (where two of three controllers say yes): one disagreement
    assert (empathy.ai_agrees_with_majority, empathy.majority_calls) == (1, 2)
    by = {d.reviewer: d for d in result.deviations}
    # Olga's two differing answers are measured against Ivan and Open, who agree; Ivan's and Open's own
    # answers on those two are against a split (Olga and one other) and are not compared
    assert (by["ctl.olga"].agrees, by["ctl.olga"].compared) == (2 * items - 2, 2 * items)
    assert (by["ctl.ivan"].agrees, by["ctl.ivan"].compared) == (2 * items - 2, 2 * items - 2)
    assert (by[AI].agrees, by[AI].compared) == (2 * items - 1, 2 * items)
    assert by["ctl.olga"].mean_points_off is not None and by["ctl.ivan"].mean_points_off is not None
    assert by["ctl.olga"].mean_points_off > by["ctl.ivan"].mean_points_off == by["ctl.open"].mean_points_off
    spread = {c.call_id: c.spread for c in result.calls}
    assert spread[EN01] is not None and spread[EN01] > 0
    # the results hold other controllers' answers: not for controllers, nor another team's supervisor
    with pytest.raises(NotAllowed):
        session_result(store, checklists, ivan, session.id)
    with pytest.raises(NotVisible):
        session_result(store, checklists, user_named(store, "sv.cards"), session.id)


def test_a_session_is_refused_without_two_controllers_or_with_calls_out_of_scope(tmp_path: Path) -> None:
    store, checklists = workspace_store(tmp_path / "qa.sqlite")
    supervisor = user_named(store, "sv.billing")
    with pytest.raises(ConfigError, match="two controllers"):
        create_session(
            store, checklists, supervisor, name="x", calls=[(EN01, CHECKLIST)], controllers=["ctl.ivan"]
        )
    with pytest.raises(ConfigError, match="not controllers"):
        create_session(
            store,
            checklists,
            supervisor,
            name="x",
            calls=[(EN01, CHECKLIST)],
            controllers=["ctl.ivan", "ag.tom"],
        )
    with pytest.raises(NotVisible):  # a cards call, for a billing supervisor
        create_session(
            store,
            checklists,
            supervisor,
            name="x",
            calls=[("en03_no_identification", CHECKLIST)],
            controllers=["ctl.ivan", "ctl.olga"],
        )
