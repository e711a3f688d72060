"""The book's two editions: the language switch, the PDF links, translated HTML attributes.

The English edition is built into ``_build/html`` and the Korean one into ``_build/html/ko``
from the same sources (``tools/editions.py``). Every page gets a link to the same page in the
other edition (a relative URL, so it works offline and from any folder), shown in the article
header by ``_templates/language-switch.html``.

Figures' alt text comes from their cells' ``mystnb.image.alt`` metadata and is translated by
Sphinx like any prose. An HTML output (the optimizer animations) carries its own accessible
text in attributes (``alt``, ``aria-label``, ``title``) and ``<label>`` elements: Sphinx never
extracts those, so this extension adds them to the page's catalog in the gettext build and
replaces them with their translation in a translated build.

``{edition-pdf}`en``` links an edition's PDF (``make pdf``) from either edition. The themes'
hard-coded English names (the search field's placeholder, the sidebar toggles) go through the
"sphinx" catalog in a translated build, and the navigation's unnamed ``<summary>`` toggles get
an accessible name in both (axe-core's ``summary-name``).
"""

from __future__ import annotations

import html
import os
import re

from docutils import nodes
from sphinx import addnodes
from sphinx.builders.gettext import MsgOrigin
from sphinx.locale import init as init_locale
from sphinx.util.i18n import docname_to_domain

EDITIONS = {"en": ("English", "ko"), "ko": ("한국어", "en")}
KOREAN_FOLDER = "ko"

_ATTRIBUTE = re.compile(r'(\b(?:alt|aria-label|title)=")([^"<>]+)(")')
_LABEL = re.compile(r"(<label\b[^>]*>)([^<>]+)(</label>)")


def language(app) -> str:
    return (app.config.language or "en").split("_")[0]


def switch_url(pagename: str, current: str) -> str:
    """The relative URL of the same page in the other edition."""
    up = "../" * pagename.count("/")
    if current == "en":
        return f"{up}{KOREAN_FOLDER}/{pagename}.html"
    return f"{up}../{pagename}.html"


def add_language_switch(app, pagename, templatename, context, doctree):
    current = language(app)
    if current not in EDITIONS:
        return
    other = EDITIONS[current][1]
    context["language_switch"] = {
        "url": switch_url(pagename, current),
        "lang": other,
        "label": EDITIONS[other][0],
        "title": "Read this page in English" if other == "en" else "이 페이지를 한국어로 읽기",
    }


PDF_LABELS = {"en": "English (PDF)", "ko": "한국어 (PDF)"}


def edition_pdf_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{edition-pdf}`en``` : a link to that edition's PDF (``make pdf`` puts both PDFs in
    ``_build/html/pdf/``), relative to the page, from either edition."""
    wanted = text.strip()
    if wanted not in PDF_LABELS:
        message = inliner.reporter.error(
            f"edition-pdf: expected one of {sorted(PDF_LABELS)}, got {wanted!r}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    env = inliner.document.settings.env
    up = "../" * env.docname.count("/") + ("../" if language(env.app) != "en" else "")
    uri = f"{up}pdf/training-art-{wanted}.pdf"
    node = nodes.reference(rawtext, PDF_LABELS[wanted], refuri=uri, classes=["edition-pdf"])
    node["hreflang"] = wanted
    return [node], []


def html_texts(raw: str) -> list[str]:
    """The human-readable strings of an HTML output: attribute values and label texts."""
    found = [m.group(2) for m in _ATTRIBUTE.finditer(raw)]
    found += [m.group(2).strip() for m in _LABEL.finditer(raw) if m.group(2).strip()]
    return [html.unescape(text) for text in found]


def _html_outputs(doctree):
    return [n for n in doctree.findall(nodes.raw) if "html" in n.get("format", "").split()]


def extract_html_texts(app, doctree, docname):
    """gettext build: add the HTML outputs' strings to the page's catalog."""
    if app.builder.name != "gettext":
        return
    catalog = app.builder.catalogs[docname_to_domain(docname, app.config.gettext_compact)]
    for node in _html_outputs(doctree):
        for text in html_texts(node.astext()):
            catalog.add(text, MsgOrigin(node.source or app.env.doc2path(docname), node.line or 0))


def translate_outputs_and_captions(app, doctree):
    """Translated builds: replace the HTML outputs' strings with the catalog's translation, and
    the table of contents' part captions (sphinx-external-toc inserts its toctrees after
    Sphinx's own translation step, so their captions would stay English)."""
    if language(app) == "en" or app.builder.name == "gettext":
        return
    domain = docname_to_domain(app.env.docname, app.config.gettext_compact)
    dirs = [os.path.join(app.srcdir, d) for d in app.config.locale_dirs]
    catalog, found = init_locale(dirs, app.config.language, domain)
    if not found:
        return

    def translated(match):
        text = html.unescape(match.group(2).strip())
        return match.group(1) + html.escape(catalog.gettext(text), quote=True) + match.group(3)

    for node in _html_outputs(doctree):
        raw = node.astext()
        new = _LABEL.sub(translated, _ATTRIBUTE.sub(translated, raw))
        if new != raw:
            node.clear()
            node += nodes.Text(new)
    for toctree in doctree.findall(addnodes.toctree):
        if toctree.get("caption"):
            toctree["caption"] = toctree["rawcaption"] = catalog.gettext(toctree["caption"])


# Accessible names the themes hard-code in English (no gettext call in their templates); a
# translated edition passes them through the "sphinx" catalog (locales/<lang>/sphinx.po).
HARD_CODED = ('aria-label="Page"', 'aria-label="Main"', 'title="Toggle primary sidebar"',
              'title="Toggle secondary sidebar"', 'placeholder="Search..."',
              'aria-label="Search..."')
# pydata-sphinx-theme's navigation toggles (<details><summary>) have no accessible name
# (axe-core: summary-name, WCAG 4.1.2); they get one in every edition.
UNNAMED_TOGGLE = '<summary><span class="toctree-toggle" role="presentation">'
TOGGLE_NAME = "Show or hide the pages under this entry"


def fix_theme_html(app):
    """Wrap the HTML builder's template rendering: name the unnamed toggles, and in a
    translated edition translate HARD_CODED's strings."""
    if not hasattr(app.builder, "templates"):
        return
    from sphinx.locale import _

    translated = language(app) != "en"
    templates = app.builder.templates
    render = templates.render

    def fixed_render(template, context):
        page = render(template, context)
        name = html.escape(_(TOGGLE_NAME) if translated else TOGGLE_NAME)
        page = page.replace(UNNAMED_TOGGLE, UNNAMED_TOGGLE.replace(
            "<summary>", f'<summary aria-label="{name}">'))
        if translated:
            for attribute in HARD_CODED:
                key, english = attribute.split("=", 1)
                page = page.replace(attribute, f'{key}="{html.escape(_(english.strip(chr(34))))}"')
        return page

    templates.render = fixed_render


def setup(app):
    app.add_role("edition-pdf", edition_pdf_role)
    app.connect("builder-inited", fix_theme_html)
    app.connect("html-page-context", add_language_switch)
    app.connect("doctree-resolved", extract_html_texts)
    app.connect("doctree-read", translate_outputs_and_captions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
