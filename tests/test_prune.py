"""An all-common question's weakest term scored only in the others' paragraphs (prune_common,
Planner.plan) gives the best candidates of scoring every term everywhere, to the last
bit, with numpy and with the compiled kernels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_kernels import NUMPY, _corpus, compiled  # noqa: F401 (a module fixture: numba loaded)

from bot.core.answer import Engine
from bot.core.model import RetrievalSettings


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    words=st.integers(3, 40),
    documents=st.integers(1, 12),
    question=st.lists(st.integers(0, 45), min_size=2, max_size=6),
    candidates=st.sampled_from([1, 3, 10, 50]),
    weights=st.sampled_from([(0.3, 1.5, 1.0), (0.0, 1.5, 1.0), (0.3, 0.0, 0.0), (0.5, 3.0, 0.0)]),
    only=st.sampled_from([None, {"c1"}]),
    compiled_from=st.sampled_from([0, NUMPY]),
)
def test_pruned_candidates_equal_exhaustive(
    seed: int, words: int, documents: int, question: list[int], candidates: int,
    weights: tuple[float, float, float], only: set[str] | None, compiled_from: int,
) -> None:
    nw, pt, tt = weights
    # common_postings 1: every term in two passages or more is common.
    base = replace(RetrievalSettings(), candidates=candidates, common_postings=1,
                   neighbour_weight=nw, paragraph_terms=pt, title_terms=tt, threshold=0.0,
                   compiled_from=compiled_from)
    full = Engine(_corpus(seed, words, documents), replace(base, prune_common=False))
    pruned = Engine(full.corpus, base)
    # A word twice weighs 2; "notes" is in every label.
    text = " ".join(f"w{i:03d}" if i < 43 else "notes" for i in question) + "?"
    query = full.query_terms(text)
    want = full.first.candidates(query, only, text)
    got = pruned.first.candidates(query, only, text)
    assert [a.tolist() for a in got] == [a.tolist() for a in want]  # floats equal bit for bit
    assert pruned.answer(text, collections=only) == full.answer(text, collections=only)
    buffers = pruned.first.buffers()
    assert not buffers.scores.any() and not buffers.paragraphs.any() and not buffers.marks.any()


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    seed=st.integers(0, 10_000),
    words=st.integers(3, 40),
    documents=st.integers(1, 12),
    question=st.lists(st.integers(0, 45), min_size=2, max_size=6),
    weights=st.sampled_from([(0.3, 1.5, 1.0), (0.0, 1.5, 1.0), (0.3, 0.0, 0.0), (0.5, 3.0, 0.0)]),
)
def test_bound_holds_outside_the_others_paragraphs(
    seed: int, words: int, documents: int, question: list[int],
    weights: tuple[float, float, float],
) -> None:
    """The claim the pruning rests on: no passage outside the paragraphs the stronger terms
    matched scores more than the bound, in exhaustive scoring (every passage kept)."""
    nw, pt, tt = weights
    base = replace(RetrievalSettings(), candidates=10**6, common_postings=1,
                   neighbour_weight=nw, paragraph_terms=pt, title_terms=tt,
                   compiled_from=NUMPY)
    pruned = Engine(_corpus(seed, words, documents), base)
    full = Engine(pruned.corpus, replace(base, prune_common=False))
    text = " ".join(f"w{i % words:03d}" if i < 43 else "notes" for i in question) + "?"
    query, _, rest, bound = pruned.first.planner.plan(pruned.query_terms(text))
    assume(rest)
    ids, _, context = full.first.score(query)
    para_id = pruned.passages.para_id
    matched = [pruned.index.doc_ids_of(t) for t in query if t not in rest]
    outside = ~np.isin(para_id[ids], para_id[np.concatenate(matched)])
    assert (context[outside] <= bound).all()
