"""This run's health: each quality gate's outcome in this run and the tasks that failed or did not run.

The gates record their outcome per run under `gates` in `quality/last_run.json`; a gate recorded by
an earlier run counts as not run in this run, never as that run's status. Task states come from
Airflow (the report task passes them). The report writes what it found to `run_status.json`, which
`python -m mercator.summary` prints.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PASSED, FAILED, NOT_RUN = "passed", "failed", "not_run"
GATE_TASKS = {"raw": "quality_raw.validate_raw", "marts": "quality_marts.validate_marts"}
GATE_TITLES = {"raw": "raw gate", "marts": "mart gate"}
STATUS_FILE = "run_status.json"


@dataclass
class Gate:
    name: str  # raw | marts
    status: str  # passed | failed | not_run
    checked_at: str = ""
    failures: list[dict] = field(default_factory=list)  # {suite, table, critical_failures}

    @property
    def title(self) -> str:
        return GATE_TITLES[self.name]

    @property
    def failed_tables(self) -> set[str]:
        return {f["table"] for f in self.failures}


@dataclass
class RunHealth:
    run_id: str | None
    gates: dict[str, Gate] = field(default_factory=dict)  # the gates whose outcome for this run is known
    failed_tasks: list[str] = field(default_factory=list)  # failures other than a gate's recorded failure
    blocked_tasks: list[str] = field(default_factory=list)  # not run because an upstream task failed

    @property
    def ok(self) -> bool:
        return not self.failed_tasks and all(g.status == PASSED for g in self.gates.values())


def run_health(quality_dir: Path, run_id: str | None, task_states: dict[str, str] | None = None) -> RunHealth:
    """This run's gates and task failures. Without a run id (a report outside Airflow), the last
    recorded outcome of each gate counts as this run's."""
    path = Path(quality_dir) / "last_run.json"
    recorded = json.loads(path.read_text()).get("gates", {}) if path.exists() else {}
    health = RunHealth(run_id)
    for name in GATE_TASKS:
        entry = recorded.get(name)
        if entry and (run_id is None or entry.get("run_id") == run_id):
            health.gates[name] = Gate(name, entry["status"], entry.get("checked_at", ""), entry.get("failures", []))
        elif run_id is not None:
            health.gates[name] = Gate(name, NOT_RUN)
    states = task_states or {}
    recorded_failures = {GATE_TASKS[g.name] for g in health.gates.values() if g.status == FAILED}
    health.failed_tasks = [t for t, s in states.items() if s == "failed" and t not in recorded_failures]
    health.blocked_tasks = [t for t, s in states.items() if s == "upstream_failed"]
    return health


def write_run_status(reports_dir: Path, health: RunHealth, sections: dict[str, dict], warnings: list[str]) -> Path:
    """Record what the report found about this run (gates, tasks, sections shown, warnings)."""
    path = Path(reports_dir) / STATUS_FILE
    state = {
        **asdict(health),
        "reported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sections": sections,
        "warnings": warnings,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(path)
    return path


def read_run_status(reports_dir: Path) -> dict | None:
    path = Path(reports_dir) / STATUS_FILE
    return json.loads(path.read_text()) if path.exists() else None
