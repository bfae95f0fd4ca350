"""The written HTML in a real browser (headless Chromium): nothing runs, everything shows.

Needs Debian's ``chromium`` and the ``playwright`` Python package driving it (never
``playwright install``: the system browser is used). Skipped, with the reason, when either is
missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from limelight.viz import POSITIVE_EXTREME, save_html
from limelight.viz.colors import from_hex, readable_text_color
from tests.viz.builders import HOSTILE_LABEL, WORD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium: apt-get install -y chromium")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="drives chromium through the 'playwright' package: pip install playwright")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _css_rgb(color: str) -> str:
    r, g, b = (round(v * 255) for v in from_hex(color))
    return f"rgb({r}, {g}, {b})"


def _load(browser, path: Path, screenshot: Path):
    """Open ``path``, mouse over and click every element, screenshot; return page, dialogs, requests."""
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    def route(route) -> None:
        requests.append(route.request.url)
        route.continue_() if route.request.url == path.as_uri() else route.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    # would fire any injected onmouseover/onclick handler
    page.evaluate("""for (const e of document.querySelectorAll('*'))
        for (const type of ['mouseover', 'click']) e.dispatchEvent(new MouseEvent(type, {bubbles: true}))""")
    page.wait_for_timeout(50)
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 0
    return page, dialogs, requests


def _assert_inert_and_offline(page, dialogs, requests, path: Path) -> None:
    assert page.evaluate("typeof window.__limelight_pwned") == "undefined"
    assert dialogs == []
    assert requests == [path.as_uri()]  # the file loads nothing else: no CDN, no images, no fonts
    assert page.evaluate("document.scripts.length") == 0


def _assert_texts_visible(page, explanations) -> None:
    shown = [
        page.inner_text(f'section[data-index="{i}"] .ll-text[data-segment="{s}"]')
        for i, e in enumerate(explanations)
        for s in range(1 + (e.text_pair is not None))
    ]
    expected = [t for e in explanations for t in [e.text] + ([e.text_pair] if e.text_pair else [])]
    assert shown == expected
    for chip in page.query_selector_all(".ll-chip"):
        box = chip.bounding_box()
        assert chip.is_visible() and box is not None and box["width"] > 0 and box["height"] > 0
    body = page.inner_text("body")
    for text in expected:
        assert all(word in body for word in WORD.findall(text))


def test_minimal_pair_in_chromium(browser, tmp_path, minimal_pair):
    path = save_html(tmp_path / "pair.html", minimal_pair)
    page, dialogs, requests = _load(browser, path, tmp_path / "pair.png")
    _assert_inert_and_offline(page, dialogs, requests, path)
    _assert_texts_visible(page, minimal_pair)
    strongest = page.locator('section[data-index="0"] .ll-chip[data-score="+2.5"]')
    assert strongest.inner_text() == "amazing"
    assert strongest.evaluate("e => getComputedStyle(e).backgroundColor") == _css_rgb(POSITIVE_EXTREME)
    expected_text = _css_rgb(readable_text_color(from_hex(POSITIVE_EXTREME)))
    assert strongest.evaluate("e => getComputedStyle(e).color") == expected_text
    assert page.locator('section[data-index="1"] [role="alert"]').is_visible()
    page.close()


def test_hostile_texts_in_chromium(browser, tmp_path, hostile):
    path = save_html(tmp_path / "hostile.html", hostile, title="</title><script>alert(3)</script>")
    page, dialogs, requests = _load(browser, path, tmp_path / "hostile.png")
    _assert_inert_and_offline(page, dialogs, requests, path)
    _assert_texts_visible(page, hostile)
    assert page.title() == "</title><script>alert(3)</script>"
    assert HOSTILE_LABEL in page.inner_text('section[data-index="4"] .ll-header')
    page.close()


def test_hostile_comparison_in_chromium(browser, tmp_path, hostile):
    path = save_html(tmp_path / "compare.html", hostile, compare=True)
    page, dialogs, requests = _load(browser, path, tmp_path / "compare.png")
    _assert_inert_and_offline(page, dialogs, requests, path)
    cells = page.inner_text("table")
    for explanation in hostile:
        assert all(word in cells for word in WORD.findall(explanation.text))
    page.close()
