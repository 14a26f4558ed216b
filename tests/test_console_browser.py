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
from triage.load_report import LOAD_SAMPLE_FILE, save_sample, score_texts

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


def test_lead_sees_what_an_edited_threshold_costs_before_saving(
    make_triage: Callable[..., Triage],
) -> None:
    triage = make_triage()
    everyday = ["how do i change my email", "thanks, see you tomorrow", "the bus is late again"]
    crisis = ["i want to kill myself", "i took a bunch of my moms pills an hour ago"]
    sample = score_texts(triage, "everyday", everyday, at_risk=False)
    sample += score_texts(triage, "crisis", crisis, at_risk=True)
    save_sample(sample, Path(triage.settings.state_dir) / LOAD_SAMPLE_FILE)
    policy_file = Path(triage.policies.path)
    in_force = policy_file.read_text()
    with serve(triage) as running, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium())
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{running.url}/console/login")
        page.fill("input[name=name]", "lead")
        page.fill("input[name=key]", running.keys["lead"])
        page.click("text=Log in")
        page.goto(f"{running.url}/console/policy")
        edited = in_force.replace("review_at: null", "review_at: 0.0", 1)
        assert edited != in_force
        page.fill("textarea[name=policy_text]", edited)
        page.click("text=Preview load")
        preview = page.locator("#load-preview")
        expect(preview).to_contain_text("not saved")
        rows = preview.locator("tr")
        expect(rows).to_have_count(3)  # header, everyday, crisis
        # Everything reaches a person with review_at 0: 10,000 per 10,000, against none now.
        expect(rows.nth(1)).to_contain_text("everyday")
        expect(rows.nth(1)).to_contain_text("10000 (0)")
        expect(rows.nth(2)).to_contain_text("1.000 (1.000)")  # crisis reaches a person either way
        expect(page.locator("textarea[name=policy_text]")).to_have_value(edited)
        browser.close()
    assert policy_file.read_text() == in_force  # a preview writes nothing
