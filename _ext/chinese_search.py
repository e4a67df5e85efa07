"""Search the Chinese edition without a word dictionary: every pair of adjacent characters.

Chinese writes no spaces between words, and Sphinx's own Chinese search indexes Chinese text
only through jieba, a dictionary-based word splitter that would be the book's one
dependency without a wheel. This extension replaces it with the usual dictionary-free
method: the index holds every two adjacent Chinese characters of a run (残差网络 gives 残差,
差网, 网络), a lone character stands for itself, and the search box splits a query the same
way. Sphinx keeps a page when it holds every term of the query, so a page is found exactly
when it contains each of the query's pairs, which a page containing the query always does.
Latin words are indexed and stemmed as on the English pages.
"""

import re

import snowballstemmer
from sphinx import search
from sphinx.search.zh import SearchChinese

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs, extension A, compatibility
RUN = re.compile(f"[{HAN}]+")
LATIN = re.compile(r"[a-zA-Z0-9_]+")

SPLIT_QUERY = r"""
function splitQuery(query) {
  // as _ext/chinese_search.py indexes: Chinese runs as overlapping pairs of characters
  const han = /^[HAN]+$/u;
  const terms = [];
  for (const part of query.split(/[^\p{Letter}\p{Number}_]+/gu)) {
    for (const piece of part.split(/([HAN]+)/u)) {
      if (!piece) continue;
      if (!han.test(piece) || piece.length === 1) terms.push(piece);
      else for (let i = 0; i + 1 < piece.length; i++) terms.push(piece.slice(i, i + 2));
    }
  }
  return terms;
}
""".replace("HAN", HAN.encode("unicode_escape").decode())


def han_terms(text):
    """The index terms of the Chinese in ``text``: each run's pairs, or a lone character."""
    terms = []
    for run in RUN.findall(text):
        terms += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return terms


class SearchChineseByPairs(SearchChinese):
    """Sphinx's Chinese search language, with pairs of characters instead of jieba's words."""

    js_splitter_code = SPLIT_QUERY

    def init(self, options):
        """Stem Latin words as English, like Sphinx's Chinese search; load no dictionary."""
        self.stemmer = snowballstemmer.stemmer("english")

    def split(self, input):
        """The pairs of characters of every Chinese run, then the Latin words."""
        latin = [term.strip() for term in LATIN.findall(input)]
        self.latin_terms.extend(latin)
        return han_terms(input) + latin

    def word_filter(self, stemmed_word):
        """Keep a Chinese character even alone; drop one-letter Latin words."""
        return len(stemmed_word) > 1 or bool(RUN.fullmatch(stemmed_word))

    def stem(self, word):
        """Chinese as it is; Latin words as Sphinx's Chinese search stems them."""
        return word if RUN.fullmatch(word) else super().stem(word)


def setup(app):
    """Make ``html_search_language: zh`` use the pairs."""
    search.languages["zh"] = SearchChineseByPairs
    return {"parallel_read_safe": True, "parallel_write_safe": True}
