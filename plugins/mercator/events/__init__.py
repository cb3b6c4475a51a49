"""Live event intake: SendGrid and Twilio webhooks received into the landing dir (docs/events.md).

    python -m mercator.events serve --port 8025 --landing data/landing

Accepted events land as `email/events` and `sms/events` JSON Lines files the extractor reads
unchanged, each event once (deduplicated by the provider's id, across restarts and crashes);
`pull_unsubscribes` adds SendGrid's global unsubscribes the same way.
"""

from mercator.events.receiver import Config, Receiver
from mercator.events.store import LandingStore
from mercator.events.unsubscribes import pull_unsubscribes

__all__ = ["Config", "LandingStore", "Receiver", "pull_unsubscribes"]
