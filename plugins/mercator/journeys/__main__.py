"""`python -m mercator.journeys check [DIR]`: validate every journey file; `schema`: print the JSON Schema."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mercator.activation.destination import ConfigError
from mercator.activation.runner import known_types
from mercator.config import REPO_ROOT
from mercator.journeys.spec import Journey, load_journey


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mercator.journeys", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate every *.yml journey in DIR")
    check.add_argument("directory", nargs="?", type=Path, default=REPO_ROOT / "dbt_project" / "journeys")
    commands.add_parser("schema", help="print the journeys' JSON Schema")
    args = parser.parse_args(argv)
    if args.command == "schema":
        print(json.dumps(Journey.model_json_schema(by_alias=True), indent=2))
        return 0
    failed = 0
    for path in sorted(args.directory.glob("*.yml")):
        try:
            journey = load_journey(path, known_types())
        except ConfigError as error:
            failed += 1
            print(f"FAIL {error}")
        else:
            print(f"ok   {path.name}: {len(journey.steps)} steps")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
