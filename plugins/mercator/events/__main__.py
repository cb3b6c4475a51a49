"""`python -m mercator.events serve | pull-unsubscribes`: the receiver until SIGTERM, or one pull."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from sendgrid import SendGridAPIClient

from mercator.config import Settings
from mercator.events.receiver import Config, Receiver
from mercator.events.unsubscribes import pull_unsubscribes

log = logging.getLogger("mercator.events")

ENV_PUBLIC_URL = "MERCATOR_EVENTS_PUBLIC_URL"
ENV_SENDGRID_API_KEY = "MERCATOR_SENDGRID_API_KEY"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mercator.events", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="receive SendGrid and Twilio webhooks until SIGTERM")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8025)
    serve.add_argument(
        "--public-url",
        default=os.environ.get(ENV_PUBLIC_URL),
        help=f"base URL Twilio posts to, for its signature (default ${ENV_PUBLIC_URL}, else http://<Host header>)",
    )
    serve.add_argument(
        "--flush-interval",
        type=float,
        default=Config.flush_interval,
        help="seconds requests are gathered into one landing file (default %(default)s)",
    )
    pull = commands.add_parser(
        "pull-unsubscribes", help=f"pull SendGrid's global unsubscribes (API key from ${ENV_SENDGRID_API_KEY})"
    )
    pull.add_argument("--sendgrid-host", default="https://api.sendgrid.com")
    for command in (serve, pull):
        command.add_argument("--landing", type=Path, help="landing dir (default $MERCATOR_LANDING)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    landing = args.landing or Settings.from_env().landing_dir
    if args.command == "pull-unsubscribes":
        return _pull(args.sendgrid_host, landing)
    try:
        config = Config.from_env(landing, public_url=args.public_url, flush_interval=args.flush_interval)
        receiver = Receiver(config, args.host, args.port)
    except (ValueError, OSError) as error:
        print(f"mercator.events: {error}", file=sys.stderr)
        return 2
    return _serve(receiver)


def _serve(receiver: Receiver) -> int:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with receiver:
        config = receiver.config
        log.info(
            "receiving on %s into %s (SendGrid %s, Twilio %s)",
            receiver.url,
            config.landing,
            "on" if config.sendgrid_public_key else "off",
            "on" if config.twilio_auth_token else "off",
        )
        stop.wait()
        log.info("stopping")
    log.info("stopped")
    return 0


def _pull(sendgrid_host: str, landing: Path) -> int:
    api_key = os.environ.get(ENV_SENDGRID_API_KEY)
    if not api_key:
        print(f"mercator.events: set {ENV_SENDGRID_API_KEY}", file=sys.stderr)
        return 2
    pull_unsubscribes(SendGridAPIClient(api_key, host=sendgrid_host), landing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
