"""The quality gate: Great Expectations suites run on the DuckDB warehouse."""

from mercator.quality.runner import QualityGateFailed, SuiteResult, gate, run_suite, run_suites

__all__ = ["QualityGateFailed", "SuiteResult", "gate", "run_suite", "run_suites"]
