"""
### marketing_daily

Mercator's whole flow for one day, in six task groups and a final check:

1. **extract**: every landing entity present -> DuckDB schema `raw` (incremental by delivery;
   bad rows -> `raw.quarantine`). First, `pull_unsubscribes` adds SendGrid's global unsubscribes
   since its last pull to the landing dir's `email/events` (in case the Event Webhook lost some),
   through the Airflow connection named by env MERCATOR_SENDGRID_CONN (default `sendgrid_default`,
   the API key as its password); without that connection it logs that it skipped.
2. **quality_raw**: Great Expectations raw suites; a critical failure stops the run.
3. **transform**: `dbt build` (staging -> identity -> marts, tests, segment snapshot), then the
   Python models (their outputs land in schema `ml`), then `dbt build` of what reads them. With
   param `engine` = `spark`, dbt and the Python models run on a local Spark session instead: the raw
   tables are handed to Spark as Parquet first, and the tables Spark built are copied back into
   DuckDB after the second pass, so the steps below read DuckDB either way (README, Spark).
4. **quality_marts**: Great Expectations mart suites; a critical failure blocks activation.
5. **activate**: `plan_syncs` discovers the audiences (dbt models under models/audiences/) and
   checks their configs; one mapped `sync` task per audience x destination (its own retries and
   log; a failing destination does not stop the others) sends with consent, suppressions, caps and
   holdouts checked at send time; a destination without a connection is skipped and the audience
   goes to the outbox. Nothing is sent twice. Then `run_journeys` evaluates the triggered journeys
   of dbt_project/journeys/ for the as-of day (docs/journeys.md; not in a dry run), and
   `measure_campaigns` writes `marts.campaign_results`: every audience's and journey's sends
   against their holdouts (mercator.experiments).
6. **report**: the marketers' dashboard `reports/dashboard.html`. It runs whatever happened upstream
   (trigger rule `all_done`, after every task): it names the gate and checks that failed or the step
   the run stopped at, and shows a section's last good numbers (labelled with their as-of date) in
   place of numbers that failed the mart gate.
   Before it, `alert_kpis` scores the latest complete day of `marts.kpi_daily` against each KPI's
   baseline and opens or resolves alert episodes (`alerts.episodes`), one message each to Slack
   and/or email through the Airflow connections `mercator_slack` / `mercator_smtp`, else files in
   `reports/alerts/`; a gate that failed or did not run holds back the KPIs it covers and sends one
   data alert instead; a target that is down is retried by the next run (docs/alerts.md; skipped in
   a dry run, `all_done` like the report).
7. **watcher**: fails the run when any task failed, so a failed gate still fails the run though
   the report succeeded (Airflow's watcher pattern, with `all_done` so a clean run is all success).

Params: `landing_dir` (default: env MERCATOR_LANDING or `data/landing`), `dry_run` (plan every audience
sync and record its counts, send nothing), `as_of`
(YYYY-MM-DD; default: the latest date in the data), `engine` (`duckdb` or `spark`; default: env
MERCATOR_ENGINE or `duckdb`) and `dbt_vars` (dbt vars over those of dbt_project.yml for this run:
dbt's `--vars`, also read by activation and the campaign measurement). Every DuckDB write goes through the
`duckdb_writer` pool (one slot): DuckDB allows one writing process at a time. The sync tasks are
the exception: they wait for the write lock only to plan and to record, never while a destination
answers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, chain, dag, get_current_context, task, task_group
from airflow.task.trigger_rule import TriggerRule
from mercator.contract import ENTITIES

DUCKDB_POOL = "duckdb_writer"
UNSUBSCRIBES_ENTITY = "email/events"  # where pull_unsubscribes lands them


def _settings():
    """Settings for this run: environment defaults overridden by the run's params."""
    from mercator.config import Settings

    params = get_current_context()["params"]
    return Settings.from_env().with_run_params(
        params.get("landing_dir"), params.get("as_of"), params.get("engine"), params.get("dbt_vars")
    )


def _gate(check_name: str) -> dict:
    """Run a quality gate, which records its outcome for this run; a critical failure fails the task at
    once (retrying cannot fix data)."""
    from airflow.sdk.exceptions import AirflowFailException
    from mercator import pipeline
    from mercator.quality import QualityGateFailed

    try:
        return getattr(pipeline, check_name)(_settings(), get_current_context()["run_id"])
    except QualityGateFailed as failure:
        raise AirflowFailException(str(failure)) from failure


def _other_task_states() -> dict[str, str]:
    """State of every other task of this run (task id -> `success`, `failed`, `upstream_failed`...)."""
    context = get_current_context()
    ti, run_id = context["ti"], context["run_id"]
    states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[run_id]).get(run_id, {})
    return {task_id: state for task_id, state in states.items() if task_id != ti.task_id}


@dag(
    dag_id="marketing_daily",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["mercator", "marketing"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1), "pool": DUCKDB_POOL},
    params={
        "landing_dir": Param("", type="string", description="Landing folder; empty = default"),
        "as_of": Param("", type="string", description="YYYY-MM-DD; empty = latest date in the data"),
        "dry_run": Param(False, type="boolean", description="Plan every audience sync, send nothing"),
        "engine": Param("", type="string", enum=["", "duckdb", "spark"],
                        description="Where dbt and the Python models run; empty = env MERCATOR_ENGINE or duckdb"),
        "dbt_vars": Param({}, type="object", description="dbt vars over dbt_project.yml's for this run"),
    },
)
def marketing_daily():
    @task
    def prepare_warehouse() -> None:
        from mercator import pipeline

        pipeline.prepare_warehouse(_settings())

    @task_group
    def extract():
        # Not in the DuckDB writer pool: it waits for SendGrid and writes only the landing dir.
        @task(pool="default_pool")
        def pull_unsubscribes() -> dict:
            from mercator import pipeline

            return pipeline.pull_unsubscribes(_settings())

        pulled = pull_unsubscribes()
        for entity in ENTITIES:

            @task(task_id=f"load_{entity.raw_table}")
            def load(entity_path: str = entity.path) -> dict:
                from mercator import pipeline

                return pipeline.extract_entity(_settings(), entity_path, get_current_context()["run_id"])

            loaded = load()
            if entity.path == UNSUBSCRIBES_ENTITY:
                pulled >> loaded

    @task_group
    def quality_raw():
        @task
        def validate_raw() -> dict:
            return _gate("check_raw")

        validate_raw()

    @task_group
    def transform():
        @task(retries=0)
        def dbt_build() -> None:
            from mercator import pipeline

            pipeline.transform(_settings())

        @task(retries=0)
        def dbt_build_scored() -> None:
            from mercator import pipeline

            pipeline.transform_scored(_settings())

        @task
        def attribute() -> dict:
            from mercator import pipeline

            return pipeline.attribute(_settings())

        @task
        def fit_clv() -> dict:
            from mercator import pipeline

            return pipeline.fit_clv(_settings())

        core, scored = dbt_build(), dbt_build_scored()
        core >> scored
        core >> fit_clv() >> scored
        core >> attribute() >> scored

    @task_group
    def quality_marts():
        @task
        def validate_marts() -> dict:
            return _gate("check_marts")

        validate_marts()

    @task_group
    def activate():
        @task
        def plan_syncs() -> list[dict]:
            from mercator import pipeline

            return pipeline.plan_activation(_settings())

        # Not in the DuckDB writer pool: a sync opens the warehouse only to plan and to record, and
        # waits for the write lock then, never while a destination answers.
        @task(pool="default_pool", retries=2)
        def sync(target: dict) -> dict:
            from mercator import pipeline

            context = get_current_context()
            return pipeline.sync_audience(
                _settings(), target["audience"], target["destination"], context["run_id"],
                bool(context["params"].get("dry_run")),
            )

        @task
        def run_journeys() -> list[dict]:
            from mercator import pipeline

            context = get_current_context()
            if context["params"].get("dry_run"):
                return []
            return pipeline.run_journeys(_settings(), context["run_id"])

        @task
        def measure_campaigns() -> int:
            from mercator import pipeline

            return pipeline.measure_campaigns(_settings())

        sync.expand(target=plan_syncs()) >> run_journeys() >> measure_campaigns()

    @task_group
    def report():
        @task(trigger_rule=TriggerRule.ALL_DONE)
        def alert_kpis() -> dict:
            from airflow.sdk.exceptions import AirflowSkipException
            from mercator import pipeline

            context = get_current_context()
            if context["params"].get("dry_run"):
                raise AirflowSkipException("dry run: no KPI alerts")
            return pipeline.alert_kpis(_settings(), context["run_id"], _other_task_states())

        @task(trigger_rule=TriggerRule.ALL_DONE)
        def build_dashboard() -> str:
            from mercator import pipeline

            return pipeline.report(_settings(), get_current_context()["run_id"], _other_task_states())

        alert_kpis() >> build_dashboard()

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def watcher() -> None:
        """Fail the run when any other task failed or did not run because of a failure."""
        from airflow.sdk.exceptions import AirflowFailException

        failed = sorted(t for t, s in _other_task_states().items() if s in ("failed", "upstream_failed"))
        if failed:
            raise AirflowFailException(f"this run failed; tasks failed or not run: {', '.join(failed)}")

    steps = [prepare_warehouse(), extract(), quality_raw(), transform(), quality_marts(), activate()]
    chain(*steps)
    dashboard = report()
    # The report's tasks wait for every task, not only for activate: a failure upstream of activate marks
    # it upstream_failed at once, while other branches may still be running.
    upstream = [t for t in dashboard.dag.tasks if not dashboard.has_task(t)]
    for reporting_task in dashboard.children.values():
        upstream >> reporting_task
    dashboard >> watcher()


marketing_daily()
