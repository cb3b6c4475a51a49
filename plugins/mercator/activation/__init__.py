"""Activation: push audiences to destinations, sending only what changed since the last sync."""

from mercator.activation.base import Destination, SendResult, SyncPlan
from mercator.activation.outbox import OutboxConfig, OutboxDestination

DESTINATIONS: dict[str, type[Destination]] = {d.name: d for d in (OutboxDestination,)}

__all__ = ["DESTINATIONS", "Destination", "OutboxConfig", "OutboxDestination", "SendResult", "SyncPlan"]
