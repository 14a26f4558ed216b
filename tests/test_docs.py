"""The project speaks to its users: no file tells how it was made (sessions, issue numbers)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Written so that this line does not match itself.
HISTORY = re.compile(r"session \d|(this|last) sess+ion|issue \d", re.IGNORECASE)


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / n for n in names if (ROOT / n).is_file() and not n.endswith(".png")]


def test_no_file_refers_to_development_sessions_or_issue_numbers() -> None:
    found = []
    for path in _tracked_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [
            f"{path.relative_to(ROOT)}:{n}: {line.strip()[:80]}"
            for n, line in enumerate(text.splitlines(), 1)
            if HISTORY.search(line)
        ]
    assert not found, "history belongs in CHANGELOG.md or reports/:\n" + "\n".join(found)


def _docs() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


_PYTHON = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _snippets() -> list[tuple[str, str]]:
    return [
        (f"{path.relative_to(ROOT)}#{n}", code)
        for path in _docs()
        for n, code in enumerate(_PYTHON.findall(path.read_text(encoding="utf-8")), 1)
    ]


def test_the_docs_hold_python_snippets() -> None:
    assert len(_snippets()) >= 5


@pytest.mark.parametrize(("where", "code"), _snippets(), ids=[w for w, _ in _snippets()])
def test_every_python_snippet_in_the_docs_runs(
    where: str,
    code: str,
    tiny_models: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As a reader would run it, on small real models and a fresh state folder.
    monkeypatch.setenv("TRIAGE_CRISIS_MODEL", str(tiny_models["crisis"]))
    monkeypatch.setenv("TRIAGE_SUPPORT_MODEL", str(tiny_models["support"]))
    monkeypatch.setenv("TRIAGE_STATE_DIR", str(tmp_path / ".triage"))
    monkeypatch.setenv("TRIAGE_DEVICE", "cpu")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, where, "exec"), {"__name__": "__snippet__"})  # noqa: S102


def test_the_docs_site_builds_strict_with_generated_references(tmp_path: Path) -> None:
    site = tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    policy = (site / "policy" / "index.html").read_text(encoding="utf-8")
    from policies.schema import Policy, RiskSpec

    for field in list(Policy.model_fields) + [f"risk.{f}" for f in RiskSpec.model_fields]:
        assert f"<code>{field}</code>" in policy, field  # every field, from the schema
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "triage load-report" in cli and "--sample" in cli
    assert "Triage" in (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")


@pytest.mark.browser
def test_a_browser_shows_the_docs_home_and_the_policy_reference(tmp_path: Path) -> None:
    import functools
    import http.server
    import os
    import shutil
    import threading

    from playwright.sync_api import expect, sync_playwright

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)], cwd=ROOT, check=True
    )
    chromium = os.environ.get("TRIAGE_CHROMIUM") or shutil.which("chromium")
    if chromium is None:  # installed by `make test`: a missing browser fails the run
        pytest.fail("chromium is not installed: run `make system-deps` (apt install chromium)")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    shots = ROOT / "docs" / "screenshots" if os.environ.get("TRIAGE_SCREENSHOT") else tmp_path
    shots.mkdir(exist_ok=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}/")
            expect(page.locator("h1")).to_contain_text("crisis-triage")
            expect(page.locator("body")).to_contain_text("What it guarantees")
            page.screenshot(path=str(shots / "docs-home.png"))
            page.goto(f"{url}/policy/")
            expect(page.locator("body")).to_contain_text("risk.urgent_at")
            page.locator("#every-field").scroll_into_view_if_needed()
            page.wait_for_timeout(500)  # the header settles after the scroll
            page.screenshot(path=str(shots / "docs-policy-reference.png"))
            browser.close()
    finally:
        server.shutdown()
    assert (shots / "docs-home.png").stat().st_size > 10_000
