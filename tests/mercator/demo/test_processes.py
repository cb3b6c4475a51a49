"""The simulated purchases follow the BG/NBD and Gamma-Gamma parameters written to params.json."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

from .conftest import read_rows, records


def _orders_by_person(landing: Path) -> dict[str, list[tuple[str, float]]]:
    owner = {(r["source"], r["entity"], r["record_id"]): r["person_id"] for r in records(landing)}
    orders: dict[str, list[tuple[str, float]]] = defaultdict(list)
    seen = set()
    for row in read_rows(landing, "shop/orders"):
        if row["order_id"] not in seen:  # refunds are re-delivered: count each order once
            seen.add(row["order_id"])
            orders[owner[("shop", "orders", row["order_id"])]].append(
                (row["ordered_at"], float(row["total_amount"]))
            )
    for row in read_rows(landing, "pos/transactions"):
        person = owner[("pos", "transactions", row["transaction_id"])]
        orders[person].append((row["occurred_at"] + "Z", float(row["total_amount"])))
    return orders


def test_repeat_share_matches_mbgnbd(landing: Path) -> None:
    params = json.loads((landing / "truth/params.json").read_text())
    r, alpha, window = params["bgnbd_r"], params["bgnbd_alpha"], params["window_days"]
    # P(no gap within the window) = E_T[(alpha / (alpha + T))^r], acquisition age T ~ U(0, window);
    # a repeat also needs the person not to drop out at the first purchase: E[1 - p] = b / (a + b).
    no_gap = alpha**r * ((alpha + window) ** (1 - r) - alpha ** (1 - r)) / (window * (1 - r))
    expected = (1 - no_gap) * params["bgnbd_b"] / (params["bgnbd_a"] + params["bgnbd_b"])
    orders = _orders_by_person(landing)
    observed = sum(len(o) > 1 for o in orders.values()) / len(orders)
    tolerance = 4 * math.sqrt(expected * (1 - expected) / len(orders))
    assert abs(observed - expected) < tolerance, (observed, expected, tolerance)
    buyers_share = len(orders) / params["n_customers"]
    assert abs(buyers_share - (1 - params["prospect_share"])) < 4 * math.sqrt(0.25 / params["n_customers"])


def test_first_order_value_matches_gamma_gamma(landing: Path) -> None:
    params = json.loads((landing / "truth/params.json").read_text())
    p, q, gamma = params["gg_p"], params["gg_q"], params["gg_gamma"]
    mean = p * gamma / (q - 1)
    variance = p * (p + 1) * gamma**2 / ((q - 1) * (q - 2)) - mean**2
    firsts = [min(orders)[1] for orders in _orders_by_person(landing).values()]
    observed = sum(firsts) / len(firsts)
    tolerance = 4 * math.sqrt(variance / len(firsts)) + 0.01  # + rounding to cents
    assert abs(observed - mean) < tolerance, (observed, mean, tolerance)
