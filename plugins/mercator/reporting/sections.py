"""The dashboard's sections, each tied to the marts it shows, and their last good copies.

A section shows this run's numbers unless this run's mart gate found a critical failure in one of
its marts or did not run. Then it shows its last good copy (the HTML saved by the last report whose
run passed the mart gate), labelled with its as-of date and run, or a notice that it is withheld.
Copies live in `<reports_dir>/last_good/<section>.html` with `meta.json`; they hold aggregates only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from markupsafe import Markup

from mercator.reporting.health import NOT_RUN, PASSED, Gate

SECTIONS: dict[str, tuple[str, ...]] = {
    "overview": ("marts.dim_customers", "marts.fct_orders", "marts.customer_rfm"),
    "trends": ("marts.fct_orders",),
    "migration": ("marts.customer_rfm",),
    "clv": ("marts.customer_clv", "marts.clv_model_params", "marts.customer_lifecycle", "marts.dim_customers",
            "marts.customer_rfm"),
    "attribution": ("marts.attribution_paths", "marts.attribution_credits", "marts.attribution_by_channel",
                    "marts.attribution_by_channel_daily", "marts.channel_performance"),
    "campaigns": ("marts.campaign_results", "marts.fct_orders", "marts.customer_identities"),
}
TITLES = {"overview": "Customers, orders and RFM segments", "trends": "Weekly trends and cohorts",
          "migration": "RFM segment migration", "clv": "Customer value", "attribution": "Attribution",
          "campaigns": "Campaigns"}
CURRENT, LAST_GOOD, WITHHELD = "current", "last_good", "withheld"
LAST_GOOD_DIR = "last_good"


@dataclass
class Slot:
    name: str
    shown: str  # current | last_good | withheld
    html: Markup
    reason: str = ""  # why this run's numbers are not shown
    as_of: str | None = None  # of the last good copy
    run_id: str | None = None  # that produced the last good copy

    @property
    def title(self) -> str:
        return TITLES[self.name]


def withheld_reason(section: str, marts_gate: Gate | None) -> str:
    """Why this run's numbers of a section must not be shown, or "" when they may."""
    if marts_gate is None or marts_gate.status == PASSED:
        return ""
    if marts_gate.status == NOT_RUN:
        return "the mart gate did not run in this run"
    failing = sorted({f["suite"] for f in marts_gate.failures if f["table"] in SECTIONS[section]})
    return f"the mart gate found critical failures in {', '.join(failing)}" if failing else ""


def arrange(fragments: dict[str, Markup], marts_gate: Gate | None, reports_dir: Path) -> list[Slot]:
    """One slot per section: this run's fragment, the last good copy or a withheld notice."""
    store = Path(reports_dir) / LAST_GOOD_DIR
    meta = _meta(store)
    slots = []
    for name, html in fragments.items():
        reason = withheld_reason(name, marts_gate)
        copy = store / f"{name}.html"
        if not reason:
            slots.append(Slot(name, CURRENT, html))
        elif name in meta and copy.exists():
            saved = meta[name]
            slots.append(Slot(name, LAST_GOOD, Markup(copy.read_text(encoding="utf-8")), reason,
                              saved.get("as_of"), saved.get("run_id")))
        else:
            slots.append(Slot(name, WITHHELD, Markup(""), reason))
    return slots


def save_last_good(reports_dir: Path, slots: list[Slot], marts_gate: Gate | None, as_of: str | None,
                   run_id: str | None) -> None:
    """Keep this run's sections as the last good copies when its mart gate passed."""
    if marts_gate is None or marts_gate.status != PASSED:
        return
    store = Path(reports_dir) / LAST_GOOD_DIR
    store.mkdir(parents=True, exist_ok=True)
    meta = _meta(store)
    saved_at = datetime.now(UTC).isoformat(timespec="seconds")
    for slot in slots:
        if slot.shown == CURRENT:
            _write(store / f"{slot.name}.html", str(slot.html))
            meta[slot.name] = {"as_of": as_of, "run_id": run_id, "saved_at": saved_at}
    _write(store / "meta.json", json.dumps(meta, indent=2, sort_keys=True))


def _meta(store: Path) -> dict:
    path = store / "meta.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
