"""The report as a supervisor sees it: opened in headless Chromium (Debian's package), clicked, captured.

Skipped where no Chromium is installed; `scripts/dev test` installs it. The screenshot goes to
test-artifacts/ (or $QA_TEST_ARTIFACTS) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from test_report import SAID, reported_store

from qa_pipeline.report import write_html_report
from qa_pipeline.report.data import build_report

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("QA_TEST_ARTIFACTS", REPO / "test-artifacts"))

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--mute-audio", "--autoplay-policy=no-user-gesture-required"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    folder = tmp_path_factory.mktemp("report")
    store, checklists = reported_store(folder / "qa.sqlite")
    report = write_html_report(build_report(store, checklists, pool_items=True), folder / "report.html")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(report.as_uri())
    yield page
    page.close()


def test_the_main_sections_render(page: Page) -> None:
    for section in ("overview", "agents", "teams", "items", "calls"):
        heading = page.locator(f"section#{section} h2")
        assert heading.is_visible()
        assert page.locator(f'nav a[href="#{section}"]').inner_text() == heading.inner_text()
    assert page.locator(".kpi").count() == 10
    assert page.locator("svg.histogram rect").count() == 10
    assert page.locator("svg.scatter circle").count() >= 8
    assert page.locator("table.groups").first.locator("tbody tr").count() == 12  # one row per agent
    assert page.locator("article.call").count() == 12
    assert page.locator("table.items tbody tr").count() == 22
    first_call = page.locator("article.call").first
    assert first_call.locator("tr.verdict.disagrees").count() >= 2
    assert "sup.irina" in first_call.inner_text()


def test_clicking_an_evidence_quote_plays_the_recording_from_that_moment(page: Page) -> None:
    call = page.locator("article.call").first
    quote = call.locator("button.quote").first
    start = float(quote.get_attribute("data-seek") or "nan")
    assert start > 10  # the agent's last line, well into the call
    audio = call.locator("audio")
    assert audio.evaluate("a => a.currentTime") == 0
    quote.click()
    page.wait_for_function(
        "([a, s]) => Math.abs(a.currentTime - s) < 1.5 && a.readyState > 0",
        arg=[audio.element_handle(), start],
        timeout=10_000,
    )
    assert audio.evaluate("a => a.error") is None  # the recording was found and decoded
    assert call.locator("tr.segment.current").count() == 1
    row = call.locator("tr.segment.current")
    assert float(row.get_attribute("data-start") or "nan") == start


def test_markup_said_in_a_call_stays_text(page: Page) -> None:
    assert page.evaluate("window.injected") is None
    assert page.title() in ("Call quality report", "Отчёт о качестве звонков")
    assert page.locator("img").count() == 0
    assert page.get_by_text(SAID, exact=False).count() >= 1
    assert page.locator("b", has_text="Evil").count() == 0
    assert page.get_by_text("<b>Evil</b> & co").count() >= 1


def test_the_report_is_captured_for_people_to_look_at(page: Page) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=shot, full_page=False)
    page.locator("article.call").first.screenshot(path=ARTIFACTS / "report-call.png")
    assert shot.stat().st_size > 10_000
