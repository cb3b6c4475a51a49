"""The landing data contract (docs/data-contract.md) as data.

One place that says which entities exist, their keys, their columns, the type
each column is loaded as, which columns are required and which groups need at
least one value. The demo generator, the extract tasks, the quality suites and
the tests all read it from here; docs/data-contract.md documents every entity
and column (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass

# Logical column types and the DuckDB type the raw layer stores them as.
RAW_TYPES = {
    "text": "VARCHAR",
    "int": "BIGINT",
    "money": "DECIMAL(18,2)",
    "timestamp": "TIMESTAMPTZ",
    "unix_timestamp": "TIMESTAMPTZ",
    "date": "DATE",
}

LOAD_METADATA_COLUMNS = {
    "_file": "VARCHAR",
    "_line": "BIGINT",
    "_delivery_hash": "VARCHAR",
    "_load_id": "VARCHAR",
    "_loaded_at": "TIMESTAMPTZ",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "text"
    required: bool = False
    accepted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entity:
    source: str
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    one_of: tuple[str, ...] = ()
    """Columns of which each row needs at least one value (extract quarantines a row with none)."""

    @property
    def path(self) -> str:
        """`<source>/<entity>`, the folder under the landing directory."""
        return f"{self.source}/{self.name}"

    @property
    def raw_table(self) -> str:
        """Table name in schema `raw`: `<source>__<entity>`."""
        return f"{self.source}__{self.name}"

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _cols(spec: str, **overrides: Column) -> tuple[Column, ...]:
    """Parse 'name:type' words; a leading '*' marks a required column."""
    columns = []
    for word in spec.split():
        required = word.startswith("*")
        name, _, kind = word.lstrip("*").partition(":")
        columns.append(overrides.get(name, Column(name, kind or "text", required)))
    return tuple(columns)


CONSENT = ("granted", "revoked", "unknown")

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "shop", "orders", ("order_id",),
        _cols(
            "*order_id customer_id email phone anonymous_id *ordered_at:timestamp "
            "*total_amount:money currency discount_amount:money coupon_code status "
            "refunded_amount:money sales_channel updated_at:timestamp",
            status=Column("status", accepted=("paid", "refunded", "partially_refunded", "cancelled")),
            sales_channel=Column("sales_channel", accepted=("web", "app")),
        ),
    ),
    Entity(
        "shop", "order_items", ("order_id", "line_number"),
        _cols("*order_id *line_number:int *product_id product_name category *quantity:int *unit_price:money"),
    ),
    Entity(
        "pos", "transactions", ("transaction_id",),
        _cols(
            "*transaction_id *store_id loyalty_id phone email *occurred_at:timestamp "
            "*total_amount:money currency status"
        ),
    ),
    Entity(
        "crm", "contacts", ("contact_id",),
        _cols(
            "*contact_id email phone first_name last_name country city birth_date:date "
            "loyalty_id customer_id created_at:timestamp *updated_at:timestamp "
            "email_consent sms_consent push_consent ads_consent consent_updated_at:timestamp",
            email_consent=Column("email_consent", accepted=CONSENT),
            sms_consent=Column("sms_consent", accepted=CONSENT),
            push_consent=Column("push_consent", accepted=CONSENT),
            ads_consent=Column("ads_consent", accepted=CONSENT),
        ),
    ),
    Entity(
        "crm", "erasure_requests", ("request_id",),
        _cols("*request_id email phone customer_id *requested_at:timestamp"),
        one_of=("email", "phone", "customer_id"),
    ),
    Entity(
        "web", "events", ("event_id",),
        _cols(
            "*event_id *anonymous_id user_id email *event_name *occurred_at:timestamp page_url "
            "referrer utm_source utm_medium utm_campaign utm_content utm_term click_id "
            "device_type order_id product_id revenue:money",
            event_name=Column(
                "event_name", required=True,
                accepted=("page_view", "product_view", "add_to_cart", "begin_checkout",
                          "purchase", "sign_up", "login", "form_submit"),
            ),
        ),
    ),
    Entity(
        "app", "events", ("event_id",),
        _cols(
            "*event_id *device_id user_id *event_name *occurred_at:timestamp platform campaign "
            "order_id product_id revenue:money",
            event_name=Column(
                "event_name", required=True,
                accepted=("app_open", "product_view", "add_to_cart", "purchase", "sign_up", "push_open"),
            ),
            platform=Column("platform", accepted=("ios", "android")),
        ),
    ),
    Entity(
        "email", "events", ("email", "event", "timestamp", "sg_message_id", "url"),
        _cols(
            "*email *timestamp:unix_timestamp *event sg_event_id sg_message_id category url "
            "reason type asm_group_id:int campaign",
            event=Column(
                "event", required=True,
                accepted=("processed", "delivered", "deferred", "bounce", "dropped", "open", "click",
                          "spamreport", "unsubscribe", "group_unsubscribe", "group_resubscribe"),
            ),
        ),
    ),
    Entity(
        "sms", "events", ("MessageSid", "MessageStatus"),
        _cols(
            "*MessageSid *To From *MessageStatus ErrorCode *timestamp:timestamp Body campaign",
            MessageStatus=Column(
                "MessageStatus", required=True,
                accepted=("queued", "sent", "delivered", "undelivered", "failed", "received"),
            ),
        ),
    ),
    Entity(
        "ads", "spend", ("date", "platform", "campaign_id"),
        _cols(
            "*date:date *platform *campaign_id campaign_name utm_source utm_medium utm_campaign "
            "impressions:int clicks:int *spend:money currency"
        ),
    ),
)

BY_PATH = {e.path: e for e in ENTITIES}

FILE_FORMATS = ("csv", "jsonl", "parquet")


def entity(path: str) -> Entity:
    """Look up an entity by `<source>/<entity>`; a clear error for unknown ones."""
    try:
        return BY_PATH[path]
    except KeyError:
        raise KeyError(f"unknown landing entity {path!r}; known: {sorted(BY_PATH)}") from None


def raw_table_ddl(e: Entity, schema: str = "raw") -> str:
    """CREATE TABLE for an entity's raw table: every contract column typed, then load metadata.

    Extra columns found in a delivery are added later as VARCHAR.
    """
    cols = [f'"{c.name}" {RAW_TYPES[c.type]}' for c in e.columns]
    cols += [f"{name} {kind}" for name, kind in LOAD_METADATA_COLUMNS.items()]
    return f"CREATE TABLE IF NOT EXISTS {schema}.{e.raw_table} (\n  " + ",\n  ".join(cols) + "\n)"
