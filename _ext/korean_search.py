"""Korean search for the book: a Sphinx search language that strips Korean particles.

Sphinx has no Korean search language: its index is built "in English", so 학습률을 and 학습률
are different words and a search for 학습률 misses every page where the word carries a
particle. This language indexes a Hangul word by its stem, the word without a closed list of
particles (조사: 을/를, 이/가, 은/는, 의, 에서, 으로, ...) and the endings of 하다/되다 verbs
made from nouns (정규화한다, 초기화된), and stems Latin words with Porter's stemmer, as Sphinx's
English does. The query side (JavaScript, in the built ``language_data.js``) applies the same
rule to each query word, so 학습률, 학습률을 and 학습률이 all find the same pages.

Both editions use it (``html_search_language: ko``): the English edition carries Korean terms
too, and for Latin words it is Sphinx's English search.

A stem keeps at least two syllables (길이 stays 길이, 정확도 becomes 정확), so a short noun is
never cut to one syllable.
"""

from __future__ import annotations

import json
import re

from sphinx.search.en import SearchEnglish, js_porter_stemmer

# Longest first: the first suffix that leaves a stem of at least MIN_STEM syllables is removed.
SUFFIXES = sorted({
    # particles (조사) and their common combinations
    "을", "를", "이", "가", "은", "는", "의", "에", "에서", "에게", "에게서", "께서", "한테",
    "으로", "로", "으로서", "로서", "으로써", "로써", "와", "과", "도", "만", "까지", "부터",
    "보다", "처럼", "만큼", "마다", "조차", "밖에", "이나", "나", "이며", "며", "이고", "이다",
    "다", "이란", "란", "이라는", "라는", "이라고", "라고", "에서는", "에서도", "에서의", "에는",
    "에도", "에의", "으로는", "로는", "으로도", "로도", "와의", "과의", "와는", "과는", "까지는",
    "부터는", "보다는", "만은", "만이", "이라", "라",
    # 하다/되다 verbs made from nouns (정규화하다, 초기화되다)
    "하다", "한다", "하는", "하면", "하고", "하여", "해서", "했다", "하기", "하지", "할", "한",
    "된다", "되는", "되면", "되어", "됐다", "되고", "된", "될", "합니다", "됩니다",
}, key=lambda s: (-len(s), s))
MIN_STEM = 2
HANGUL = re.compile("[\uac00-\ud7a3]")


def strip_particle(word: str) -> str:
    """A Hangul word without its particle or verb ending: 학습률을 -> 학습률, 초기화된 -> 초기화."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            return word[: -len(suffix)]
    return word


_JS_STEMMER = (
    js_porter_stemmer.replace("var Stemmer = function", "var PorterStemmer = function")
    + """
var Stemmer = function() {
  // tools: _ext/korean_search.py (the same rule as the index's Python side)
  const porter = new PorterStemmer();
  const suffixes = SUFFIXES_JSON;
  const minStem = MIN_STEM;
  const hangul = /[\\uac00-\\ud7a3]/;
  this.stemWord = function(word) {
    if (!hangul.test(word)) return porter.stemWord(word);
    for (const suffix of suffixes) {
      if (word.endsWith(suffix) && word.length - suffix.length >= minStem)
        return word.slice(0, word.length - suffix.length);
    }
    return word;
  };
};
""".replace("SUFFIXES_JSON", json.dumps(SUFFIXES, ensure_ascii=False))
    .replace("MIN_STEM", str(MIN_STEM))
)


class SearchKorean(SearchEnglish):
    """Korean words by their stem (particles stripped), Latin words as Sphinx's English."""

    lang = "ko"
    language_name = "Korean"
    js_stemmer_code = _JS_STEMMER

    def stem(self, word: str) -> str:
        if HANGUL.search(word):
            return strip_particle(word)
        return super().stem(word)


def setup(app):
    app.add_search_language(SearchKorean)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
