"""The two editions in the built site: language switch, Korean search, alt text, accessibility.

The English edition is ``_build/html``, the Korean one ``_build/html/ko`` (``make book`` builds
both). The static checks read the HTML files; the browser checks drive Debian's chromium as
``test_site.py`` does, and audit every page of both editions with axe-core (npm, installed by
``make site``) for WCAG 2 A and AA.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from _serve import HTML
from babel.messages.pofile import read_po
from test_site import open_page

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
KOREAN = HTML / "ko"
HANGUL = re.compile("[\uac00-\ud7a3]")


def pages(edition: Path) -> list[str]:
    """Every page of an edition (its content pages, not Sphinx's generated index and search)."""
    if not edition.exists():
        return []
    skip = {"genindex.html", "search.html", "py-modindex.html", "index.html"}
    return sorted(p.relative_to(edition).as_posix() for p in edition.rglob("*.html")
                  if p.name not in skip and not p.relative_to(edition).parts[0].startswith("_")
                  and (edition != HTML or p.relative_to(edition).parts[0] != "ko"))


ENGLISH_PAGES = pages(HTML)
KOREAN_PAGES = pages(KOREAN)
CHAPTER_PAGES = [p for p in ENGLISH_PAGES if p.startswith("chapters/")]


def read(edition: Path, page: str) -> str:
    return (edition / page).read_text(encoding="utf-8")


def article(html: str) -> str:
    match = re.search(r'<article class="bd-article".*?</article>', html, flags=re.S)
    assert match, "no article in the page"
    return match.group(0)


def test_both_editions_were_built():
    assert KOREAN.exists(), "_build/html/ko is missing: run `make book`"
    assert ENGLISH_PAGES == KOREAN_PAGES, "the editions have different pages"
    assert len(CHAPTER_PAGES) >= 17
    assert '<html lang="en"' in read(HTML, "intro.html")
    assert '<html lang="ko"' in read(KOREAN, "intro.html")


@pytest.mark.parametrize("edition", ["en", "ko"])
def test_every_page_links_to_itself_in_the_other_edition(edition):
    here, there = (HTML, KOREAN) if edition == "en" else (KOREAN, HTML)
    for page in ENGLISH_PAGES:
        links = re.findall(r'class="btn btn-sm trainart-language-switch" href="([^"]+)"',
                           read(here, page))
        assert len(links) == 1, f"{edition}/{page}: {len(links)} language switches"
        target = ((here / page).parent / links[0]).resolve()
        assert target == (there / page).resolve(), f"{edition}/{page} links to {links[0]}"


def test_korean_edition_is_korean():
    """Prose and the theme's strings: no chapter keeps an English paragraph."""
    for page in KOREAN_PAGES:
        if page.startswith("reference/api/") and page != "reference/api/index.html":
            continue  # trainart's docstrings stay English (tools/i18n.py)
        html = read(KOREAN, page)
        text = re.sub(r"<(pre|script|style|math|code)\b.*?</\1>", "", article(html), flags=re.S)
        paragraphs = [re.sub(r"<[^>]+>|\\\(.*?\\\)", "", p)
                      for p in re.findall(r"<p>(.*?)</p>", text, flags=re.S)]
        english = [p for p in paragraphs if len(p) > 80 and not HANGUL.search(p)]
        assert not english, f"ko/{page} has English paragraphs: {english[:2]}"
        for chrome in ("맨 위로", 'placeholder="검색..."', "이 페이지의 내용"):
            assert chrome in html, f"ko/{page}: the theme string {chrome!r} is missing"
    english = read(HTML, "intro.html")
    assert "Back to top" in english and 'placeholder="Search..."' in english


@pytest.mark.parametrize("edition", ["en", "ko"])
def test_every_figure_has_alt_text_in_its_language(edition):
    """No alt text is a file path: each says what the figure shows, in the edition's language."""
    root = HTML if edition == "en" else KOREAN
    missing = []
    for page in CHAPTER_PAGES:
        for tag in re.findall(r"<img\b[^>]*>", article(read(root, page))):
            alt = re.search(r'\balt="([^"]*)"', tag)
            alt = alt.group(1) if alt else ""
            if (len(alt) < 30 or re.search(r"\.(png|jpe?g|svg)\b|_images/", alt)
                    or bool(HANGUL.search(alt)) != (edition == "ko")):
                missing.append(f"{page}: {alt[:60]!r}")
    assert not missing, f"{len(missing)} figures without alt text in {edition}: {missing[:5]}"


def test_catalogs_hold_every_message_of_the_english_sources(tmp_path):
    """The catalogs are not stale: Sphinx's gettext builder, run on the current sources (the
    outputs from the jupyter-cache ``make book`` filled), finds no English message whose Korean
    is missing, and none whose catalog entry is fuzzy. An English change cannot land without
    its Korean."""
    sys.path.insert(0, str(ROOT / "tools"))
    import i18n

    templates = i18n.build_templates(tmp_path / "gettext")
    missing = {}
    for page in i18n.pages_with_templates(templates):
        with (templates / f"{page}.pot").open("rb") as f:
            wanted = {m.id for m in read_po(f) if m.id}
        path = i18n.catalog_path(page)
        have = ({m.id for m in i18n.load(path) if m.id and m.string and not m.fuzzy}
                if path.exists() else set())
        if wanted - have:
            missing[page] = sorted(wanted - have)[:3]
    assert not missing, ("English messages without Korean (run `python tools/i18n.py extract`, "
                         f"then translate what `todo` lists): {missing}")


def test_language_switch_opens_the_same_page(browser, base_url):
    page, log = open_page(browser, base_url, "chapters/dropout/01_dropout.html")
    page.click("a.trainart-language-switch")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/ko/chapters/dropout/01_dropout.html"), page.url
    assert page.get_attribute("html", "lang") == "ko"
    assert "드롭아웃" in page.inner_text("h1")
    page.click("a.trainart-language-switch")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/chapters/dropout/01_dropout.html") and "/ko/" not in page.url
    assert not log.failed, log.failed
    page.close()


def search(browser, base_url, edition: str, query: str) -> list[str]:
    page, log = open_page(browser, base_url, f"{edition}search.html?q={query}")
    page.wait_for_function(
        "() => { const s = document.querySelector('#search-results p.search-summary');"
        " return s && s.innerText.trim().length > 0; }", timeout=30_000)
    links = page.eval_on_selector_all("#search-results ul.search li a",
                                      "els => els.map(e => e.getAttribute('href'))")
    assert not log.failed and not log.external, (log.failed, log.external)
    page.close()
    return sorted({link.split("?")[0].split("#")[0] for link in links})


KOREAN_SEARCHES = {  # a word, the same word with particles, and a page it must find
    "학습률": (["학습률을", "학습률이", "학습률의"],
             "chapters/optimization/01_gradient_descent.html"),
    "초기화": (["초기화를", "초기화는"], "chapters/initialization/01_why_initialization.html"),
    "정규화": (["정규화가", "정규화를"], "chapters/normalization/01_batch_norm.html"),
}


@pytest.mark.parametrize("edition", ["", "ko/"], ids=["en", "ko"])
@pytest.mark.parametrize("word", list(KOREAN_SEARCHES))
def test_korean_search_ignores_particles(browser, base_url, edition, word):
    """A Korean word finds its pages whatever particle follows it, in both editions."""
    with_particles, expected = KOREAN_SEARCHES[word]
    found = search(browser, base_url, edition, word)
    assert expected in found, f"{word!r} does not find {expected} in {edition or 'en/'}: {found}"
    for query in with_particles:
        assert search(browser, base_url, edition, query) == found, query


def test_korean_search_needs_the_particle_rule():
    """The index holds stems: 학습률을 is indexed as 학습률 (Sphinx's English search would keep
    학습률을 a word of its own, which a search for 학습률 never finds)."""
    for edition in (HTML, KOREAN):
        text = (edition / "searchindex.js").read_text(encoding="utf-8")
        terms = json.loads(text[text.index("(") + 1: text.rindex(")")])["terms"]
        assert "학습률" in terms and "초기화" in terms and "정규화" in terms
        particled = re.compile("(학습률|초기화|정규화)(을|를|이|가|은|는)")
        assert not [t for t in terms if particled.fullmatch(t)]


def audit(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})")
    return [f"{v['id']} ({len(v['nodes'])}): {v['nodes'][0]['target']}"
            for v in result["violations"]]


@pytest.mark.parametrize("edition", ["", "ko/"], ids=["en", "ko"])
def test_axe_finds_no_wcag_violation(browser, base_url, edition):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make site` installs it (npm ci)")
    found = {}
    page = browser.new_page()
    for path in ENGLISH_PAGES:
        page.goto(f"{base_url}/{edition}{path}", wait_until="networkidle")
        violations = audit(page)
        if violations:
            found[path] = violations
    page.close()
    assert not found, f"WCAG 2 A/AA violations in {edition or 'en/'}: {found}"


def test_figures_stay_legible_in_dark_mode(browser, base_url):
    """In the theme's dark mode every figure keeps an opaque light background (its black text
    and axes never sit on the dark page) and no filter inverts it: the theme only dims images
    (brightness 0.8, contrast 1.2), which keeps black on a light grey."""
    problems = []
    page = browser.new_page()
    page.add_init_script("localStorage.setItem('theme', 'dark');"
                         "localStorage.setItem('mode', 'dark');")
    for path in CHAPTER_PAGES:
        page.goto(f"{base_url}/{path}", wait_until="networkidle")
        assert page.get_attribute("html", "data-theme") == "dark"
        page.evaluate("() => document.querySelectorAll('article img')"
                      ".forEach(i => { i.loading = 'eager'; i.scrollIntoView(); })")
        page.wait_for_function("() => [...document.querySelectorAll('article img')]"
                               ".every(i => i.complete && i.naturalWidth > 0)")
        report = page.eval_on_selector_all("article img", """els => els.map(img => {
            const c = document.createElement('canvas');
            c.width = img.naturalWidth; c.height = img.naturalHeight;
            const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
            const d = ctx.getImageData(0, 0, c.width, c.height).data;
            let transparent = 0, n = 0;
            for (let i = 0; i < d.length; i += 4 * 97) { n++; if (d[i + 3] < 250) transparent++; }
            // the figure's margin (its outermost rows and columns) is its background
            let light = 0, border = 0;
            const lum = (k) => 0.2126 * d[k] + 0.7152 * d[k + 1] + 0.0722 * d[k + 2];
            for (let x = 0; x < c.width; x += 3) for (const y of [0, c.height - 1]) {
              border++; if (lum(4 * (y * c.width + x)) > 200) light++; }
            for (let y = 0; y < c.height; y += 3) for (const x of [0, c.width - 1]) {
              border++; if (lum(4 * (y * c.width + x)) > 200) light++; }
            return [img.getAttribute('src').slice(-20), transparent / n, light / border,
                    getComputedStyle(img).filter];
        })""")
        for src, transparent, light, css_filter in report:
            if transparent > 0 or light < 0.9 or "invert" in css_filter:
                problems.append((path, src, transparent, round(light, 2), css_filter))
    page.close()
    assert not problems, f"figures that a dark page would swallow: {problems[:5]}"
