"""Audiences are dbt models: discovered from dbt's manifest, their `config.meta.activation` parsed and checked.

An audience is a model under `models/audiences/` whose yml carries, under `config.meta.activation`:

    channel: email | sms | ads | webhook       # which consent and suppressions apply
    mode: upsert | mirror                       # mirror also removes members who left (default upsert)
    holdout_share: 0.10                         # share held out and sent nothing (default 0.10)
    holdout_salt: <text>                        # default: the audience name
    consent: email_consent                      # webhook only: the consent column that applies
    fields: {destination_field: model_column}   # default: the channel's identifier and first_name
    destinations:
      - type: sendgrid | sendgrid_mail | twilio_sms | webhook | google_customer_match | meta_custom_audience | outbox
        connection: <Airflow connection id>     # not for file destinations
        options: {...}                          # the destination's own options (list_name, template, ...)

A wrong config fails with a `ConfigError` naming the audience and the key before anything is sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from mercator.activation.destination import CHANNELS, ConfigError

AUDIENCE_PATH = "models/audiences/"
MODES = ("upsert", "mirror")
DEFAULT_HOLDOUT_SHARE = 0.10
CONSENT_BY_CHANNEL = {"email": "email_consent", "sms": "sms_consent", "ads": "ads_consent"}
WEBHOOK_CONSENTS = ("email_consent", "sms_consent", "push_consent", "ads_consent")
IDENTIFIER_BY_CHANNEL = {"email": "email", "sms": "phone"}
DEFAULT_FIELDS = {
    "email": {"email": "email", "first_name": "first_name"},
    "sms": {"phone": "phone", "first_name": "first_name"},
    "ads": {"email": "email", "phone": "phone"},
    "webhook": {},
}
KNOWN_KEYS = {"channel", "mode", "holdout_share", "holdout_salt", "consent", "fields", "destinations"}
DESTINATION_KEYS = {"type", "connection", "options"}


@dataclass(frozen=True)
class DestinationSpec:
    type: str
    connection: str | None = None
    options: dict = field(default_factory=dict)

    @property
    def destination_id(self) -> str:
        """Names this destination in the sync state: type and connection."""
        return f"{self.type}:{self.connection}" if self.connection else self.type


@dataclass(frozen=True)
class AudienceSpec:
    name: str
    relation: str  # schema.table in the warehouse
    channel: str
    destinations: tuple[DestinationSpec, ...]
    mode: str = "upsert"
    holdout_share: float = DEFAULT_HOLDOUT_SHARE
    holdout_salt: str = ""
    consent: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def message_channel(self) -> str:
        """The channel a message counts against and whose suppressions apply: the audience's, or for a
        webhook its consent's (email_consent -> email)."""
        return self.channel if self.channel != "webhook" else self.consent.removesuffix("_consent")

    @property
    def identifier(self) -> str | None:
        """The destination field without which a member cannot be reached (email, phone), if any."""
        return IDENTIFIER_BY_CHANNEL.get(self.channel)

    def check_columns(self, columns: set[str]) -> None:
        """Every mapped field's column exists in the audience's table (else a ConfigError naming it)."""
        if "customer_key" not in columns:
            raise ConfigError(f"audience {self.name}: the model has no customer_key column")
        for target, column in self.fields.items():
            if column not in columns:
                raise ConfigError(
                    f"audience {self.name}: fields.{target} names column {column!r}, which the model lacks"
                    f" (columns: {sorted(columns)})"
                )


def _fail(audience: str, key: str, problem: str) -> ConfigError:
    return ConfigError(f"audience {audience}: meta.activation.{key}: {problem}")


def parse_audience(name: str, relation: str, config: dict, known_types: dict[str, tuple[str, ...]]) -> AudienceSpec:
    """Check one audience's `meta.activation`; `known_types` maps destination type -> channels it serves."""
    if not isinstance(config, dict):
        raise _fail(name, "", "must be a mapping")
    unknown = set(config) - KNOWN_KEYS
    if unknown:
        raise _fail(name, sorted(unknown)[0], f"unknown key; known: {sorted(KNOWN_KEYS)}")
    channel = config.get("channel")
    if channel not in CHANNELS:
        raise _fail(name, "channel", f"missing or unknown ({channel!r}); one of {list(CHANNELS)}")
    mode = config.get("mode", "upsert")
    if mode not in MODES:
        raise _fail(name, "mode", f"{mode!r} is not one of {list(MODES)}")
    share = config.get("holdout_share", DEFAULT_HOLDOUT_SHARE)
    if not isinstance(share, int | float) or not 0 <= share < 1:
        raise _fail(name, "holdout_share", f"{share!r} is not a share in [0, 1)")
    consent = CONSENT_BY_CHANNEL.get(channel) or config.get("consent", "email_consent")
    if consent not in WEBHOOK_CONSENTS:
        raise _fail(name, "consent", f"{consent!r} is not one of {list(WEBHOOK_CONSENTS)}")
    if channel != "webhook" and "consent" in config:
        raise _fail(name, "consent", f"only webhook audiences choose their consent; {channel} uses {consent}")
    fields = config.get("fields", DEFAULT_FIELDS[channel])
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise _fail(name, "fields", "must map destination fields to model columns")
    identifier = IDENTIFIER_BY_CHANNEL.get(channel)
    if identifier and identifier not in fields:
        raise _fail(name, "fields", f"a {channel} audience must map the {identifier!r} field")
    destinations = config.get("destinations")
    if not destinations or not isinstance(destinations, list):
        raise _fail(name, "destinations", "at least one destination is needed")
    specs = []
    for index, entry in enumerate(destinations):
        key = f"destinations[{index}]"
        if not isinstance(entry, dict) or set(entry) - DESTINATION_KEYS:
            raise _fail(name, key, f"must be a mapping with keys {sorted(DESTINATION_KEYS)}")
        kind = entry.get("type")
        if kind not in known_types:
            raise _fail(name, f"{key}.type", f"unknown destination {kind!r}; known: {sorted(known_types)}")
        if channel not in known_types[kind]:
            raise _fail(name, f"{key}.type", f"{kind} serves {list(known_types[kind])}, not {channel}")
        specs.append(DestinationSpec(kind, entry.get("connection"), dict(entry.get("options") or {})))
    return AudienceSpec(
        name, relation, channel, tuple(specs), mode, float(share), str(config.get("holdout_salt", name)),
        consent, dict(fields),
    )


def load_audiences(manifest_path: Path, known_types: dict[str, tuple[str, ...]]) -> list[AudienceSpec]:
    """Every audience model in dbt's manifest (target/manifest.json), checked, in name order."""
    manifest = json.loads(Path(manifest_path).read_text())
    audiences = []
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model" or not node["original_file_path"].startswith(AUDIENCE_PATH):
            continue
        meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
        if "activation" not in meta:
            raise ConfigError(f"audience {node['name']}: its yml has no config.meta.activation")
        relation = f"{node['schema']}.{node.get('alias') or node['name']}"
        audiences.append(parse_audience(node["name"], relation, meta["activation"], known_types))
    return sorted(audiences, key=lambda a: a.name)
