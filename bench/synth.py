"""A synthetic corpus with a natural-language-like vocabulary, for benchmarks.

Word frequencies follow Zipf's law (exponent 1.1) over ~200k word types, the most frequent
being English function words, as in real text; sentence lengths follow a gamma distribution
with a mean of 25 words. Repeating a small real corpus would keep its vocabulary small and
make every posting list long, which flatters neither build nor search.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bot.core.textsplit import ABBREVIATIONS

FUNCTION_WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she there been one all we their has would when if "
    "more will who them some these its into than other what only its could also about"
).split()
SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["ar", "en", "ol", "ut"]
VOCABULARY = 200_000
ZIPF = 1.1
SENTENCES_PER_DOCUMENT = 200
MEAN_WORDS = 25


def vocabulary(rng: np.random.Generator, size: int = VOCABULARY) -> list[str]:
    """Function words first, then pseudo-words; frequent words are shorter, as in English."""
    words = list(dict.fromkeys(FUNCTION_WORDS))
    seen = set(words)
    syllables = np.array(SYLLABLES, dtype=object)
    while len(words) < size:
        batch = 2 * (size - len(words))
        lengths = 2 + np.minimum(
            (rng.exponential(1.0, batch) + (len(words) + np.arange(batch)) / 60_000).astype(int),
            4,
        )
        picks = syllables[rng.integers(0, len(SYLLABLES), (batch, 6))].tolist()
        for n, row in zip(lengths.tolist(), picks, strict=True):
            word = "".join(row[:n])
            if word not in seen and word not in ABBREVIATIONS:
                seen.add(word)
                words.append(word)
                if len(words) == size:
                    break
    return words


def zipf_cdf(size: int = VOCABULARY, exponent: float = ZIPF) -> np.ndarray:
    p = np.arange(1, size + 1, dtype=np.float64) ** -exponent
    return np.cumsum(p / p.sum())


def write_corpus(folder: Path, passages: int, seed: int = 0) -> Path:
    """Documents of about 200 sentences in paragraphs of 1-8, into folder (reused when a
    previous run wrote the same corpus there)."""
    marker = folder / ".complete.json"
    spec = {"passages": passages, "seed": seed, "vocabulary": VOCABULARY, "zipf": ZIPF}
    if marker.is_file() and json.loads(marker.read_text()) == spec:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        old.unlink()
    rng = np.random.default_rng(seed)
    words = np.array(vocabulary(rng), dtype=object)
    cdf = zipf_cdf(len(words))
    written = 0
    doc_no = 0
    while written < passages:
        count = min(SENTENCES_PER_DOCUMENT, passages - written)
        lengths = np.maximum(rng.gamma(4.0, MEAN_WORDS / 4.0, count).astype(int), 3)
        tokens = words[np.minimum(np.searchsorted(cdf, rng.random(lengths.sum())), len(cdf) - 1)]
        tokens = tokens.tolist()
        sentences, pos = [], 0
        for n in lengths.tolist():
            s = tokens[pos : pos + n]
            pos += n
            sentences.append(s[0].capitalize() + " " + " ".join(s[1:]) + ".")
        paragraphs, i = [], 0
        while i < count:
            k = int(rng.integers(1, 9))
            paragraphs.append(" ".join(sentences[i : i + k]))
            i += k
        (folder / f"doc{doc_no:06d}.txt").write_text("\n\n".join(paragraphs) + "\n")
        written += count
        doc_no += 1
    marker.write_text(json.dumps(spec))
    return folder


def questions(count: int, seed: int = 1) -> list[str]:
    """Questions of 3-8 words from the corpus vocabulary: a function word or two, common words
    (drawn by frequency) and rare ones (drawn by type)."""
    rng = np.random.default_rng(seed)
    words = vocabulary(np.random.default_rng(0))
    cdf = zipf_cdf(len(words))
    first_content = len(set(FUNCTION_WORDS))
    out = []
    for _ in range(count):
        picked = []
        for _ in range(int(rng.integers(3, 9))):
            kind = rng.random()
            if kind < 0.2:
                picked.append(words[int(rng.integers(0, first_content))])
            elif kind < 0.6:
                r = int(np.searchsorted(cdf, rng.uniform(cdf[first_content], 1.0)))
                picked.append(words[min(r, len(words) - 1)])
            else:
                picked.append(words[int(rng.integers(first_content, len(words)))])
        out.append(" ".join(picked) + "?")
    return out
