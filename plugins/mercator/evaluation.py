"""Score a grouping of records into customers against the demo data's answer key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

ORDER_ENTITIES = {("shop", "orders"), ("pos", "transactions")}

# Identifiers each person-bearing record carries, read from the staging tables (events: each
# distinct combination once).
RECORD_IDENTIFIERS = """
with web as (select distinct anonymous_id, user_id, email from staging.stg_web__events),
app as (select distinct device_id, user_id from staging.stg_app__events)
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
union all select 'web', 'visitors', anonymous_id, 'anonymous_id', anonymous_id from web
union all select 'web', 'visitors', anonymous_id, 'customer_id', user_id from web
union all select 'web', 'visitors', anonymous_id, 'email', email from web
union all select 'app', 'devices', device_id, 'device_id', device_id from app
union all select 'app', 'devices', device_id, 'customer_id', user_id from app
"""




@dataclass(frozen=True)
class PairwiseScore:
    precision: float
    recall: float
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int


def pairwise_score(con: duckdb.DuckDBPyConnection, relation: str, predicted: str, true: str) -> PairwiseScore:
    """Pairwise precision and recall of the rows of `relation` (with a unique `idx`) grouped by the
    expression `predicted` against `true`. A NULL predicted group stands alone. Counts pairs per
    group in SQL, never lists them, so it runs on millions of records."""
    pairs = "sum(n * (n - 1) // 2)"
    [(predicted_pairs, true_pairs, correct)] = con.execute(f"""
        select
          (select {pairs} from (select count(*) as n from {relation} group by coalesce({predicted}, 'alone:' || idx))),
          (select {pairs} from (select count(*) as n from {relation} group by {true})),
          (select coalesce({pairs}, 0) from (select count(*) as n from {relation} where {predicted} is not null
                                group by {predicted}, {true}))
    """).fetchall()
    return PairwiseScore(
        precision=correct / predicted_pairs if predicted_pairs else 1.0,
        recall=correct / true_pairs if true_pairs else 1.0,
        predicted_pairs=int(predicted_pairs or 0),
        true_pairs=int(true_pairs or 0),
        correct_pairs=int(correct),
    )


def best_groups(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """The component of every record of temp table `_truth` (by `idx`) under identifiers that only
    one person uses: distinct identifiers per record in SQL, components with scipy."""
    [(records,)] = con.execute("select count(*) from _truth").fetchall()
    edges = con.execute(f"""
        with identifiers as (
          select distinct source, entity, record_id, kind, value from ({RECORD_IDENTIFIERS}) where value is not null
        ),
        labelled as (
          select identifiers.kind, identifiers.value, _truth.idx, _truth.person_id
          from identifiers inner join _truth using (source, entity, record_id)
        ),
        clean as (
          select kind, value, row_number() over () - 1 as identifier_idx
          from labelled group by kind, value having count(distinct person_id) = 1
        )
        select labelled.idx, clean.identifier_idx from labelled inner join clean using (kind, value)
    """).fetchnumpy()
    src, dst = edges["idx"].astype(np.int64), edges["identifier_idx"].astype(np.int64) + records
    n = records + (int(dst.max()) - records + 1 if dst.size else 0)
    graph = coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels[:records]


def identity_quality(con: duckdb.DuckDBPyConnection, landing: Path) -> dict:
    """Pairwise precision and recall of orders grouped into customers, against the true persons
    and against the best grouping the data allows; and that best grouping's own score. Counted in
    DuckDB and numpy (no per-record Python objects), so it scores millions of records."""
    truth = str(landing / "truth" / "records.csv").replace("'", "''")
    con.execute(
        "create or replace temp table _truth as select row_number() over () - 1 as idx, source, entity, record_id, "
        f"person_id from read_csv('{truth}', header=true, all_varchar=true)"
    )
    labels = best_groups(con)
    con.register("_best", pd.DataFrame({"idx": np.arange(labels.size, dtype=np.int64), "best_group": labels}))
    orders = " or ".join(f"(_truth.source = '{s}' and _truth.entity = '{e}')" for s, e in sorted(ORDER_ENTITIES))
    con.execute(f"""
        create or replace temp table _scored_orders as
        select _truth.idx, _truth.person_id, records.customer_key, _best.best_group
        from _truth
        left join intermediate.int_record_customers as records using (source, entity, record_id)
        inner join _best using (idx)
        where {orders}
    """)
    [(order_count,)] = con.execute("select count(*) from _scored_orders").fetchall()
    vs_truth = pairwise_score(con, "_scored_orders", "customer_key", "person_id")
    vs_best = pairwise_score(con, "_scored_orders", "customer_key", "best_group")
    ceiling = pairwise_score(con, "_scored_orders", "best_group::varchar", "person_id")
    return {
        "orders": order_count,
        "vs_truth": {"precision": round(vs_truth.precision, 5), "recall": round(vs_truth.recall, 5)},
        "vs_best_possible": {"precision": round(vs_best.precision, 5), "recall": round(vs_best.recall, 5)},
        "best_possible_vs_truth": {"precision": round(ceiling.precision, 5), "recall": round(ceiling.recall, 5)},
    }
