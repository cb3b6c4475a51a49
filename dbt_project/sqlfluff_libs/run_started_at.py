"""Stand-in for dbt's `run_started_at` when sqlfluff renders models with its jinja templater."""


def strftime(fmt):
    return "2026-01-01 00:00:00.000000"
