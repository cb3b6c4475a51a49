"""fct_orders nets refunds and cancellations; int_customer_order_stats sums countable orders."""

from __future__ import annotations

from decimal import Decimal

from tests.mercator.dbt.orders_fixtures import orders_build, pos_transactions, shop_orders


def expected_net(gross: Decimal, status: str, refunded: Decimal | None) -> tuple[Decimal, Decimal]:
    """(refunded_amount, net_amount) by the documented rule."""
    if status == "refunded" and not refunded:
        refunded = gross
    refunded = min(max(refunded or Decimal(0), Decimal(0)), gross)
    return refunded, Decimal(0) if status == "cancelled" else max(gross - refunded, Decimal(0))


def _fct_orders() -> dict[tuple[str, str], tuple]:
    rows = orders_build().rows(
        "select order_source, source_order_id, status, gross_amount, refunded_amount, net_amount, "
        "is_countable, customer_key from marts.fct_orders"
    )
    return {(r[0], r[1]): r[2:] for r in rows}


def test_every_shop_order_and_pos_transaction_is_one_row() -> None:
    expected = {("shop", o["order_id"]) for o in shop_orders()} | {
        ("pos", t["transaction_id"]) for t in pos_transactions()
    }
    assert set(_fct_orders()) == expected
    keys = orders_build().rows("select count(distinct order_key), count(*) from marts.fct_orders")[0]
    assert keys[0] == keys[1] == len(expected)


def test_refunds_and_cancellations_are_netted() -> None:
    fct = _fct_orders()
    for order in shop_orders():
        status, gross, refunded, net, countable, _ = fct[("shop", order["order_id"])]
        reported = None if order["refunded_amount"] is None else Decimal(str(order["refunded_amount"]))
        assert status == order["status"]
        assert (refunded, net) == expected_net(Decimal(str(order["total_amount"])), status, reported), order
        assert net >= 0
        assert countable == (status != "cancelled" and net > 0)
    assert {fct[("shop", o)][3] for o in ("bob-cancelled", "bob-refunded", "bob-over-refunded")} == {0}


def test_pos_statuses_are_normalised_and_anonymous_sales_have_no_customer() -> None:
    fct = _fct_orders()
    assert fct[("pos", "pos-alice-void")][0] == "cancelled"
    assert fct[("pos", "pos-alice-void")][3:5] == (0, False)
    assert fct[("pos", "pos-alice-paid")][0] == "paid"
    assert fct[("pos", "pos-anonymous")][5] is None
    assert fct[("pos", "pos-alice-paid")][5] == fct[("shop", "alice0")][5] is not None


def test_customer_order_stats_sum_countable_orders() -> None:
    build = orders_build()
    stats = build.rows(
        "select customer_key, first_order_at, last_order_at, order_count, net_revenue "
        "from intermediate.int_customer_order_stats order by customer_key"
    )
    expected = build.rows(
        "select customer_key, min(ordered_at), max(ordered_at), count(*), sum(net_amount) "
        "from marts.fct_orders where is_countable and customer_key is not null "
        "group by customer_key order by customer_key"
    )
    assert stats == expected
    carol = build.rows("select customer_key from marts.fct_orders where source_order_id = 'carol-cancelled'")[
        0
    ][0]
    assert carol not in {row[0] for row in stats}
