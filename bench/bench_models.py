"""Profile the dbt models of a built warehouse: each model's compiled SQL run again in DuckDB
(`create or replace table` into a scratch schema), with the process's CPU time and wall time per
model, and DuckDB's own profile of the costliest ones; the top models against hand-written DuckDB
SQL for the same transformation (bench/handwritten/<model>.sql, same rows checked).

    .venv/bin/python bench/bench_models.py --warehouse W.duckdb --target DBT_TARGET_DIR [--top 3]

The warehouse is copied first (the scratch tables are written into the copy). CPU time counts
DuckDB's worker threads, so it moves less than wall time on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
from mercator.config import duckdb_resources

HANDWRITTEN = Path(__file__).with_name("handwritten")


def models_in_run_order(target: Path) -> list[dict]:
    """Table models of dbt's last run (run_results.json order is execution order), compiled SQL from the manifest."""
    manifest = json.loads((target / "manifest.json").read_text())["nodes"]
    ran = [r["unique_id"] for r in json.loads((target / "run_results.json").read_text())["results"]]
    return [
        manifest[uid] for uid in ran
        if uid.startswith("model.") and manifest[uid]["config"]["materialized"] in ("table", "incremental")
        and manifest[uid].get("compiled_code")
    ]


def timed(con: duckdb.DuckDBPyConnection, sql: str) -> dict:
    """CPU and wall time of `sql` and of the checkpoint that writes its table (else a later model pays it)."""
    cpu, wall = time.process_time(), time.perf_counter()
    con.execute(sql)
    con.execute("checkpoint")
    return {"cpu_s": round(time.process_time() - cpu, 2), "wall_s": round(time.perf_counter() - wall, 2)}


def profile(warehouse: Path, target: Path, top: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="mercator-bench-models-") as tmp:
        copy = Path(tmp) / warehouse.name
        shutil.copy(warehouse, copy)
        con = duckdb.connect(str(copy), config=duckdb_resources(copy))
        con.execute("create schema if not exists bench")
        per_model, skipped = [], []
        for node in models_in_run_order(target):
            sql = node["compiled_code"].replace(f'"{node["database"]}".', f'"{copy.stem}".')
            try:
                cost = timed(con, f"create or replace table bench.{node['name']} as {sql}")
            except duckdb.CatalogException:  # reads tables its hooks build (the connected components' rounds)
                skipped.append(node["name"])
                continue
            per_model.append({"model": node["name"], **cost})
        per_model.sort(key=lambda m: m["cpu_s"], reverse=True)
        costliest = per_model[:top]
        for model in costliest:
            handwritten = HANDWRITTEN / f"{model['model']}.sql"
            if handwritten.exists():
                model["handwritten"] = timed(con, f"create or replace table bench.hand_{model['model']} as "
                                                  f"{handwritten.read_text()}")
                model["handwritten"]["same_rows"] = same_rows(con, f"bench.{model['model']}",
                                                              f"bench.hand_{model['model']}")
                model["dbt_over_handwritten_cpu"] = round(model["cpu_s"] / max(model["handwritten"]["cpu_s"], 0.01), 2)
        con.close()
    return {"models": len(per_model), "skipped": skipped, "cpu_s": round(sum(m["cpu_s"] for m in per_model), 1),
            "wall_s": round(sum(m["wall_s"] for m in per_model), 1), "top": costliest, "all": per_model}


def same_rows(con: duckdb.DuckDBPyConnection, left: str, right: str) -> bool:
    """Both tables have the same columns and hold the same multiset of rows."""
    columns = {t: [c for (c, *_) in con.execute(f"describe {t}").fetchall()] for t in (left, right)}
    if sorted(columns[left]) != sorted(columns[right]):
        return False
    cols = ", ".join(f'"{c}"' for c in columns[left])
    [(differ,)] = con.execute(
        f"select count(*) from ((select {cols} from {left} except all select {cols} from {right}) "
        f"union all (select {cols} from {right} except all select {cols} from {left}))"
    ).fetchall()
    return differ == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--target", type=Path, required=True, help="dbt target dir of the run that built it")
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results") / "models.json")
    args = parser.parse_args()
    result = profile(args.warehouse, args.target, args.top)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "all"}, indent=2))
    for model in result["all"][:15]:
        print(f"  {model['cpu_s']:7.2f} cpu s {model['wall_s']:7.2f} wall s  {model['model']}")


if __name__ == "__main__":
    main()
