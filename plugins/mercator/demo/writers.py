"""Streams batch results into the landing directory and the truth answer key."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import IO

from mercator import contract
from mercator.demo import reference as ref
from mercator.demo.batch import BatchResult
from mercator.demo.params import DemoParams


class LandingWriter:
    """Keeps every delivery file open, appends batch chunks and tracks physical line numbers."""

    def __init__(self, out: Path, params: DemoParams) -> None:
        self.out, self.params = out, params
        self.files: dict[str, IO[bytes]] = {}
        self.lines: dict[str, int] = {}
        self.ad_clicks: Counter[tuple[int, str]] = Counter()
        truth = out / "truth"
        truth.mkdir(parents=True, exist_ok=True)
        self.records = self._open_csv(truth / "records.csv", ["source", "entity", "record_id", "person_id"])
        self.malformed = self._open_csv(truth / "malformed.csv", ["source", "entity", "file", "line", "kind"])
        self.shared = self._open_csv(
            truth / "shared_visitors.csv", ["anonymous_id", "person_id", "other_person_id"]
        )

    @staticmethod
    def _open_csv(path: Path, header: list[str]) -> IO[bytes]:
        handle = path.open("wb")
        handle.write((",".join(header) + "\n").encode())
        return handle

    def _file(self, relative: str) -> IO[bytes]:
        if relative not in self.files:
            entity = contract.entity(relative.rsplit("/", 1)[0])
            path = self.out / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            self.files[relative] = self._open_csv(path, [c.name for c in entity.columns])
            self.lines[relative] = 1
        return self.files[relative]

    def write(self, result: BatchResult) -> None:
        for relative in sorted(result.chunks):
            chunk = result.chunks[relative]
            handle = self._file(relative)
            handle.write(chunk.data)
            source, entity, _ = relative.split("/")
            for line, kind in chunk.malformed:
                self.malformed.write(f"{source},{entity},{relative},{self.lines[relative] + line},{kind}\n".encode())
            self.lines[relative] += chunk.lines
        self.records.write(result.records)
        self.shared.write("".join(f"{a},{p},{o}\n" for a, p, o in result.shared_visitors).encode())
        self.ad_clicks.update(result.ad_clicks)

    def finish(self) -> None:
        self._write_spend()
        for entity in contract.ENTITIES:
            if not any(name.startswith(entity.path + "/") for name in self.files):
                self._file(f"{entity.path}/{entity.name}_empty.csv")
        for handle in [*self.files.values(), self.records, self.malformed, self.shared]:
            handle.close()
        truth = self.out / "truth"
        (truth / "params.json").write_text(json.dumps(self.params.to_json_dict(), indent=2) + "\n")
        with (truth / "junk_identifiers.csv").open("w", encoding="utf-8") as handle:
            handle.write("identifier_type,identifier_value\n")
            handle.write(f"email,{ref.TEST_EMAIL}\nemail,{ref.NO_EMAIL}\n")
            handle.writelines(f"phone,{phone}\n" for _, phone in ref.STORES)

    def _write_spend(self) -> None:
        """Daily spend per paid campaign: tracked clicks scaled up for untracked ones, times the CPC."""
        rng = random.Random(f"mercator-demo/{self.params.seed}/spend")
        start = self.params.start
        for channel in self.params.channels:
            for campaign in channel.campaigns:
                for day in range(self.params.window_days):
                    tracked = self.ad_clicks[(day, campaign.campaign_id)]
                    clicks = math.ceil(tracked * rng.uniform(1.05, 1.3)) + rng.randint(0, 2)
                    spend = clicks * campaign.cost_per_click * rng.uniform(0.8, 1.2)
                    impressions = round(clicks / campaign.click_through_rate * rng.uniform(0.9, 1.1))
                    handle = self._file(f"ads/spend/spend_{campaign.platform}.csv")
                    row = [
                        (start + timedelta(days=day)).isoformat(),
                        campaign.platform,
                        campaign.campaign_id,
                        campaign.campaign_name,
                        campaign.utm_source,
                        campaign.utm_medium,
                        campaign.utm_campaign,
                        impressions,
                        clicks,
                        f"{spend:.2f}",
                        self.params.currency,
                    ]
                    handle.write((",".join(map(str, row)) + "\n").encode())
