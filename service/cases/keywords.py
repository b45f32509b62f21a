"""The keyword channel: BM25 over the case library, for Chinese and English alike.

Chinese is tokenised into overlapping character bigrams (and single characters for one-character runs), English
into lower-cased words: no dictionary to ship or download, and bigrams match Chinese business terms
("挂失", "限额", "分期") well. Pure Python; a library of thousands of cases scores in milliseconds.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable

_CJK = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+|\d+(?:\.\d+)?%?")
STOP = {"the", "and", "for", "that", "with", "but", "was", "his", "her", "did", "not", "how", "why"}


def tokens(text: str) -> list[str]:
    found: list[str] = []
    for run in _CJK.findall(text):
        found.extend(run if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
    found.extend(w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOP)
    return found


class KeywordIndex:
    """Okapi BM25 (k1=1.5, b=0.75) over documents given as (id, text), with an inverted index so that a query
    touches only the documents sharing a term with it."""

    def __init__(self, documents: Iterable[tuple[str, str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.ids: list[str] = []
        lengths: list[int] = []
        postings: dict[str, list[tuple[int, int]]] = {}
        for doc_id, text in documents:
            counts = Counter(tokens(text))
            index = len(self.ids)
            self.ids.append(doc_id)
            lengths.append(sum(counts.values()))
            for term, f in counts.items():
                postings.setdefault(term, []).append((index, f))
        n = len(self.ids)
        average = sum(lengths) / n if n else 0.0
        self.norms = [k1 * (1 - b + b * length / average) if average else k1 for length in lengths]
        self.postings = postings
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()}

    def scores(self, query: str, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Documents with a positive score, best first (ties by id: deterministic)."""
        totals: dict[int, float] = {}
        for term, q in Counter(tokens(query)).items():
            idf = self.idf.get(term)
            if idf is None:
                continue
            for index, f in self.postings[term]:
                totals[index] = totals.get(index, 0.0) + idf * q * f * (self.k1 + 1) / (f + self.norms[index])
        results = [(self.ids[i], score) for i, score in totals.items()
                   if allowed is None or self.ids[i] in allowed]
        results.sort(key=lambda r: (-r[1], r[0]))
        return results
