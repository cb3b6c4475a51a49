"""Model card for a CLV run: `models/clv/<as_of>/model_card.md`, `params.json` and diagnostics plots."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from mercator.clv.engine import PURCHASE_MODEL_NAMES, FitConfig, bgnbd_p_purchases, to_time_unit
from mercator.clv.run import FREQUENCY_BINS, ClvRun
from mercator.clv.selection import TIE_TOLERANCE

MODEL_CHOICE = (
    "BG/NBD, MBG/NBD and Pareto/NBD are fitted on the calibration period and predict each customer's"
    " purchases in the holdout after it. The model with the lowest per-customer RMSE of predicted vs"
    " actual holdout purchases scores: an expected count is what minimises squared error, so RMSE"
    " rewards the right mean for each customer (MAE rewards the median, 0 for most customers)."
    f" RMSEs within {TIE_TOLERANCE:g} (relative) go to the simpler model (BG/NBD, then MBG/NBD, then"
    " Pareto/NBD); a model that fell back is not eligible, and when the chosen model's as-of fit falls"
    " back the next one scores. BG/NBD lets customers drop out only after a repeat purchase, so it gives"
    " every one-time buyer P(alive) = 1 whatever their recency; MBG/NBD (drop-out also right after the"
    " first purchase) and Pareto/NBD (drop-out at any time) let it fall with recency. Pareto/NBD, the slow"
    f" fit, runs on a seeded sample of at most {FitConfig().pareto_max_customers:,} customers (by default)."
    " BG/NBD's parameters stay in the params"
    " table for comparison with published results."
)
RECENCY_BANDS_DAYS = (0, 30, 90, 180, 360, 540, 720)

INTERVAL_METHOD = (
    "Delta method on the log scale over the fitted parameters' uncertainty (inverse observed information"
    " of each fit): CLV * exp(-z se) .. CLV * exp(z se). It always contains the point estimate. It covers"
    " each customer's expected CLV under the true parameters, not the randomness of the customer's own"
    " purchases. Coverage is claimed when both models are `fitted`: in simulation from the BG/NBD +"
    " Gamma-Gamma generator, the 90% interval covered the true expected CLV for 90.7% of customers at 2,000"
    " customers per data set (200 data sets) and 89.0% at 500 (tests/mercator/clv/test_interval_coverage.py)."
    " For a fallback it spans only its heuristic's population parameter: no coverage is claimed."
)


def _repeat_frequency_plot(run: ClvRun, path: Path) -> None:
    import matplotlib.pyplot as plt

    x = run.summary["frequency"].to_numpy(dtype=float)
    observed = np.bincount(np.minimum(x, FREQUENCY_BINS - 1).astype(int), minlength=FREQUENCY_BINS)
    bins = np.arange(FREQUENCY_BINS)
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.4
    ax.bar(bins - width / 2, observed, width, label="observed")
    if run.bgnbd.params is not None:
        ages, counts = np.unique(
            to_time_unit(run.summary["T"].to_numpy(), run.bgnbd.time_unit), return_counts=True
        )
        expected = [float(counts @ bgnbd_p_purchases(run.bgnbd.params, ages, n)) for n in bins[:-1]]
        ax.bar(bins + width / 2, [*expected, len(x) - sum(expected)], width, label="BG/NBD")
    ax.set(xlabel="repeat purchases", ylabel="customers", title="Repeat purchases: observed vs model")
    ax.set_xticks(bins, [*map(str, bins[:-1]), f"{FREQUENCY_BINS - 1}+"])
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def _holdout_plot(run: ClvRun, path: Path) -> None:
    import matplotlib.pyplot as plt

    table = run.validation.by_frequency
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(table["frequency"], table["actual"], marker="o", label="actual")
    ax.plot(table["frequency"], table["predicted"], marker="s",
            label=f"{PURCHASE_MODEL_NAMES[run.validation.chosen]} predicted")
    ax.set(
        xlabel=f"repeat purchases in calibration ({FREQUENCY_BINS - 1} = {FREQUENCY_BINS - 1}+)",
        ylabel=f"mean purchases in the {run.validation.holdout_days}-day holdout",
        title="Calibration vs holdout",
    )
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def _p_alive_plot(run: ClvRun, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(run.scores["p_alive"], bins=50, range=(0, 1))
    ax.set(xlabel="P(alive)", ylabel="customers", title=f"P(alive) at {run.as_of}")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def _markdown_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    cells = frame.map(lambda value: f"{value:.6g}" if isinstance(value, float) else str(value))
    return header + "\n".join("| " + " | ".join(row) + " |" for row in cells.to_numpy().tolist())


def _candidates_table(run: ClvRun) -> pd.DataFrame:
    v = run.validation
    return pd.DataFrame([
        {"model": name, "method": c.model.method, "status": c.model.status,
         "holdout_rmse": c.root_mean_squared_error if c.eligible else float("nan"),
         "holdout_mae": c.mean_absolute_error if c.eligible else float("nan"),
         "predicted": c.predicted_purchases if c.eligible else float("nan"),
         "actual": c.actual_purchases, "fit_seconds": c.fit_seconds,
         "scores": "yes" if name == run.purchase_model.model else ""}
        for name, c in v.candidates.items()
    ])


def one_time_buyers_p_alive(run: ClvRun) -> pd.DataFrame:
    """Mean P(alive) of customers without a repeat purchase, by days since their purchase."""
    summary = run.summary.assign(p_alive=run.scores["p_alive"].to_numpy())
    one_time = summary[summary["frequency"] == 0]
    days = (one_time["T"] - one_time["recency"]).to_numpy(dtype=float)
    band = np.digitize(days, RECENCY_BANDS_DAYS[1:])
    labels = [f"{low}-{high}" for low, high in itertools.pairwise(RECENCY_BANDS_DAYS)]
    labels.append(f"{RECENCY_BANDS_DAYS[-1]}+")
    table = one_time.groupby(band)["p_alive"].agg(customers="size", mean_p_alive="mean").reset_index()
    return table.assign(days_since_purchase=[labels[b] for b in table.pop("index")])[
        ["days_since_purchase", "customers", "mean_p_alive"]
    ]


def _validation_facts(run: ClvRun) -> dict:
    if run.validation is None:
        return {}
    v = run.validation
    return {
        "holdout_days": v.holdout_days,
        "calibration_bgnbd_method": v.bgnbd.method,
        "purchase_models": {name: {"status": c.model.status, **c.metrics()} for name, c in v.candidates.items()},
        "chosen_on_holdout": v.chosen,
        "holdout_mean_absolute_error": v.mean_absolute_error,
        "holdout_root_mean_squared_error": v.root_mean_squared_error,
        "holdout_predicted_purchases": v.predicted_purchases,
        "holdout_actual_purchases": v.actual_purchases,
        "churn_holdout_auc": v.churn.holdout_auc,
        "churn_coefficients": v.churn.coefficients,
    }


def write_model_card(run: ClvRun, models_dir: Path) -> Path:
    """Write the card, params.json and plots under `<models_dir>/clv/<as_of>/`; return that folder."""
    import matplotlib

    matplotlib.use("Agg")
    folder = Path(models_dir) / "clv" / run.as_of
    folder.mkdir(parents=True, exist_ok=True)
    facts = {
        "as_of": run.as_of,
        "bg_nbd_method": run.bgnbd.method,
        "purchase_model": run.purchase_model.model,
        "gamma_gamma_method": run.gamma_gamma.method,
        "model_status": run.model_statuses.to_dict(orient="records"),
        "frequency_spend_correlation": run.gamma_gamma.frequency_spend_correlation,
        "warnings": list(run.warnings),
        "params": run.params.to_dict(orient="records"),
        "validation": _validation_facts(run),
    }
    (folder / "params.json").write_text(json.dumps(facts, indent=2, default=float) + "\n")
    plots = {"repeat_frequency.png": _repeat_frequency_plot, "p_alive.png": _p_alive_plot}
    if run.validation is not None:
        plots["holdout_calibration.png"] = _holdout_plot
    for name, draw in plots.items():
        draw(run, folder / name)

    scores = run.scores
    lines = [
        f"# CLV model card, as of {run.as_of}",
        "",
        f"{PURCHASE_MODEL_NAMES[run.purchase_model.model]} (purchases; chosen on the holdout, below) and",
        "Gamma-Gamma (order value) fitted by maximum likelihood with `lifetimes` on the distinct",
        "(frequency, recency, T) patterns weighted by customer count.",
        "",
        "## Data",
        f"- customers: {len(scores)}; repeat buyers: {run.bgnbd.n_repeat_buyers}",
        f"- frequency/spend correlation among repeat buyers (Gamma-Gamma assumes ~0): "
        f"{run.gamma_gamma.frequency_spend_correlation:.3f}",
        "",
        "## Model status",
        "`fitted` means all is well; anything else is a warning, with the reason and the fallback used.",
        "",
        _markdown_table(run.model_statuses.fillna("")),
        "",
        "## Parameters",
        f"- BG/NBD method: `{run.bgnbd.method}`; scoring purchase model: `{run.purchase_model.model}`"
        f" (`{run.purchase_model.method}`); Gamma-Gamma method: `{run.gamma_gamma.method}`",
        "",
        _markdown_table(run.params.drop(columns=["status", "status_reason", "fallback"])),
        "",
        "## CLV interval",
        INTERVAL_METHOD,
        "",
        "## Warnings",
        *([f"- {note}" for note in run.warnings] or ["- none"]),
        "",
        "## Scores",
        _markdown_table(
            scores.drop(columns="customer_key")
            .describe()
            .T.reset_index(names="score")[["score", "mean", "min", "50%", "max"]]
        ),
        "",
        "Churn tiers: " + ", ".join(f"{k} {v}" for k, v in scores["churn_tier"].value_counts().items()),
        "",
    ]
    if run.validation is not None:
        v = run.validation
        lines += [
            f"## Purchase model choice ({v.holdout_days}-day holdout)",
            MODEL_CHOICE,
            "",
            _markdown_table(_candidates_table(run)),
            "",
            "P(alive) of one-time buyers by days since their purchase:",
            "",
            _markdown_table(one_time_buyers_p_alive(run)),
            "",
            f"## Holdout validation ({v.holdout_days} days before the as-of date)",
            f"- {PURCHASE_MODEL_NAMES[v.chosen]}: purchases predicted {v.predicted_purchases:.1f},"
            f" actual {v.actual_purchases:.0f}",
            f"- per-customer MAE {v.mean_absolute_error:.4f}, RMSE {v.root_mean_squared_error:.4f}",
            "- churn (no purchase in 30 days) AUC on held-out customers: "
            + ", ".join(f"{name} {auc:.3f}" for name, auc in v.churn.holdout_auc.items()),
            "",
            _markdown_table(v.by_frequency),
            "",
            "![calibration vs holdout](holdout_calibration.png)",
            "",
        ]
    lines += [
        "## Diagnostics",
        "",
        "![repeat purchases](repeat_frequency.png)",
        "",
        "![P(alive)](p_alive.png)",
        "",
    ]
    (folder / "model_card.md").write_text("\n".join(lines))
    return folder
