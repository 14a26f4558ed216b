"""The counselor console in a real headless Chromium (Playwright driving Debian's chromium)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from service_support import serve

from review_queue.audit import verify
from review_queue.models import Case, CaseStatus
from triage import Triage

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "console-queue.png"


def _chromium() -> str:
    path = os.environ.get("TRIAGE_CHROMIUM") or shutil.which("chromium")
    if path is None:  # a missing browser fails the run: it is installed by `make test`
        pytest.fail("chromium is not installed: run `make system-deps` (apt install chromium)")
    return path


def test_counselor_logs_in_claims_top_case_and_resolves_it(
    make_triage: Callable[..., Triage],
) -> None:
    triage = make_triage()
    first = triage.route("i want to kill myself", conversation_id="chat-17")
    others = triage.route_many(
        [
            "i have pills saved up and i am going to take them all tonight",
            "he hits me when he drinks and i am scared to go home",
            "how do i change my email address on this app",
        ]
    )
    assert first.case_id is not None
    open_cases = 1 + sum(d.human for d in others)
    with serve(triage) as running, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium())
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(f"{running.url}/console")
        expect(page).to_have_url(f"{running.url}/console/login")
        page.fill("input[name=name]", "counselor")
        page.fill("input[name=key]", running.keys["counselor"])
        page.click("text=Log in")
        rows = page.locator("#queue tr.case-row")
        expect(rows).to_have_count(open_cases)
        # Most urgent first, then oldest: the first crisis message heads the queue.
        expect(rows.first).to_contain_text(first.case_id[:8])
        expect(rows.first).to_contain_text("P0")
        if os.environ.get("TRIAGE_SCREENSHOT"):
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        rows.first.locator("text=Claim").click()
        expect(page).to_have_url(f"{running.url}/console/cases/{first.case_id}")
        page.select_option("select[name=outcome]", "contacted")
        page.select_option("select[name=corrected_label]", "crisis_support")
        page.click("#resolve button[type=submit]")
        expect(page.locator(".flash")).to_contain_text("resolve done")
        expect(page.locator("#queue tr.case-row")).to_have_count(open_cases - 1)
        page.goto(f"{running.url}/console/cases/{first.case_id}")
        history = page.locator("#history")
        expect(history).to_contain_text("case_claimed")
        expect(history).to_contain_text("case_resolved")
        expect(history).to_contain_text("counselor")
        browser.close()
    with triage.store.session() as s:
        case = s.get(Case, first.case_id)
        assert case is not None and case.status == CaseStatus.RESOLVED
        assert case.outcome == "contacted" and case.corrected_label == "crisis_support"
        report = verify(s, triage.store.anchor)
    assert report.ok  # the chain holds both counselor actions and is unbroken
    from review_queue.queue import ReviewQueue

    events = [h["event"] for h in ReviewQueue(triage.store).history(first.case_id)]
    assert events == ["decision", "case_claimed", "case_resolved"]
