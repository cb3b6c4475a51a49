"""Score a grouping of records into customers against the demo data's answer key."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PairwiseScore:
    precision: float
    recall: float
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int


def _pairs(counts: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in counts)


def pairwise_score(records: Sequence[tuple[str, str | None, str]]) -> PairwiseScore:
    """Pairwise precision and recall of `(record_id, predicted_group, true_group)` rows.

    A record with no predicted group stands alone. Counts pairs per group, never lists them,
    so it runs in linear time on millions of records.
    """
    predicted = Counter(p if p is not None else ("alone", r) for r, p, _ in records)
    true = Counter(t for _, _, t in records)
    both = Counter((p, t) for r, p, t in records if p is not None)
    predicted_pairs, true_pairs, correct = _pairs(predicted.values()), _pairs(true.values()), _pairs(both.values())
    return PairwiseScore(
        precision=correct / predicted_pairs if predicted_pairs else 1.0,
        recall=correct / true_pairs if true_pairs else 1.0,
        predicted_pairs=predicted_pairs,
        true_pairs=true_pairs,
        correct_pairs=correct,
    )
