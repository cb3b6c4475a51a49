"""Campaign lift against per-audience holdouts, from sufficient statistics per group.

`lift` holds the statistics of the two metrics (conversion rate, revenue per member, with
optional CUPED), `design` the checks of the split and the minimum detectable effects, and
`result` turns two `GroupStats` into one `CampaignResult` (a row of `marts.campaign_results`)
with incremental revenue, ROI and a verdict. Pure Python: the sums come from SQL.
"""

from __future__ import annotations

from mercator.experiments.design import conversion_mde, revenue_per_member_mde, sample_ratio_mismatch
from mercator.experiments.lift import GroupStats, Lift, conversion_lift, cuped_theta, revenue_per_member_lift
from mercator.experiments.result import CampaignResult, VerdictRules, campaign_result

__all__ = [
    "CampaignResult",
    "GroupStats",
    "Lift",
    "VerdictRules",
    "campaign_result",
    "conversion_lift",
    "conversion_mde",
    "cuped_theta",
    "revenue_per_member_lift",
    "revenue_per_member_mde",
    "sample_ratio_mismatch",
]
