import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from mercator.warehouse import connect

HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    command = [sys.executable, "-c", HOLD_LOCK, str(path), str(seconds)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert process.stdout.readline().strip() == b"locked"
    return process


def test_connect_waits_for_another_process_to_release_the_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    holder = hold_lock(warehouse, 1.5)
    started = time.monotonic()

    con = connect(warehouse, timeout_s=30, poll_s=0.2)

    assert holder.wait(timeout=30) == 0
    assert time.monotonic() - started >= 0.5
    assert con.execute("select 42").fetchall() == [(42,)]
    con.close()


def test_connect_gives_up_after_the_timeout(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    holder = hold_lock(warehouse, 10)
    try:
        with pytest.raises(duckdb.IOException, match="lock"):
            connect(warehouse, timeout_s=0.5, poll_s=0.1)
    finally:
        holder.kill()
        holder.wait()
