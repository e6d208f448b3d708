"""Calibration sessions: several controllers score the same calls blind, and the result shows where
they agree with each other, how far each one is from the others, and the AI beside them.

The figures are the ones QA teams already use: the share of item answers all controllers agree on, each
controller's agreement with the majority of the *other* controllers (with two controllers both deviate
alike: two people cannot say which of them is off, and the table says so by showing equal figures), and
the spread of points per call. The AI is compared with the majority of all controllers."""

from __future__ import annotations

from collections import Counter, defaultdict
from statistics import mean

from pydantic import BaseModel

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.calibration import human_total
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import Answer, CalibrationSession, User
from qa_pipeline.store.database import Store
from qa_pipeline.team.access import NotVisible, require, visible_record

AI = "AI"


class SessionItem(BaseModel):
    item_id: str
    question: str
    answered_calls: int
    unanimous_calls: int
    share_unanimous: float | None
    ai_agrees_with_majority: int
    majority_calls: int


class Deviation(BaseModel):
    reviewer: str
    answers: int
    compared: int
    agrees: int
    agreement: float | None
    mean_points_off: float | None


class CallSpread(BaseModel):
    call_id: str
    checklist_id: str
    totals: dict[str, float | None]
    spread: float | None
    ai_total: float | None


class SessionResult(BaseModel):
    session: CalibrationSession
    finished: dict[str, int]
    share_within_agreement: float | None
    items: list[SessionItem]
    deviations: list[Deviation]
    calls: list[CallSpread]


def create_session(
    store: Store,
    checklists: dict[str, Checklist],
    supervisor: User,
    *,
    name: str,
    calls: list[tuple[str, str]],
    controllers: list[str],
) -> CalibrationSession:
    """Calls the supervisor may see, scored against a loaded checklist; controllers who exist."""
    require(supervisor, "supervisor", "admin")
    if not name.strip():
        raise ConfigError("a calibration session needs a name")
    if not calls:
        raise ConfigError("a calibration session needs calls")
    if len(set(controllers)) < 2:
        raise ConfigError("a calibration session needs at least two controllers: there is nothing to compare")
    names = {u.name: u for u in store.users()}
    wrong = [c for c in controllers if c not in names or names[c].role != "controller"]
    if wrong:
        raise ConfigError(f"not controllers: {', '.join(wrong)}")
    scored: dict[tuple[str, str], None] = {}
    for call_id, checklist_id in calls:
        visible_record(store, supervisor, call_id)
        if checklist_id not in checklists:
            raise ConfigError(f"checklist {checklist_id!r} is not loaded")
        scored[(call_id, checklist_id)] = None
    return store.add_calibration_session(
        CalibrationSession(
            name=name.strip(),
            created_by=supervisor.name,
            calls=list(scored),
            controllers=sorted(set(controllers)),
        )
    )


def visible_sessions(store: Store, user: User) -> list[CalibrationSession]:
    """A supervisor's own sessions (an admin's: all). Controllers see the calls in their queue, never the
    results, which hold the other controllers' answers."""
    require(user, "supervisor", "admin")
    sessions = store.calibration_sessions()
    return sessions if user.role == "admin" else [s for s in sessions if s.created_by == user.name]


def session_result(
    store: Store, checklists: dict[str, Checklist], user: User, session_id: int
) -> SessionResult:
    session = next((s for s in visible_sessions(store, user) if s.id == session_id), None)
    if session is None:
        raise NotVisible(f"no calibration session {session_id}")
    wanted = set(session.calls)
    given: dict[tuple[str, str], dict[str, dict[str, Answer]]] = defaultdict(lambda: defaultdict(dict))
    for review in store.human_reviews(sorted({c for c, _ in wanted})):
        key = (review.call_id, review.checklist_id)
        if key in wanted and review.reviewer in session.controllers:
            given[key][review.reviewer][review.item_id] = review.answer
    ai: dict[tuple[str, str], dict[str, Answer | None]] = {}
    ai_totals: dict[tuple[str, str], float | None] = {}
    for card in store.scorecards(sorted({c for c, _ in wanted})):
        key = (card.call_id, card.checklist_id)
        if key in wanted:
            ai[key] = {v.item_id: v.answer for v in card.verdicts}
            ai_totals[key] = card.total

    items: list[SessionItem] = []
    pairs = [0, 0]  # (call, item) answers by two or more controllers: all agree, in all
    agreement: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # answers, compared, agrees
    item_ids = list(
        dict.fromkeys(i.id for _, cl in session.calls if cl in checklists for i in checklists[cl].items)
    )
    for item_id in item_ids:
        answered = unanimous = ai_agrees = majority_calls = 0
        question = ""
        for key in session.calls:
            checklist = checklists.get(key[1])
            if checklist is None or item_id not in {i.id for i in checklist.items}:
                continue
            question = checklist.item(item_id).question
            answers = {name: by[item_id] for name, by in given[key].items() if item_id in by}
            for name, answer in answers.items():
                others = [a for other, a in answers.items() if other != name]
                reference = _majority(others)
                tally = agreement[name]
                tally[0] += 1
                if reference is not None:
                    tally[1] += 1
                    tally[2] += answer == reference
            majority = _majority(list(answers.values()))
            ai_answer = ai.get(key, {}).get(item_id)
            if majority is not None and ai_answer is not None:
                majority_calls += 1
                ai_agrees += ai_answer == majority
                agreement[AI][1] += 1
                agreement[AI][2] += ai_answer == majority
            if ai_answer is not None and answers:
                agreement[AI][0] += 1
            if len(answers) >= 2:
                answered += 1
                unanimous += len(set(map(str, answers.values()))) == 1
        pairs[0] += unanimous
        pairs[1] += answered
        items.append(
            SessionItem(
                item_id=item_id,
                question=question,
                answered_calls=answered,
                unanimous_calls=unanimous,
                share_unanimous=unanimous / answered if answered else None,
                ai_agrees_with_majority=ai_agrees,
                majority_calls=majority_calls,
            )
        )

    calls: list[CallSpread] = []
    points_off: dict[str, list[float]] = defaultdict(list)
    for key in session.calls:
        checklist = checklists.get(key[1])
        if checklist is None:
            continue
        totals = {
            name: human_total(checklist, key[0], dict(given[key].get(name, {})))
            for name in session.controllers
        }
        complete = {name: total for name, total in totals.items() if total is not None}
        for name, total in complete.items():
            rest = [t for other, t in complete.items() if other != name]
            if rest:
                points_off[name].append(abs(total - mean(rest)))
        ai_total = ai_totals.get(key)
        if ai_total is not None and complete:
            points_off[AI].append(abs(ai_total - mean(complete.values())))
        calls.append(
            CallSpread(
                call_id=key[0],
                checklist_id=key[1],
                totals=totals,
                spread=max(complete.values()) - min(complete.values()) if len(complete) >= 2 else None,
                ai_total=ai_total,
            )
        )

    deviations = [
        Deviation(
            reviewer=name,
            answers=agreement[name][0],
            compared=agreement[name][1],
            agrees=agreement[name][2],
            agreement=agreement[name][2] / agreement[name][1] if agreement[name][1] else None,
            mean_points_off=mean(points_off[name]) if points_off[name] else None,
        )
        for name in [*session.controllers, AI]
    ]
    finished = {
        name: sum(
            1
            for key in session.calls
            if key[1] in checklists and len(given[key].get(name, {})) >= len(checklists[key[1]].items)
        )
        for name in session.controllers
    }
    return SessionResult(
        session=session,
        finished=finished,
        share_within_agreement=pairs[0] / pairs[1] if pairs[1] else None,
        items=items,
        deviations=deviations,
        calls=calls,
    )


def _majority(answers: list[Answer]) -> Answer | None:
    """The answer more than half gave, or None (no answers, or a tie)."""
    if not answers:
        return None
    answer, count = Counter(answers).most_common(1)[0]
    return answer if count * 2 > len(answers) else None
