"""The two PDFs (``make pdf``): complete, every glyph present, every font embedded.

XeLaTeX writes "Missing character: There is no X in font Y!" to its log for every glyph a font
lacks (a Hangul syllable in a Latin font, a Greek letter in code); the PDF then shows nothing
there. These tests read both logs, list the fonts with ``pdffonts``, count the figures with
``pdfimages`` and read the text back with ``pdftotext``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.pdf

ROOT = Path(__file__).resolve().parents[1]
PDFS = {"en": ROOT / "_build" / "html" / "pdf" / "training-art-en.pdf",
        "ko": ROOT / "_build" / "html" / "pdf" / "training-art-ko.pdf"}
LOGS = {"en": ROOT / "_build" / "latex" / "training-art.log",
        "ko": ROOT / "_build" / "ko" / "_build" / "latex" / "training-art.log"}
FIGURES = 89  # the chapters' figure cells (tools/figures.py), each at least one image


def run(*cmd: str) -> str:
    if shutil.which(cmd[0]) is None:
        pytest.fail(f"{cmd[0]} is missing: `make pdf` installs poppler-utils")
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


@pytest.fixture(params=["en", "ko"])
def edition(request):
    if not PDFS[request.param].exists():
        pytest.fail(f"{PDFS[request.param]} is missing: run `make pdf`")
    return request.param


def test_no_missing_glyph_in_the_log(edition):
    log = LOGS[edition].read_text(encoding="utf-8", errors="replace")
    missing = sorted(set(re.findall(r"Missing character: There is no (.+?)!", log)))
    assert not missing, f"{len(missing)} missing glyphs in the {edition} PDF: {missing[:10]}"
    assert "Output written on training-art.pdf" in log


def test_every_font_is_embedded_and_hangul_has_its_fonts(edition):
    rows = run("pdffonts", str(PDFS[edition])).splitlines()[2:]
    fonts = [(row.split()[0], row.split()[-5]) for row in rows]  # name, "emb" column
    not_embedded = [name for name, emb in fonts if emb != "yes"]
    assert not not_embedded, not_embedded
    names = " ".join(name for name, _ in fonts)
    for family in ("NanumMyeongjo", "NanumGothicCoding", "FreeSerif", "DejaVuSansMono"):
        assert family in names, f"{family} is not used in the {edition} PDF: {names}"


def test_the_pdf_reads_back_in_its_language(edition):
    text = run("pdftotext", "-enc", "UTF-8", str(PDFS[edition]), "-")
    pages = int(re.search(r"Pages:\s+(\d+)", run("pdfinfo", str(PDFS[edition]))).group(1))
    assert pages > 200
    # Greek in code and outputs (the monospace font has it), Hangul in the text
    for needed in ("η", "λ", "학습률", "Adam", "torch.optim"):
        assert needed in text, f"{needed!r} is not in the {edition} PDF's text"
    if edition == "ko":
        assert "경사 하강법" in text and "드롭아웃은" in text
    else:
        assert "Gradient descent" in text and "Dropout" in text


def test_every_figure_is_included(edition):
    rows = run("pdfimages", "-list", str(PDFS[edition])).splitlines()[2:]
    assert len(rows) >= FIGURES, f"{len(rows)} images in the {edition} PDF, expected {FIGURES}+"
