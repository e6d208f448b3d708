"""The workspace as people use it, in headless Chromium against the real server: a controller scores a
call blind while the audio follows the clicked line; the agent disputes a verdict; a supervisor overturns
it; the override, the item's agreement and the trust map's reason change. Screenshots go to
test-artifacts/ (or $QA_TEST_ARTIFACTS)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import serving
from playwright.sync_api import Browser, Page, sync_playwright
from test_report_browser import ARTIFACTS, CHROMIUM
from workspace_fixture import AI_MARK, CHECKLIST, EN01, PASSWORD, workspace_app, workspace_store

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.calibration import TrustRule
from qa_pipeline.control.workflow import agreement_report
from qa_pipeline.store.database import Store

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, Checklist], str]]:
    store, checklists = workspace_store(tmp_path_factory.mktemp("browser") / "qa.sqlite")
    with serving(workspace_app(store)) as url:
        yield store, checklists, url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--mute-audio", "--autoplay-policy=no-user-gesture-required"],
        )
        yield browser
        browser.close()


def _sign_in(browser: Browser, url: str, name: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def _shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"workspace-{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def test_review_dispute_and_overturn_walk_through_the_browser(
    site: tuple[Store, dict[str, Checklist], str], browser: Browser
) -> None:
    store, checklists, url = site

    # 1. A blind controller opens the call from the queue, plays from a clicked line, scores and submits.
    controller = _sign_in(browser, url, "ctl.ivan")
    assert controller.url.endswith("/queue")
    controller.click(f"a[href^='/calls/{EN01}']")
    assert controller.locator(".blind-note").is_visible()
    assert controller.locator(".ai-answer").count() == 0 and AI_MARK not in controller.content()
    line = controller.locator("button.line").nth(4)
    start = float(line.get_attribute("data-seek") or "nan")
    assert start > 5
    line.click()
    audio = controller.locator("audio")
    controller.wait_for_function(
        "([a, s]) => a.readyState > 0 && Math.abs(a.currentTime - s) < 1.5",
        arg=[audio.element_handle(), start],
        timeout=10_000,
    )
    assert audio.evaluate("a => a.error") is None  # the recording came through the server and decoded
    for row in controller.locator("tr.item").all():
        item = row.get_attribute("data-item")
        answer = "yes" if item != "hold_etiquette" else "na"
        row.locator(f"input[value='{answer}']").check()
    controller.fill("input[name='comment:empathy']", "apologised warmly")
    _shot(controller, "controller-blind-review")
    controller.click("button.save")
    assert controller.locator(".saved").is_visible()
    saved = {r.item_id: r.answer for r in store.human_reviews() if r.reviewer == "ctl.ivan"}
    assert len(saved) == len(checklists[CHECKLIST].items) and saved["empathy"] == "yes"
    controller.reload()  # resumable: the saved answers come back into the form
    assert controller.locator("tr[data-item=empathy] input[value=yes]").is_checked()

    # 2. The agent sees the AI's verdicts on their call and disputes the wrong one.
    agent = _sign_in(browser, url, "ag.anna")
    assert agent.url.endswith("/my")
    agent.click(f"a[href^='/calls/{EN01}']")
    empathy = agent.locator("tr[data-item=empathy]")
    assert empathy.locator(".ai-answer b").first.inner_text() == "no"
    empathy.locator("summary").click()
    empathy.locator("textarea[name=reason]").fill("I said I was sorry to hear that, right at the start")
    _shot(agent, "agent-dispute")
    empathy.locator("form button").click()
    assert agent.locator("tr[data-item=empathy] .dispute-state").is_visible()
    [dispute] = store.disputes()
    assert (dispute.item_id, dispute.status, dispute.agent) == ("empathy", "open", "Anna Clarke")

    # 3. The supervisor overturns it: an override, a human answer, the trust map's reason.
    before = next(
        i
        for i in agreement_report(store, checklists, rule=TrustRule(min_reviews=1), reps=50).items
        if i.item_id == "empathy"
    )
    supervisor = _sign_in(browser, url, "sv.billing")
    assert supervisor.url.endswith("/disputes")
    row = supervisor.locator(f"#dispute-{dispute.id}")
    row.locator("input[name=comment]").fill("She apologised at 0:03: the AI missed it")
    row.locator("select[name=answer]").select_option("yes")
    _shot(supervisor, "supervisor-disputes")
    row.locator("button[value=overturned]").click()
    supervisor.wait_for_load_state()
    assert "overturned" in supervisor.locator(f"#dispute-{dispute.id}").inner_text()
    [override] = store.overrides()
    assert (override.item_id, override.ai_answer, override.answer, override.supervisor) == (
        "empathy",
        "no",
        "yes",
        "sv.billing",
    )
    after = next(
        i
        for i in agreement_report(store, checklists, rule=TrustRule(min_reviews=1), reps=50).items
        if i.item_id == "empathy"
    )
    assert (before.disputes, after.disputes, after.disputes_overturned) == (1, 1, 1)
    assert before.ai_human.n == 1 and after.ai_human.n == 1  # the call's first reviewer by name stays
    assert after.human_human is not None and after.human_human.n == 1  # ... and the supervisor is a second
    assert "1 overturned" in after.trust.reason
    # the agent now sees the human answer in force and the decision
    agent.reload()
    assert agent.locator("tr[data-item=empathy] .ai-answer b").first.inner_text() == "yes"
    assert "overturned" in agent.locator("ul.call-disputes").inner_text()
    _shot(agent, "agent-after-overturn")


def test_a_calibration_session_with_two_controllers_shows_the_deviation_table(
    site: tuple[Store, dict[str, Checklist], str], browser: Browser
) -> None:
    _, checklists, url = site
    supervisor = _sign_in(browser, url, "sv.billing")
    supervisor.goto(f"{url}/calibration")
    supervisor.fill("input[name=name]", "Billing, week 41")
    for call_id in (EN01, "en02_no_greeting"):
        supervisor.check(f"input[name=call][value='{call_id}|{CHECKLIST}']")
    for name in ("ctl.ivan", "ctl.olga"):
        supervisor.check(f"input[name=controller][value='{name}']")
    supervisor.click("form.new-session button")
    supervisor.wait_for_load_state()
    session_url = supervisor.url
    assert "/calibration/" in session_url

    # both controllers score en01 blind (Ivan from the queue's calibration entry), differing on one item
    for name, greeting in (("ctl.ivan", "yes"), ("ctl.olga", "no")):
        controller = _sign_in(browser, url, name)
        assert "calibration: Billing, week 41" in controller.locator("table.queue").inner_text()
        controller.goto(f"{url}/calls/{EN01}?checklist={CHECKLIST}")
        assert AI_MARK not in controller.content()
        for row in controller.locator("tr.item").all():
            item = row.get_attribute("data-item")
            answer = greeting if item == "greeting" else ("na" if item == "hold_etiquette" else "yes")
            row.locator(f"input[value='{answer}']").check()
        controller.click("button.save")
        assert controller.locator(".saved").is_visible()

    supervisor.goto(session_url)
    rows = {
        r.get_attribute("data-reviewer"): r.inner_text() for r in supervisor.locator("tr.deviation").all()
    }
    assert set(rows) == {"ctl.ivan", "ctl.olga", "AI"}
    items = len(checklists[CHECKLIST].items)
    assert f"({items - 1}/{items})" in rows["ctl.ivan"] and f"({items - 1}/{items})" in rows["ctl.olga"]
    assert supervisor.locator(".note").is_visible()  # two controllers cannot tell which of them is off
    greeting = supervisor.locator("table.session-items tr[data-item=greeting]").inner_text()
    assert "(0/1)" in greeting
    _shot(supervisor, "calibration-session")
