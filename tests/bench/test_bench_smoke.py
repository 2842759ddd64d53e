"""The benchmarks run end to end in a tiny configuration (figures are not checked, only that each
bench completes, stops by itself and prints its table)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


def run_bench(script: str, *args: str, timeout: float = 240) -> str:
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], check=False, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{script} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def test_webhook_intake_bench_httpx() -> None:
    out = run_bench("webhook_intake.py", "--events", "40", "--warmup", "5", "--concurrency", "4",
                    "--drain-seconds", "30")
    assert "intake (real app, SQLite)" in out and "bare Starlette endpoint" in out
    assert out.count("40/40") == 2, out  # every signed event accepted, every bare request answered
    assert "ratio intake / bare:" in out
    assert "processed by the in-process queue: 45/45" in out, out


def test_webhook_intake_bench_raw_client_with_server_profile(tmp_path: Path) -> None:
    profile = tmp_path / "intake.prof"
    out = run_bench("webhook_intake.py", "--events", "20", "--warmup", "2", "--concurrency", "2", "--client", "raw",
                    "--drain-seconds", "30", "--profile-server", str(profile))
    assert out.count("20/20") == 2, out
    assert profile.exists() and "--- top 25 by tottime ---" in out


def test_backfill_bench_sqlite_with_profile(tmp_path: Path) -> None:
    profile = tmp_path / "backfill.prof"
    out = run_bench("backfill.py", "--invoices", "150", "--customers", "5", "--default-rate-invoices", "100",
                    "--profile", str(profile), "--profile-top", "5")
    assert "RAISED from the default 25/s" in out
    lines = [line for line in out.splitlines() if line.strip().startswith(("main (sqlite)", "default rate (sqlite)"))]
    assert len(lines) == 2 and all("succeeded" in line for line in lines), out
    cells = [c.strip() for c in lines[0].split("|")]
    assert cells[6] == "2" and cells[7] == "150", cells  # two pages of 100; every invoice one CRM record
    assert profile.exists() and "--- top 5 by cumulative ---" in out


@pytest.mark.postgres
def test_backfill_bench_postgres() -> None:
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    out = run_bench("backfill.py", "--invoices", "120", "--customers", "3", "--default-rate-invoices", "0",
                    "--postgres")
    line = next(line for line in out.splitlines() if line.strip().startswith("main (postgres)"))
    assert "succeeded" in line and "PostgreSQL" in out
