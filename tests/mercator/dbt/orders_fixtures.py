"""Hand-made orders, contacts and email events for the orders/RFM dbt tests, and one dbt build of them.

Every person is identified by one email address on all their records, so the identity models group
them by it. The data is shaped so that RFM has ties (ten identical old frequent buyers), refunds and
cancellations to net, and old frequent buyers in every consent and suppression state.
"""

from __future__ import annotations

import atexit
import csv
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from tests.mercator.dbt.identity_fixtures import copy_project, load_raw, query, run_dbt

LATEST_ORDER_DATE = date(2026, 3, 31)
EARLIER_AS_OF = "2026-01-31"
# Deliveries are loaded after the latest order (an order placed after its load is future-dated).
LOADED_AT = "2026-04-01 00:00:00+00"
DBT_MODELS = ("+fct_orders", "+customer_rfm", "+audience_at_risk_email", "+int_customer_order_stats")
AT_RISK_SEGMENTS = ("At risk", "Can't lose them")


@dataclass(frozen=True)
class AudienceCase:
    """An old frequent buyer: their CRM email consent (None = no contact) and email events."""

    consent: str | None
    events: tuple[str, ...] = ()
    manually_suppressed: bool = False

    @property
    def reachable(self) -> bool:
        """Consented and not suppressed: no hard bounce/drop/spam report, no standing unsubscribe."""
        subscription = [
            e for e in self.events if e in ("unsubscribe", "group_unsubscribe", "group_resubscribe")
        ]
        unsubscribed = bool(subscription) and subscription[-1] != "group_resubscribe"
        permanent = bool({"bounce", "dropped", "spamreport"} & set(self.events))
        return self.consent == "granted" and not (unsubscribed or permanent or self.manually_suppressed)


AUDIENCE_CASES = {
    "loyal0@example.test": AudienceCase("granted"),
    "loyal1@example.test": AudienceCase("granted", ("delivered", "open")),
    "loyal2@example.test": AudienceCase("revoked"),
    "loyal3@example.test": AudienceCase("unknown"),
    "loyal4@example.test": AudienceCase("granted", ("bounce",)),
    "loyal5@example.test": AudienceCase("granted", ("unsubscribe",)),
    "loyal6@example.test": AudienceCase("granted", ("group_unsubscribe", "group_resubscribe")),
    "loyal7@example.test": AudienceCase("granted", manually_suppressed=True),
    "loyal8@example.test": AudienceCase("granted", ("spamreport",)),
    "loyal9@example.test": AudienceCase(None),
}


def _shop(
    order_id: str,
    email: str,
    day: str,
    total: float,
    status: str = "paid",
    refunded: float | None = None,
    discount: float | None = None,
) -> dict[str, object]:
    return {
        "order_id": order_id,
        "email": email,
        "ordered_at": f"{day} 12:00:00+00",
        "total_amount": total,
        "status": status,
        "refunded_amount": refunded,
        "discount_amount": discount,
    }


def _pos(transaction_id: str, email: str | None, day: str, total: float, status: str) -> dict[str, object]:
    return {
        "transaction_id": transaction_id,
        "store_id": "s1",
        "email": email,
        "occurred_at": f"{day} 12:00:00+00",
        "total_amount": total,
        "status": status,
    }


def shop_orders() -> list[dict[str, object]]:
    old_days = ("2025-01-10", "2025-02-10", "2025-03-10", "2025-04-10")
    orders = [
        _shop(f"{email}-{n}", email, day, 100) for email in AUDIENCE_CASES for n, day in enumerate(old_days)
    ]
    orders += [_shop(f"recent{i}", f"recent{i}@example.test", f"2026-03-{10 + i}", 20 + i) for i in range(10)]
    orders += [
        _shop(f"alice{n}", "alice@example.test", day, 50)
        for n, day in enumerate(("2026-01-15", "2026-02-15", LATEST_ORDER_DATE.isoformat()))
    ]
    orders += [
        _shop("bob-paid", "bob@example.test", "2026-02-01", 100),
        _shop("bob-cancelled", "bob@example.test", "2026-02-02", 50, "cancelled"),
        _shop("bob-refunded", "bob@example.test", "2026-02-03", 80, "refunded"),
        _shop("bob-partial", "bob@example.test", "2026-02-04", 60, "partially_refunded", refunded=20),
        _shop("bob-over-refunded", "bob@example.test", "2026-02-05", 30, "partially_refunded", refunded=45),
        _shop("bob-discounted", "bob@example.test", "2026-02-06", 90, discount=10),
        _shop("carol-cancelled", "carol@example.test", "2026-02-07", 70, "cancelled"),
    ]
    return orders


def pos_transactions() -> list[dict[str, object]]:
    return [
        _pos("pos-alice-paid", "alice@example.test", "2026-03-20", 30, "completed"),
        _pos("pos-alice-void", "alice@example.test", "2026-03-21", 40, "voided"),
        _pos("pos-anonymous", None, "2026-03-22", 25, "completed"),
    ]


def crm_contacts() -> list[dict[str, object]]:
    consents = {email: case.consent for email, case in AUDIENCE_CASES.items() if case.consent}
    consents |= {"alice@example.test": "granted", "bob@example.test": "granted"}
    return [
        {
            "contact_id": f"c{n}",
            "email": email,
            "first_name": email.split("@")[0].title(),
            "updated_at": "2025-01-01 00:00:00+00",
            "email_consent": consent,
        }
        for n, (email, consent) in enumerate(consents.items())
    ]


def email_events() -> list[dict[str, object]]:
    return [
        {
            "email": email,
            "timestamp": f"2025-06-{n + 1:02d} 00:00:00+00",
            "event": event,
            "sg_message_id": "m1",
        }
        for email, case in AUDIENCE_CASES.items()
        for n, event in enumerate(case.events)
    ]


def _add_manual_suppressions(project: Path) -> None:
    with (project / "seeds" / "email_suppressions.csv").open("a", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for email, case in AUDIENCE_CASES.items():
            if case.manually_suppressed:
                writer.writerow([f" {email.upper()} ", "test: manual suppression", "2025-06-01"])


@dataclass(frozen=True)
class Build:
    project: Path
    warehouse: Path

    def rows(self, sql: str) -> list[tuple]:
        return query(self.warehouse, sql)

    def dbt(self, *args: str, as_of: str = "") -> str:
        return run_dbt(self.project, self.warehouse, *args, env={"MERCATOR_AS_OF": as_of})

    def copy(self, name: str) -> Build:
        """The same project on a copy of the warehouse, for tests that rebuild or snapshot."""
        warehouse = self.warehouse.with_name(f"{name}.duckdb")
        shutil.copyfile(self.warehouse, warehouse)
        return Build(self.project, warehouse)


@cache
def orders_build() -> Build:
    """Load the hand-made raw data and `dbt build` the orders, RFM and audience models once per session."""
    root = Path(tempfile.mkdtemp(prefix="mercator-orders-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    project = copy_project(root)
    _add_manual_suppressions(project)
    warehouse = root / "warehouse.duckdb"
    load_raw(
        warehouse,
        {
            "shop/orders": shop_orders(),
            "pos/transactions": pos_transactions(),
            "crm/contacts": crm_contacts(),
            "email/events": email_events(),
        },
        loaded_at=LOADED_AT,
    )
    build = Build(project, warehouse)
    build.dbt("build", "--select", *DBT_MODELS, "--indirect-selection", "cautious")
    return build
