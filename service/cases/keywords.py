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

import numpy as np

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
    """Okapi BM25 (k1=1.5, b=0.75) over documents given as (id, text). Postings are numpy arrays and a query adds
    each term's contribution to a dense score vector: at 10,000 cases a query costs a few milliseconds."""

    def __init__(self, documents: Iterable[tuple[str, str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.ids: list[str] = []
        lengths: list[int] = []
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for doc_id, text in documents:
            counts = Counter(tokens(text))
            index = len(self.ids)
            self.ids.append(doc_id)
            lengths.append(sum(counts.values()))
            for term, f in counts.items():
                docs, freqs = postings.setdefault(term, ([], []))
                docs.append(index)
                freqs.append(f)
        n = len(self.ids)
        length = np.asarray(lengths, dtype=np.float64)
        self.norms = k1 * (1 - b + b * length / length.mean()) if n else length
        self.postings = {t: (np.asarray(d, dtype=np.int64), np.asarray(f, dtype=np.float64))
                         for t, (d, f) in postings.items()}
        self.idf = {t: math.log(1 + (n - len(d) + 0.5) / (len(d) + 0.5)) for t, (d, _) in postings.items()}
        self.position = {doc_id: i for i, doc_id in enumerate(self.ids)}

    def scores(self, query: str, allowed: set[str] | None = None, limit: int | None = None) -> list[tuple[str, float]]:
        """Documents with a positive score, best first (ties by id: deterministic), at most ``limit``."""
        totals = np.zeros(len(self.ids))
        for term, q in Counter(tokens(query)).items():
            if term not in self.postings:
                continue
            docs, freqs = self.postings[term]
            totals[docs] += self.idf[term] * q * freqs * (self.k1 + 1) / (freqs + self.norms[docs])
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=bool)
            mask[[self.position[a] for a in allowed if a in self.position]] = True
            totals[~mask] = 0.0
        hits = np.flatnonzero(totals > 0)
        if limit is not None and len(hits) > limit * 4:
            # keep a margin past ``limit`` so that ties at the cut are still ordered by id below
            hits = hits[np.argpartition(-totals[hits], limit * 4)[: limit * 4]]
        results = [(self.ids[i], float(totals[i])) for i in hits]
        results.sort(key=lambda r: (-r[1], r[0]))
        return results[:limit] if limit is not None else results
