"""Benchmark activation: large audiences through the sync engine to the SendGrid and Twilio stand-ins.

    .venv/bin/python bench/bench_activation.py [--members 100000 1000000] [--sms-members 10000]

Each scenario runs in a fresh process: a generated DuckDB warehouse (marts.dim_customers with
email consent granted for 95% and SMS consent for 90%, an audience table of every customer, 100
email and 100 SMS suppressions in intermediate.int_contact_suppressions) is activated by
`activate_all` with a hand-written dbt manifest, then again with 1% of the members changed:
- email: configured like audience_at_risk_email (mirror, 10% holdout, custom field segment), to the
  SendGrid stand-in through the real `sendgrid` SDK (default options: first poll after 1 s);
- SMS: like audience_winback_sms, to the Twilio stand-in through the real `twilio` SDK (the rerun
  falls inside the 7-day cap).
Each stand-in runs in a process of its own (tests.standins.serve), as a real API is remote: its CPU
does not compete for the engine's GIL and its memory is reported apart. The stand-ins' rate limits
are lifted so that the engine is measured, not the pacing; the request counts per endpoint tell
what pacing would add.

Per run: wall time, CPU time of the engine process (all threads) with the machine's load average
before and after (the machine may be shared), and peak RSS of the engine process (sampled every
20 ms) and of the stand-in process; wall time and peak RSS per phase (exclusive time: connections (the first
lookup imports Airflow's SDK), discover, closed loop, plan, plan: members (rows to Python objects),
assignments, send (destination code), each API endpoint, poll waits, the message journal, record);
the stand-in's own handling time (in its process); time in garbage collections; requests per endpoint as the
stand-in counted them against the minimum (ceil(sent / 30,000) upserts, one request per SMS).
Prints Markdown tables; JSON goes to bench/results/activation-<date>.json.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the stand-ins live in tests/standins

DAY1, DAY2 = "scheduled__2026-03-01T00:00:00+00:00", "scheduled__2026-03-02T00:00:00+00:00"
MAX_CONTACTS = 30_000  # per SendGrid upsert request
SUPPRESSIONS_PER_CHANNEL = 100
AUDIENCES = {
    "email": ("audience_bench_email", {
        "channel": "email", "mode": "mirror", "holdout_share": 0.10,
        "fields": {"email": "email", "first_name": "first_name", "segment": "segment"},
        "destinations": [{"type": "sendgrid", "connection": "mercator_sendgrid",
                          "options": {"list_name": "audience_bench_email", "custom_fields": ["segment"]}}]}),
    "sms": ("audience_bench_sms", {
        "channel": "sms", "mode": "upsert", "holdout_share": 0.10,
        "fields": {"phone": "phone", "first_name": "first_name"},
        "destinations": [{"type": "twilio_sms", "connection": "mercator_twilio",
                          "options": {"template": "Hi {first_name}, we miss you! 15% off your next order with "
                                                  "code COMEBACK15. Reply STOP to opt out."}}]}),
}
PHASES = ("connections", "discover", "closed loop", "plan", "plan: members", "assignments", "send", "api: upsert",
          "api: job status", "api: search", "api: other", "poll wait", "journal", "record", "other")


class Phases:
    """Exclusive wall time and peak RSS per phase of the main thread (phases nest on a stack)."""

    def __init__(self) -> None:
        import psutil

        self.seconds: Counter[str] = Counter()
        self.peak_mb: Counter[str] = Counter()
        self._stack = ["other"]
        self._mark = time.perf_counter()
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Phases:
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._switch()
        self._stop.set()
        self._sampler.join()

    def reset(self) -> None:
        self._switch()
        self.seconds.clear()
        self.peak_mb.clear()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            phase, rss = self.current, self._process.memory_info().rss / 2**20
            self.peak_mb[phase] = max(self.peak_mb[phase], rss)

    @property
    def current(self) -> str:
        return self._stack[-1]

    def _switch(self) -> None:
        now = time.perf_counter()
        self.seconds[self.current] += now - self._mark
        self._mark = now

    @contextmanager
    def phase(self, name: str):
        self._switch()
        self._stack.append(name)
        try:
            yield
        finally:
            self._switch()
            self._stack.pop()

    def wrap(self, owner: object, attribute: str, name) -> None:
        """Time every call of `owner.attribute` as phase `name` (a str, or a function of the call's args)."""
        original = getattr(owner, attribute)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            with self.phase(name if isinstance(name, str) else name(*args, **kwargs)):
                return original(*args, **kwargs)

        setattr(owner, attribute, timed)


def _api_phase(client, method: str, path: str, *args, **kwargs) -> str:
    if path == "marketing/contacts" and method == "PUT":
        return "api: upsert"
    if path.startswith("marketing/contacts/imports/"):
        return "api: job status"
    return "api: search" if path == "marketing/contacts/search/emails" else "api: other"


def instrument(phases: Phases) -> None:
    """Wrap the engine's steps, the destinations' calls and the SendGrid client's requests and waits."""
    from mercator.activation import runner, sendgrid_client, sync
    from mercator.activation.journal import Journal
    from mercator.activation.sendgrid import SendGridDestination
    from mercator.activation.twilio_sms import TwilioSmsDestination

    phases.wrap(runner, "discover", "discover")
    phases.wrap(runner, "get_connection", "connections")
    for name, phase in (("_pull_suppressions", "closed loop"), ("_erase", "closed loop"), ("_plan", "plan"),
                        ("_members", "plan: members"), ("_record_assignments", "assignments"),
                        ("_write_state", "record"), ("_record_outcomes", "record"), ("_record_removals", "record"),
                        ("_write_run", "record")):
        phases.wrap(sync, name, phase)
    for cls, methods in ((SendGridDestination, ("prepare", "upsert", "remove", "erase", "suppressions")),
                         (TwilioSmsDestination, ("upsert",))):
        for method in methods:
            phases.wrap(cls, method, "send")
    for method in ("sending", "answered", "clear"):
        phases.wrap(Journal, method, "journal")
    phases.wrap(sendgrid_client.SendGridClient, "request", _api_phase)
    phases.wrap(sendgrid_client, "sleep", "poll wait")


def gc_clock(phases: Phases) -> Counter:
    """Seconds spent in cyclic garbage collections (any thread), per phase of the main thread."""
    seconds: Counter[str] = Counter()
    started = {}

    def callback(step: str, info: dict) -> None:
        if step == "start":
            started[info["generation"]] = time.perf_counter()
        else:
            seconds[phases.current] += time.perf_counter() - started.pop(info["generation"])

    gc.callbacks.append(callback)
    return seconds


def build_warehouse(path: Path, members: int, table: str) -> None:
    """dim_customers, the suppressions and an audience table of every customer."""
    import duckdb

    step = max(1, members // SUPPRESSIONS_PER_CHANNEL)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema intermediate")
        con.execute(
            f"""create table marts.dim_customers as select
                'c' || lpad(i::varchar, 8, '0') as customer_key, 'person' || i || '@example.com' as email,
                '+1555' || lpad(i::varchar, 7, '0') as phone, 'First' || (i % 997) as first_name,
                if(i % 20 = 0, 'revoked', 'granted') as email_consent,
                if(i % 10 = 0, 'unknown', 'granted') as sms_consent, 'unknown' as push_consent,
                false as is_erased,
                if(i % 3 = 0, 'Can''t lose them', 'At risk') as segment
            from range({members}) as t(i)"""
        )
        con.execute(
            f"""create table intermediate.int_contact_suppressions as
            select 'email' as channel, email as identifier_value, 'events' as suppression_source,
                'unsubscribe' as reason, timestamp '2026-01-01' as suppressed_at
            from marts.dim_customers where cast(substr(customer_key, 2) as bigint) % {step} = 1
            union all
            select 'sms', phone, 'events', 'STOP', timestamp '2026-01-01'
            from marts.dim_customers where cast(substr(customer_key, 2) as bigint) % {step} = 2"""
        )
        con.execute(f"create table marts.{table} as select customer_key, email, phone, first_name, segment"
                    " from marts.dim_customers")


def change_members(path: Path, table: str) -> int:
    """Change the first name of 1% of the audience; how many rows changed."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        [(changed,)] = con.execute(
            f"update marts.{table} set first_name = first_name || ' B'"
            " where cast(substr(customer_key, 2) as bigint) % 100 = 3"
        ).fetchall()
    return changed


def write_manifest(path: Path, table: str, activation: dict) -> Path:
    node = {"resource_type": "model", "name": table, "schema": "marts", "alias": table,
            "original_file_path": f"models/audiences/{table}.sql", "config": {"meta": {"activation": activation}}}
    path.write_text(json.dumps({"nodes": {f"model.mercator.{table}": node}}))
    return path


def opener(path: Path):
    from mercator.warehouse import connect

    @contextmanager
    def open_warehouse():
        con = connect(path)
        try:
            yield con
        finally:
            con.close()

    return open_warehouse


@contextmanager
def standin(kind: str):
    """The stand-in for `kind` in a process of its own (rate limits lifted), its connection in the environment."""
    from tests.standins.serve import StandinProcess

    if kind == "email":
        from tests.standins.sendgrid_server import API_KEY, SendGridStandin

        unlimited = {name: (10**9, 60.0) for _, _, name in SendGridStandin.ROUTES}
        with StandinProcess("sendgrid", rate_limits=unlimited) as server:
            os.environ["AIRFLOW_CONN_MERCATOR_SENDGRID"] = json.dumps(
                {"conn_type": "sendgrid", "password": API_KEY, "host": server.base_url})
            yield server
    else:
        from tests.standins.twilio_server import ACCOUNT_SID, AUTH_TOKEN, SENDER

        with StandinProcess("twilio") as server:
            os.environ["AIRFLOW_CONN_MERCATOR_TWILIO"] = json.dumps(
                {"conn_type": "twilio", "login": ACCOUNT_SID, "password": AUTH_TOKEN, "host": server.base_url,
                 "extra": {"from_number": SENDER}})
            yield server


def _since(counter: Counter, before: Counter, digits: int = 2) -> dict:
    grown = Counter(counter)
    grown.subtract(before)
    return {k: round(v, digits) for k, v in grown.items() if v}


def timed_run(phases: Phases, server, clocks: dict[str, Counter], warehouse: Path, manifest: Path, run_id: str,
              workdir: Path) -> dict:
    """One activate_all: its summary, seconds, peak MB and requests, per phase and endpoint, and the
    growth of each clock (stand-in handling, garbage collection)."""
    from mercator.activation.runner import activate_all

    before = {name: Counter(clock) for name, clock in clocks.items()}
    standin_before = server.stats()
    phases.reset()
    load, cpu, start = os.getloadavg()[0], time.process_time(), time.perf_counter()
    [summary] = activate_all(opener(warehouse), manifest, run_id, workdir / "reports", ROOT / "dbt_project",
                             journal_dir=workdir)
    seconds = time.perf_counter() - start
    standin_after = server.stats()
    return {
        "summary": summary, "seconds": round(seconds, 2), "cpu_seconds": round(time.process_time() - cpu, 2),
        "load_average": [round(load, 2), round(os.getloadavg()[0], 2)],
        "peak_mb": round(max(phases.peak_mb.values(), default=0)),
        "phase_seconds": {p: round(phases.seconds[p], 2) for p in PHASES if phases.seconds[p]},
        "phase_peak_mb": {p: round(phases.peak_mb[p]) for p in PHASES if phases.peak_mb[p]},
        **{name: _since(clock, before[name]) for name, clock in clocks.items()},
        "standin_seconds": _since(standin_after["handling_seconds"], standin_before["handling_seconds"]),
        "standin_peak_mb": round(standin_after["peak_mb"]),
        "requests": _since(standin_after["requests"], standin_before["requests"], 0),
        "min_upserts": math.ceil(summary["members"] / MAX_CONTACTS),
        "min_upserts_sent": math.ceil(summary["sent"] / MAX_CONTACTS),
    }


def run_scenario(kind: str, members: int, workdir: Path) -> dict:
    """Child mode: build the warehouse, run the first sync and the rerun with 1% changed."""
    import resource

    table, activation = AUDIENCES[kind]
    warehouse = workdir / "warehouse.duckdb"
    start = time.perf_counter()
    build_warehouse(warehouse, members, table)
    result = {"kind": kind, "members": members, "build_seconds": round(time.perf_counter() - start, 2)}
    manifest = write_manifest(workdir / "manifest.json", table, activation)
    with Phases() as phases, standin(kind) as server:
        instrument(phases)
        clocks = {"gc_seconds": gc_clock(phases)}
        result["first"] = timed_run(phases, server, clocks, warehouse, manifest, DAY1, workdir)
        result["changed"] = change_members(warehouse, table)
        result["rerun"] = timed_run(phases, server, clocks, warehouse, manifest, DAY2, workdir)
    result["process_peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def child(kind: str, members: int) -> dict:
    """Run one scenario in a fresh process (its own peak memory) and read its JSON."""
    with tempfile.TemporaryDirectory(prefix="bench-activation-") as workdir:
        done = subprocess.run([sys.executable, __file__, "--scenario", kind, "--members", str(members),
                               "--workdir", workdir], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{kind} {members} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.splitlines()[-1])


GROUPS = {"plan": ("plan", "plan: members", "assignments"),
          "send": ("send", "api: upsert", "api: job status", "api: search", "api: other", "poll wait", "journal"),
          "record": ("record",)}


def _row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _against_minimum(kind: str, run: dict) -> str:
    """Upserts against ceil(sent / 30,000), or SMS requests against messages sent."""
    if kind == "email":
        return f"{run['requests'].get('upsert_contacts', 0)} / {run['min_upserts_sent']}"
    return f"{run['requests'].get('create_message', 0):,} / {run['summary']['sent']:,}"


def print_tables(results: list[dict]) -> None:
    """Markdown: one row per run (phases grouped as plan, send, record), then every phase."""
    print("\n" + _row("audience", "members", "run", "sent", "delivered", "s", "CPU s", "load", "peak MB",
                      *(f"{g} s" for g in GROUPS), "stand-in s", "stand-in peak MB", "gc s", "requests",
                      "upserts or messages / minimum"))
    print(_row(*["---"] * 17))
    for result in results:
        for run in ("first", "rerun"):
            r, s = result[run], result[run]["summary"]
            groups = (sum(r["phase_seconds"].get(p, 0) for p in phases) for phases in GROUPS.values())
            requests = ", ".join(f"{k} {v:,}" for k, v in sorted(r["requests"].items(), key=lambda kv: -kv[1]))
            print(_row(result["kind"], f"{result['members']:,}", run, f"{s['sent']:,}", f"{s.get('delivered', 0):,}",
                       r["seconds"], r["cpu_seconds"], "-".join(map(str, r["load_average"])), f"{r['peak_mb']:,}",
                       *(f"{g:.2f}" for g in groups),
                       f"{sum(r['standin_seconds'].values()):.2f}", f"{r['standin_peak_mb']:,}",
                       f"{sum(r['gc_seconds'].values()):.2f}", requests,
                       _against_minimum(result["kind"], r)))
    print("\nseconds (peak MB) per phase")
    for result in results:
        for run in ("first", "rerun"):
            r = result[run]
            print(f"- {result['kind']} {result['members']:,} {run}: " + ", ".join(
                f"{p} {r['phase_seconds'][p]} ({r['phase_peak_mb'].get(p, '-')})" for p in r["phase_seconds"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, nargs="+", default=[1_000_000], help="email audience sizes")
    parser.add_argument("--sms-members", type=int, default=10_000, help="SMS audience size (0: skip)")
    parser.add_argument("--scenario", choices=tuple(AUDIENCES), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario:
        print(json.dumps(run_scenario(args.scenario, args.members[0], args.workdir)))
        return
    jobs = [("email", n) for n in args.members] + ([("sms", args.sms_members)] if args.sms_members else [])
    results = []
    for kind, members in jobs:
        print(f"{kind} {members} ...", flush=True)
        results.append(child(kind, members))
    print_tables(results)
    out = ROOT / "bench" / "results" / f"activation-{date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
