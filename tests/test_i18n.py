"""The Korean edition's catalogs and its search language (no build needed).

``test_site_editions.py`` checks, after ``make book``, that the catalogs hold every message of
the current English sources; here: every catalog entry is translated, not fuzzy, and keeps the
English's cross-references, math and code; the glossary's Korean terms are unique; and the
search language's Python side (the index) and JavaScript side (the query) stem alike.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "_ext"))

import i18n  # noqa: E402
import korean_search  # noqa: E402
from babel.messages.catalog import Catalog  # noqa: E402


def test_every_catalog_entry_is_translated_and_consistent():
    problems = i18n.check()
    assert not problems, f"{len(problems)} problem(s), e.g.:\n" + "\n".join(problems[:10])


def test_every_translated_page_has_a_catalog():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    pages = [line.split("file:")[1].strip() for line in toc.splitlines() if "file:" in line]
    pages.append("intro")
    have = set(i18n.catalog_pages())
    missing = [p for p in pages if i18n.in_scope(p) and p not in have]
    assert not missing, f"pages without a Korean catalog: {missing}"
    assert "chapters/dropout/01_dropout" in have and "reference/api/optim" not in have


def test_glossary_terms_are_korean_and_unique():
    terms = i18n.glossary_terms()
    assert len(terms) == len(i18n._english_glossary_terms()) > 100
    assert terms["learning rate"] == "학습률" and terms["regularization"] == "규제"
    assert terms["batch normalization"] == "배치 정규화"
    assert len(set(terms.values())) == len(terms)


def _catalog_with(tmp_path, monkeypatch, msgid, msgstr, fuzzy=False):
    terms = i18n.glossary_terms()
    catalog = Catalog(locale="ko")
    catalog.add(msgid, msgstr, flags=["fuzzy"] if fuzzy else [])
    folder = tmp_path / "ko" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    i18n.save(catalog, folder / "page.po")
    monkeypatch.setattr(i18n, "CATALOGS", folder)
    monkeypatch.setattr(i18n, "ROOT", tmp_path)
    return i18n.problems_in("page", terms)


@pytest.mark.parametrize("msgid, msgstr, fuzzy, complaint", [
    ("The {term}`learning rate` matters.", "", False, "untranslated"),
    ("The {term}`learning rate` matters.", "{term}`학습률`이 중요하다.", True, "fuzzy"),
    ("The {term}`learning rate` matters.", "{term}`learning rate`이 중요하다.", False,
     "glossary terms"),
    ("See {ref}`opt-warmup`.", "{ref}`opt-decay`를 보라.", False, "cross-references"),
    ("Take $\\eta = 0.1$.", "$\\eta = 0.01$로 한다.", False, "math differs"),
    ("Call `SGD(lr=0.1)`.", "`SGD(lr=1)`을 호출한다.", False, "code spans"),
    ("Read [the notes](#notes).", "[노트](#other)를 읽는다.", False, "link targets"),
])
def test_check_names_each_kind_of_problem(tmp_path, monkeypatch, msgid, msgstr, fuzzy, complaint):
    problems = _catalog_with(tmp_path, monkeypatch, msgid, msgstr, fuzzy)
    assert len(problems) == 1 and complaint in problems[0], problems


def test_check_accepts_a_faithful_translation(tmp_path, monkeypatch):
    msgid = "The {term}`learning rates <learning rate>` of {ref}`opt-warmup`: $\\eta$ in `SGD`."
    msgstr = "{ref}`opt-warmup`의 {term}`학습률`: `SGD`의 $\\eta$."
    assert _catalog_with(tmp_path, monkeypatch, msgid, msgstr) == []


@pytest.mark.parametrize("word, stem", [
    ("학습률", "학습률"), ("학습률을", "학습률"), ("학습률이", "학습률"), ("학습률의", "학습률"),
    ("초기화를", "초기화"), ("초기화는", "초기화"), ("초기화된", "초기화"), ("정규화가", "정규화"),
    ("정규화에서는", "정규화"), ("정규화한다", "정규화"), ("모멘텀으로", "모멘텀"),
    ("길이", "길이"), ("이", "이"), ("가중치와", "가중치"),
])
def test_strip_particle(word, stem):
    assert korean_search.strip_particle(word) == stem


def test_latin_words_are_stemmed_as_in_english():
    language = korean_search.SearchKorean({})
    assert language.stem("Optimizers") == "optim" == language.stem("optimizer")
    assert language.stem("학습률을") == "학습률"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_query_side_stems_like_the_index():
    """The JavaScript stemmer (the query) and the Python one (the index) agree word by word."""
    words = ["학습률을", "학습률", "초기화는", "정규화한다", "가중치와", "길이", "momentum",
             "optimizers", "Adam", "드롭아웃에서의", "배치를"]
    script = (korean_search.SearchKorean.js_stemmer_code
              + f"\nconst s = new Stemmer();\nconsole.log(JSON.stringify("
              f"{json.dumps(words, ensure_ascii=False)}.map(w => s.stemWord(w.toLowerCase()))));")
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True)
    language = korean_search.SearchKorean({})
    assert json.loads(out.stdout) == [language.stem(w) for w in words]
