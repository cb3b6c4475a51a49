"""The quality suites as data: which table each checks and what it expects.

Every expectation carries a severity: a failed `critical` one stops the run (the
gate raises), a failed `warning` one is reported and the run goes on. Accepted
values, required columns and keys come from the landing contract, never from a copy
of it. Checks whose bound depends on the run (freshness, dates in the future) refer
to the suite parameters `FRESH_SINCE` and `LATEST_ALLOWED`, which the runner computes
from the run's as-of date and the tolerances in `QualityParams`.

Which layer checks what (GX here, dbt tests during the build): see README.md,
"Which layer checks what".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mercator.contract import BY_PATH, CONSENT, ENTITIES, LOAD_METADATA_COLUMNS, Entity

CRITICAL = "critical"
WARNING = "warning"

# Suite parameters, filled in per run (see runner.expectation_parameters).
FRESH_SINCE = "fresh_since"  # the latest record must be on or after this date
LATEST_ALLOWED = "latest_allowed"  # no record may be dated after this date


@dataclass(frozen=True)
class Check:
    """One GX expectation: its class name in `gx.expectations`, its arguments and severity."""

    expectation: str
    kwargs: dict = field(default_factory=dict)
    severity: str = CRITICAL
    description: str = ""  # shown in Data Docs and in the gate's report; say what a failure means


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    table: str
    checks: tuple[Check, ...]
    entity_path: str | None = None  # raw suites: the landing entity whose deliveries fill the table

    @property
    def query(self) -> str:
        return f"select * from {self.table}"

    @property
    def schema(self) -> str:
        return self.table.split(".")[0]


# ---------------------------------------------------------------------------------------------
# Helpers: one expectation each. Use them for new suites.
# ---------------------------------------------------------------------------------------------


def _not_null(column: str, severity: str = CRITICAL) -> Check:
    return Check("ExpectColumnValuesToNotBeNull", {"column": column}, severity)


def _unique(column: str, severity: str = CRITICAL) -> Check:
    return Check("ExpectColumnValuesToBeUnique", {"column": column}, severity)


def _in_set(column: str, values: tuple, severity: str) -> Check:
    return Check("ExpectColumnValuesToBeInSet", {"column": column, "value_set": list(values)}, severity)


def _at_least(column: str, minimum: float, severity: str) -> Check:
    return Check("ExpectColumnValuesToBeBetween", {"column": column, "min_value": minimum}, severity)


def _not_before(later: str, earlier: str, severity: str) -> Check:
    return Check(
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {
            "column_A": later,
            "column_B": earlier,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
        severity,
    )


def _has_rows(severity: str = CRITICAL) -> Check:
    return Check("ExpectTableRowCountToBeBetween", {"min_value": 1}, severity)


def _has_columns(columns: tuple[str, ...] | list[str], severity: str = CRITICAL) -> Check:
    """The table has at least these columns (extra columns are allowed)."""
    return Check(
        "ExpectTableColumnsToMatchSet", {"column_set": list(columns), "exact_match": False}, severity
    )


def _not_in_future(column: str, severity: str) -> Check:
    """No value later than the run's `LATEST_ALLOWED` date (now + tolerance)."""
    return Check(
        "ExpectColumnMaxToBeBetween", {"column": column, "max_value": {"$PARAMETER": LATEST_ALLOWED}}, severity
    )


def _fresh(column: str, severity: str = WARNING) -> Check:
    """The latest value is no older than the run's `FRESH_SINCE` date (as-of - freshness days)."""
    return Check(
        "ExpectColumnMaxToBeBetween", {"column": column, "min_value": {"$PARAMETER": FRESH_SINCE}}, severity
    )


def _no_rows(query: str, description: str, severity: str) -> Check:
    """Custom SQL run in the warehouse: any row it returns is a failure.

    `{batch}` stands for the suite's table as an aliased subquery: to name it, wrap it,
    `from (select * from {batch}) as orders`.
    """
    return Check("UnexpectedRowsExpectation", {"unexpected_rows_query": " ".join(query.split())}, severity,
                 description)


def _customers_exist(description: str, condition: str = "") -> Check:
    """Every row's customer_key is in dim_customers (`condition`: more it must meet there)."""
    return _no_rows(
        f"""select checked.* from (select * from {{batch}}) as checked
            where not exists (select 1 from marts.dim_customers as customers
                              where customers.customer_key = checked.customer_key {condition})""",
        description,
        CRITICAL,
    )


# ---------------------------------------------------------------------------------------------
# Raw suites: one per landing entity, derived from the contract.
# ---------------------------------------------------------------------------------------------

# The column that dates each record: checked against the future and for freshness.
EVENT_TIME = {
    "shop/orders": "ordered_at",
    "pos/transactions": "occurred_at",
    "web/events": "occurred_at",
    "app/events": "occurred_at",
    "email/events": "timestamp",
    "sms/events": "timestamp",
    "ads/spend": "date",
}
# A raw value outside the contract (unknown consent or status, negative amount, future date) is
# reported as a warning: staging maps it to a safe value (unknown consent, unknown status, not
# countable, future-dated) and the mart suites check what activation reads. Critical on raw: the
# table's shape, required values, and rows when a delivery had some.

_RAW_EXTRAS: dict[str, tuple[Check, ...]] = {
    "shop/orders": (
        _not_before("total_amount", "refunded_amount", WARNING),
        Check("ExpectColumnValueLengthsToEqual", {"column": "currency", "value": 3}, WARNING),
    ),
    "shop/order_items": (
        _at_least("quantity", 1, WARNING),
        _no_rows(
            """select items.* from (select * from {batch}) as items
               where not exists (select 1 from raw.shop__orders as orders
                                 where orders.order_id = items.order_id)""",
            "every order item belongs to a delivered order (raw.shop__orders)",
            WARNING,
        ),
    ),
    "pos/transactions": (
        Check("ExpectColumnValueLengthsToEqual", {"column": "currency", "value": 3}, WARNING),
    ),
    "crm/contacts": (_not_before("updated_at", "created_at", WARNING),),
}


def raw_checks(e: Entity) -> tuple[Check, ...]:
    """Schema, required (and key) columns, accepted values, amounts, dates and freshness of one entity.

    Raw keeps every delivered version of a record (later versions restate it), so keys are not
    unique here: staging deduplicates them and dbt tests the staged keys.
    """
    checks = [
        _has_rows(),
        _has_columns([c.name for c in e.columns] + list(LOAD_METADATA_COLUMNS)),
        *(_not_null(c) for c in e.required),
    ]
    for column in e.columns:
        if column.accepted:
            checks.append(_in_set(column.name, column.accepted, WARNING))
        if column.type == "money":
            checks.append(_at_least(column.name, 0, WARNING))
    if e.path in EVENT_TIME:
        checks += [_not_in_future(EVENT_TIME[e.path], WARNING), _fresh(EVENT_TIME[e.path])]
    checks += _RAW_EXTRAS.get(e.path, ())
    return tuple(checks)


def _raw_suite(e: Entity) -> SuiteSpec:
    return SuiteSpec(f"raw_{e.source}_{e.name}", f"raw.{e.raw_table}", raw_checks(e), entity_path=e.path)


# Across entities: a landing without orders and store sales still runs (customers come from the
# CRM and events) but every purchase-based mart stays empty; the raw gate says which input is missing.
SALES_INPUTS = ("shop/orders", "pos/transactions")

_DELIVERIES_SUITE = SuiteSpec(
    "raw_deliveries",
    "raw._deliveries",
    (
        _has_columns(("source", "entity", "file", "rows_in", "rows_loaded", "rows_quarantined")),
        _no_rows(
            "select deliveries.* from (select count(*) as files from {batch}) as deliveries where "
            + " and ".join(f"not exists (select 1 from raw.{BY_PATH[path].raw_table})" for path in SALES_INPUTS),
            f"orders or store sales delivered ({' or '.join(SALES_INPUTS)}): without either, RFM, CLV, "
            "churn and attribution stay empty",
            WARNING,
        ),
    ),
)


# ---------------------------------------------------------------------------------------------
# Mart suites: the invariants activation and the dashboard rely on (dbt tests keys at build).
# A check is critical when acting on the failing rows would do harm: a wrong or unknown consent,
# a customer who does not exist, a duplicate or missing key, a table activation cannot read (or an
# empty one, which a mirror-mode sync would take as "remove everyone"). Anything else is a warning
# that names the column and the count of affected rows: the dashboard shows it beside the numbers.
# The reasoning per suite is in README.md, "Which layer checks what".
# ---------------------------------------------------------------------------------------------

_CONSENT_COLUMNS = ("email_consent", "sms_consent", "push_consent", "ads_consent")
_SCORES = (1, 2, 3, 4, 5)
_SCORE_COLUMNS = ("r_score", "f_score", "m_score", "fm_score")

_CORE_MARTS = (
    SuiteSpec(
        "marts_dim_customers",
        "marts.dim_customers",
        (
            _has_rows(),
            _has_columns(("customer_key", "email", "phone", "first_name", "country", *_CONSENT_COLUMNS,
                          "is_erased", "first_order_at", "last_order_at", "order_count", "net_revenue")),
            _not_null("customer_key"),
            _unique("customer_key"),
            _not_null("is_erased"),  # activation skips the erased: an unknown flag could contact one
            *(_not_null(c) for c in _CONSENT_COLUMNS),
            *(_in_set(c, CONSENT, CRITICAL) for c in _CONSENT_COLUMNS),
            _at_least("order_count", 0, WARNING),
            _at_least("net_revenue", 0, WARNING),
            _not_before("last_order_at", "first_order_at", WARNING),
        ),
    ),
    SuiteSpec(
        "marts_customer_identities",
        "marts.customer_identities",
        (
            _has_rows(),
            _has_columns(("customer_key", "identifier_type", "identifier_value", "sources",
                          "first_seen_at", "last_seen_at", "is_excluded", "exclusion_reason")),
            _no_rows(
                "select * from {batch} where customer_key is null and not is_excluded",
                "every identifier kept for linking resolves to a customer",
                CRITICAL,
            ),
            _not_before("last_seen_at", "first_seen_at", WARNING),
        ),
    ),
    SuiteSpec(
        "marts_customer_journey_events",
        "marts.customer_journey_events",
        (
            _has_columns(("customer_key", "event_name", "event_id", "occurred_at")),
            _not_null("customer_key"),  # journeys enter customers: an event of nobody would enter no one
            _not_null("occurred_at"),
            _in_set("event_name", ("identified", "begin_checkout", "order"), CRITICAL),
            _no_rows(
                "select event_name, event_id from {batch} group by all having count(*) > 1",
                "each event enters a journey once (event_name, event_id unique)",
                CRITICAL,
            ),
        ),
    ),
    SuiteSpec(
        "marts_fct_orders",
        "marts.fct_orders",
        (
            _has_rows(WARNING),  # a shop with no sales yet (CRM only) still gets its customers
            _has_columns(("order_key", "order_source", "source_order_id", "customer_key", "ordered_at",
                          "currency", "gross_amount", "discount_amount", "refunded_amount", "net_amount",
                          "status", "is_countable")),
            _no_rows(
                """select orders.* from (select * from {batch}) as orders
                   where orders.customer_key is not null
                     and not exists (select 1 from marts.dim_customers as customers
                                     where customers.customer_key = orders.customer_key)""",
                "every order has a customer in dim_customers or is anonymous (customer_key null)",
                CRITICAL,
            ),
            _at_least("net_amount", 0, WARNING),
            _not_before("gross_amount", "net_amount", WARNING),
        ),
    ),
    SuiteSpec(
        "marts_customer_rfm",
        "marts.customer_rfm",
        (
            _has_rows(WARNING),
            _has_columns(("customer_key", "recency_days", "frequency", "monetary", "r_score", "f_score",
                          "m_score", "fm_score", "segment", "as_of")),
            _not_null("customer_key"),
            _unique("customer_key"),
            *(_not_null(c, WARNING) for c in _SCORE_COLUMNS),
            *(_in_set(c, _SCORES, WARNING) for c in _SCORE_COLUMNS),
            _at_least("recency_days", 0, WARNING),
            _at_least("frequency", 1, WARNING),
            _customers_exist("every scored customer is in dim_customers"),
        ),
    ),
    SuiteSpec(
        "marts_customer_key_merges",
        "marts.customer_key_merges",
        (
            _has_columns(("absorbed_key", "survivor_key", "merged_at", "invocation_id")),
            _no_rows(
                "select * from {batch} where absorbed_key = survivor_key",
                "a key is never merged into itself",
                CRITICAL,
            ),
        ),
    ),
    *(
        SuiteSpec(
            f"marts_{name}",
            f"marts.{name}",
            (
                _has_columns(("customer_key", identifier, "audience")),
                _not_null("customer_key"),
                _unique("customer_key"),  # a duplicate would be a double send
                _not_null(identifier, WARNING),  # activation counts members without an address, sends them nothing
                _customers_exist(f"every member has granted {consent.replace('_', ' ')}",
                                 f"and customers.{consent} = 'granted'"),
            ),
        )
        for name, identifier, consent in (
            ("audience_at_risk_email", "email", "email_consent"),
            ("audience_winback_sms", "phone", "sms_consent"),
            ("audience_welcome_webhook", "email", "email_consent"),
            ("audience_high_value_ads", "email", "ads_consent"),
        )
    ),
)

# ---------------------------------------------------------------------------------------------
# Suites of the CLV and attribution marts; after editing any suite run
# `python -m mercator.quality.project`.
# ---------------------------------------------------------------------------------------------

# --- CLV ---
_CLV_MARTS: tuple[SuiteSpec, ...] = (
    SuiteSpec(
        "marts_customer_clv",
        "marts.customer_clv",
        (
            _has_rows(WARNING),
            _has_columns(("customer_key", "expected_purchases_30d", "expected_purchases_90d",
                          "expected_purchases_365d", "p_alive", "expected_order_value", "clv", "clv_lower",
                          "clv_upper", "churn_tier", "as_of")),
            _not_null("customer_key"),
            _unique("customer_key"),
            _not_null("p_alive", WARNING),
            Check("ExpectColumnValuesToBeBetween", {"column": "p_alive", "min_value": 0, "max_value": 1}, WARNING),
            _not_null("clv", WARNING),
            _at_least("clv", 0, WARNING),
            *(_at_least(c, 0, WARNING) for c in ("expected_purchases_30d", "expected_purchases_90d",
                                                 "expected_purchases_365d", "expected_order_value")),
            _not_null("clv_lower", WARNING),
            _not_null("clv_upper", WARNING),
            _not_before("clv", "clv_lower", WARNING),
            _not_before("clv_upper", "clv", WARNING),
            _in_set("churn_tier", ("light", "moderate", "severe"), WARNING),
            _customers_exist("every scored customer is in dim_customers"),
        ),
    ),
    SuiteSpec(
        "marts_clv_model_params",
        "marts.clv_model_params",
        (
            _has_rows(WARNING),
            _has_columns(("model", "parameter", "method", "value", "time_unit", "as_of", "n_customers",
                          "log_likelihood", "status", "status_reason", "fallback")),
            _in_set("model", ("bg_nbd", "mbg_nbd", "pareto_nbd", "gamma_gamma", "churn"), WARNING),
            _in_set("method", ("mle", "mle_penalized", "logistic_regression", "heuristic"), WARNING),
            _not_null("value", WARNING),
            _at_least("value", 0, WARNING),
            Check("ExpectColumnValuesToBeInSet", {"column": "status", "value_set": ["fitted"]}, WARNING,
                  "every model fitted; otherwise status_reason says why and fallback what was used"),
        ),
    ),
    SuiteSpec(  # minimal suite added by the quality owner so every mart has one; refine freely
        "marts_customer_lifecycle",
        "marts.customer_lifecycle",
        (
            _has_rows(WARNING),
            _has_columns(("customer_key", "lifecycle_stage", "churn_tier", "p_alive", "clv",
                          "days_since_first_purchase", "days_since_last_purchase", "as_of")),
            _customers_exist("every customer with a lifecycle stage is in dim_customers"),
        ),
    ),
)

# --- attribution ---
def _unique_key(columns: tuple[str, ...]) -> Check:
    key = ", ".join(columns)
    return _no_rows(
        f"select {key} from (select * from {{batch}}) as t group by {key} having count(*) > 1",
        f"one row per ({key})",
        CRITICAL,
    )


_ATTRIBUTION_MARTS: tuple[SuiteSpec, ...] = (
    SuiteSpec(
        "marts_attribution_paths",
        "marts.attribution_paths",
        (
            _has_rows(WARNING),
            _has_columns(("path", "conversions", "non_conversions", "conversion_value")),
            _not_null("path"),
            _unique("path"),
            _at_least("conversions", 0, WARNING),
            _at_least("non_conversions", 0, WARNING),
        ),
    ),
    SuiteSpec(
        "marts_attribution_credits",
        "marts.attribution_credits",
        (
            _has_rows(WARNING),
            _has_columns(("order_key", "touchpoint_id", "model", "channel", "campaign", "credit", "revenue",
                          "conversion_date", "is_new_customer")),
            *(_not_null(c) for c in ("order_key", "touchpoint_id", "model", "channel")),
            _not_null("credit", WARNING),
            Check("ExpectColumnValuesToBeBetween", {"column": "credit", "min_value": 0, "max_value": 1}, WARNING),
            # The key and the credit sums are dbt tests of this model (unique_combination,
            # credits_sum_to_orders): not repeated here, where they took 20 s of the gate at 1M customers.
        ),
    ),
    SuiteSpec(
        "marts_attribution_by_channel",
        "marts.attribution_by_channel",
        (
            _has_rows(WARNING),
            _has_columns(("model", "channel", "conversions", "revenue", "conversion_share")),
            _not_null("model"),
            _not_null("channel"),
            _at_least("conversions", 0, WARNING),
            _unique_key(("model", "channel")),
        ),
    ),
    SuiteSpec(
        "marts_channel_performance",
        "marts.channel_performance",
        (
            _has_rows(WARNING),
            _has_columns(("model", "week_start", "channel", "campaign", "spend", "conversions", "revenue",
                          "new_customers", "roas", "cpa", "cac")),
            _not_null("spend", WARNING),
            _at_least("spend", 0, WARNING),
            _at_least("conversions", 0, WARNING),
            _unique_key(("model", "week_start", "channel", "campaign")),
        ),
    ),
    SuiteSpec(  # minimal suite added by the quality owner so every mart has one; refine freely
        "marts_attribution_by_channel_daily",
        "marts.attribution_by_channel_daily",
        (
            _has_rows(WARNING),
            _has_columns(("model", "channel", "conversion_date", "conversions", "revenue",
                          "new_customer_conversions")),
            _not_null("conversion_date"),
            _at_least("conversions", 0, WARNING),
        ),
    ),
)

# --- KPI alerts ---
_KPI_MARTS: tuple[SuiteSpec, ...] = (
    SuiteSpec(
        "marts_kpi_daily",
        "marts.kpi_daily",
        (
            _has_rows(WARNING),
            _has_columns(("kpi_date", "kpi", "channel", "value", "volume", "as_of")),
            *(_not_null(c) for c in ("kpi_date", "kpi", "channel")),
            _at_least("volume", 0, WARNING),
            _unique_key(("kpi_date", "kpi", "channel")),
        ),
    ),
)

SUITES: dict[str, SuiteSpec] = {
    spec.name: spec
    for spec in (
        *(_raw_suite(e) for e in ENTITIES),
        _DELIVERIES_SUITE,
        *_CORE_MARTS,
        *_CLV_MARTS,
        *_ATTRIBUTION_MARTS,
        *_KPI_MARTS,
    )
}


def suite(name: str) -> SuiteSpec:
    try:
        return SUITES[name]
    except KeyError:
        raise KeyError(f"unknown quality suite {name!r}; known: {sorted(SUITES)}") from None


def suites_in(schema: str) -> tuple[str, ...]:
    """Names of the suites that check tables of `schema` (`raw`, `marts`), in registry order."""
    return tuple(name for name, spec in SUITES.items() if spec.schema == schema)

