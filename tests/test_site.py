"""The built book in a real browser: offline math, figures, the animation and search.

Serves ``_build/html`` on 127.0.0.1 and drives Debian's chromium with Playwright (no
``playwright install``). Run after ``make book``; ``make test`` does both.
"""

from __future__ import annotations

import os

import pytest
from _serve import HTML

pytestmark = pytest.mark.site

CHAPTERS = sorted(p.relative_to(HTML).as_posix()
                  for p in (HTML / "chapters").rglob("*.html")) if HTML.exists() else []
# the Korean edition's chapters render the same way (test_site_editions.py checks the rest)
KOREAN_CHAPTERS = [f"ko/{path}" for path in CHAPTERS if (HTML / "ko" / path).exists()]


class PageLog:
    """Every request a page makes, and which ones failed or left the machine."""

    def __init__(self, page, base_url):
        self.base_url, self.failed, self.external = base_url, [], []
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on("response", self._response)
        page.on("request", self._request)

    def _request(self, request):
        url = request.url
        if not url.startswith((self.base_url, "data:", "blob:", "about:")):
            self.external.append(url)

    def _response(self, response):
        # Chromium asks for /favicon.ico on its own; the book does not link one.
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.failed.append(f"{response.url} (HTTP {response.status})")


def open_page(browser, base_url, path):
    page = browser.new_page()
    log = PageLog(page, base_url)
    page.goto(f"{base_url}/{path}", wait_until="networkidle")
    return page, log


def wait_for_mathjax(page):
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")


def test_chapters_were_built():
    assert HTML.exists(), "_build/html is missing: run `make book` first"
    assert len(CHAPTERS) >= 3, CHAPTERS


@pytest.mark.parametrize("path", CHAPTERS + KOREAN_CHAPTERS)
def test_chapter_renders_offline(browser, base_url, path):
    page, log = open_page(browser, base_url, path)
    wait_for_mathjax(page)
    # MathJax is served from this site, and typeset every formula: no raw TeX left.
    mathjax_src = page.eval_on_selector_all(
        "script[src*='mathjax']", "els => els.map(e => e.getAttribute('src'))")
    assert mathjax_src and all("://" not in s for s in mathjax_src), mathjax_src
    assert page.locator("mjx-container").count() > 0, "no typeset equations"
    text = page.inner_text("main")
    for raw in ("\\(", "\\)", "\\[", "$$"):
        assert raw not in text, f"untypeset math {raw!r} in {path}"
    # Every figure loaded (scroll through the page first so nothing waits to load).
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    images = page.eval_on_selector_all(
        "main img", "els => els.map(e => [e.getAttribute('src').slice(0, 60), e.complete, "
        "e.naturalWidth])")
    assert images, f"{path} has no figures"
    broken = [src for src, complete, width in images if not (complete and width > 0)]
    assert not broken, f"figures that did not load: {broken}"
    assert not log.failed, log.failed
    assert not log.external, f"requests that left the machine: {log.external}"
    page.close()


def test_animation_plays(browser, base_url):
    """The jshtml animation is a slider over embedded frames: moving it changes the image."""
    wanted = os.environ.get("TRAINART_ANIMATION_PAGE", "02_momentum_adaptive")
    pages = [p for p in CHAPTERS if wanted in p]
    assert pages, CHAPTERS
    page, log = open_page(browser, base_url, pages[0])
    animation = page.locator("div.animation").first
    assert animation.count() == 1, "no animation on the page"
    img = animation.locator("img").first
    first = img.get_attribute("src")
    animation.locator("input[type=range]").first.evaluate(
        "(el) => { el.value = el.max; el.dispatchEvent(new Event('input')); }")
    last = img.get_attribute("src")
    assert first and last and first != last, "the animation's frames do not change"
    assert not log.failed, log.failed
    page.close()


def test_search_finds_adam(browser, base_url):
    page, log = open_page(browser, base_url, "search.html?q=Adam")
    page.wait_for_selector("#search-results ul.search li", timeout=30_000)
    results = page.locator("#search-results ul.search li")
    assert results.count() >= 1
    assert any("momentum" in t.lower() or "adam" in t.lower()
               for t in results.all_inner_texts())
    assert not log.failed, log.failed
    assert not log.external, log.external
    page.close()


def test_code_fits_the_column_at_1280_px(browser, base_url):
    """Every line of every code cell fits the rendered column of a 1280 px wide window: no
    code cell scrolls sideways, the plotting cells folded by `hide-input` opened too."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    too_wide = {}
    for path in CHAPTERS:
        page.goto(f"{base_url}/{path}", wait_until="networkidle")
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        wide = page.eval_on_selector_all(
            "div.cell_input pre",
            "els => els.filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)"
            ".map(e => [e.scrollWidth, e.clientWidth, e.innerText.split('\\n')"
            ".reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 80)])")
        if wide:
            too_wide[path] = wide
    # the page's table of contents is one click away, in the header
    toggle = page.locator("button.secondary-toggle").first
    assert toggle.is_visible(), "no button opens the page's table of contents at 1280 px"
    toggle.click()
    page.wait_for_timeout(500)
    assert page.locator(".bd-sidebar-secondary").first.is_visible()
    page.close()
    assert not too_wide, f"code cells wider than the column at 1280 px: {too_wide}"
