"""Campaign lift against per-audience holdouts, from sufficient statistics per group.

`lift` holds the statistics of the two metrics (conversion rate, revenue per member, with
optional CUPED). Pure Python: the sums come from SQL.
"""

from __future__ import annotations

from mercator.experiments.lift import GroupStats, Lift, conversion_lift, cuped_theta, revenue_per_member_lift

__all__ = ["GroupStats", "Lift", "conversion_lift", "cuped_theta", "revenue_per_member_lift"]
