"""Reports for marketers, written under `reports/`."""

from mercator.reporting.dashboard import build_dashboard

__all__ = ["build_dashboard"]
