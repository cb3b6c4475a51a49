"""Score a grouping of records into customers against the demo data's answer key."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

ORDER_ENTITIES = {("shop", "orders"), ("pos", "transactions")}

# Identifiers each person-bearing record carries, read from the staging views.
RECORD_IDENTIFIERS = """
select 'shop' as source, 'orders' as entity, order_id as record_id, 'customer_id' as kind, customer_id as value
  from staging.stg_shop__orders
union all select 'shop', 'orders', order_id, 'email', email from staging.stg_shop__orders
union all select 'shop', 'orders', order_id, 'phone', phone from staging.stg_shop__orders
union all select 'shop', 'orders', order_id, 'anonymous_id', anonymous_id from staging.stg_shop__orders
union all select 'pos', 'transactions', transaction_id, 'loyalty_id', loyalty_id from staging.stg_pos__transactions
union all select 'pos', 'transactions', transaction_id, 'phone', phone from staging.stg_pos__transactions
union all select 'pos', 'transactions', transaction_id, 'email', email from staging.stg_pos__transactions
union all select 'crm', 'contacts', contact_id, 'contact_id', contact_id from staging.stg_crm__contacts
union all select 'crm', 'contacts', contact_id, 'email', email from staging.stg_crm__contacts
union all select 'crm', 'contacts', contact_id, 'phone', phone from staging.stg_crm__contacts
union all select 'crm', 'contacts', contact_id, 'loyalty_id', loyalty_id from staging.stg_crm__contacts
union all select 'crm', 'contacts', contact_id, 'customer_id', customer_id from staging.stg_crm__contacts
union all select 'web', 'visitors', anonymous_id, 'anonymous_id', anonymous_id from staging.stg_web__events
union all select 'web', 'visitors', anonymous_id, 'customer_id', user_id from staging.stg_web__events
union all select 'web', 'visitors', anonymous_id, 'email', email from staging.stg_web__events
union all select 'app', 'devices', device_id, 'device_id', device_id from staging.stg_app__events
union all select 'app', 'devices', device_id, 'customer_id', user_id from staging.stg_app__events
"""


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


def best_groups(con: duckdb.DuckDBPyConnection, truth: dict[tuple[str, str, str], str]) -> dict:
    """Label every record with its component under identifiers that only one person uses."""
    rows = con.execute(f"select * from ({RECORD_IDENTIFIERS}) where value is not null").fetchall()
    records = {key: i for i, key in enumerate(truth)}
    persons_of: dict[tuple[str, str], set[str]] = {}
    for source, entity, record_id, kind, value in rows:
        person = truth.get((source, entity, record_id))
        if person is not None:
            persons_of.setdefault((kind, value), set()).add(person)
    clean = {ident: len(records) + i for i, ident in enumerate(k for k, v in persons_of.items() if len(v) == 1)}
    edges = [
        (records[(s, e, r)], clean[(k, v)])
        for s, e, r, k, v in rows
        if (s, e, r) in records and (k, v) in clean
    ]
    n = len(records) + len(clean)
    src, dst = np.array(edges, dtype=np.int64).reshape(-1, 2).T
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return {key: f"g{labels[i]}" for key, i in records.items()}


def identity_quality(con: duckdb.DuckDBPyConnection, landing: Path) -> dict:
    """Pairwise precision and recall of orders grouped into customers, against the true persons
    and against the best grouping the data allows; and that best grouping's own score."""
    with open(landing / "truth" / "records.csv", newline="") as f:
        truth = {(r["source"], r["entity"], r["record_id"]): r["person_id"] for r in csv.DictReader(f)}
    predicted = dict(
        ((s, e, r), k)
        for s, e, r, k in con.execute(
            "select source, entity, record_id, customer_key from intermediate.int_record_customers"
        ).fetchall()
    )
    best = best_groups(con, truth)
    orders = [key for key in truth if key[:2] in ORDER_ENTITIES]
    vs_truth = pairwise_score([(key, predicted.get(key), truth[key]) for key in orders])
    vs_best = pairwise_score([(key, predicted.get(key), best[key]) for key in orders])
    ceiling = pairwise_score([(key, best[key], truth[key]) for key in orders])
    return {
        "orders": len(orders),
        "vs_truth": {"precision": round(vs_truth.precision, 5), "recall": round(vs_truth.recall, 5)},
        "vs_best_possible": {"precision": round(vs_best.precision, 5), "recall": round(vs_best.recall, 5)},
        "best_possible_vs_truth": {"precision": round(ceiling.precision, 5), "recall": round(ceiling.recall, 5)},
    }
