"""Shared helpers for the benchmarks: servers in their own processes, percentiles, CPU and RSS.

Servers run in a child process so the load generator (or the backfill) does not share their GIL
and CPU. The parent binds the loopback socket (port 0 = a free port, no race) and hands its file
descriptor to the child, which serves it with uvicorn exactly as `invoicing serve` does
(`log_config=None, access_log=False, ws="none"`, loop and HTTP implementation left on "auto",
i.e. uvloop and httptools when installed, one worker):

    python bench/_common.py serve {app,bare,emulator} --fd N

`app` is `app.http.app.create_app(load_settings())` (settings from the environment), `bare` is a
Starlette app with one endpoint that reads the body and returns 200 JSON, `emulator` is the Stripe
emulator (`invoicing sandbox stripe`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
SERVER_KINDS = ("app", "bare", "emulator")


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile of `samples` (q in 0..1); 0.0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def machine_line() -> str:
    """`2 cores (nproc), Python 3.11.7, Linux x86_64, 2026-01-01`: printed with every run."""
    return (f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}, {datetime.now(UTC).date().isoformat()}, "
            f"load average {load_line()}")


def load_line() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews every figure."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_peak_rss_mib(pid: int) -> float | None:
    """Peak RSS (VmHWM) of a running process, in MiB; None when not readable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class ServerProcess:
    kind: str
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_s(self) -> float:
        return proc_cpu_s(self.process.pid)


@contextlib.contextmanager
def server_process(kind: str, env: Mapping[str, str] | None = None, *,
                   ready_path: str = "/healthz") -> Iterator[ServerProcess]:
    """Serve `kind` in a child process on a free loopback port; stopped (SIGTERM, then SIGKILL) on exit.

    `env` is added to this process's environment (REDIS_URL is always cleared: in-process queue).
    With BENCH_PROFILE=path in `env`, an `app` child runs under cProfile and dumps there on exit."""
    if kind not in SERVER_KINDS:
        raise ValueError(f"unknown server kind {kind!r}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(2048)
    port = sock.getsockname()[1]
    child_env = {k: v for k, v in os.environ.items() if k.upper() != "REDIS_URL"}
    child_env.update(env or {})
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), child_env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "serve", kind, "--fd", str(sock.fileno())],
        env=child_env, pass_fds=(sock.fileno(),), cwd=str(ROOT),
    )
    sock.close()  # the child holds its own copy
    server = ServerProcess(kind, process, port)
    try:
        _wait_ready(server, ready_path)
        yield server
    finally:
        _stop(process)


def _wait_ready(server: ServerProcess, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    last_error: Exception | None = None
    with httpx.Client(base_url=server.base_url, timeout=5, trust_env=False) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.kind} server exited during start-up (code {server.process.returncode})")
            try:
                client.get(path)  # any answer means the app is up (lifespan done)
                return
            except httpx.HTTPError as exc:
                last_error = exc
                time.sleep(0.05)
    raise RuntimeError(f"{server.kind} server did not answer within {START_TIMEOUT_S:.0f}s: {last_error!r}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT_S)


# --- the child side ------------------------------------------------------------------------------

def _bare_app() -> object:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        return JSONResponse({"received": True, "bytes": len(body)})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/webhooks/stripe/{workspace_id}", endpoint, methods=["POST"]),
                             Route("/healthz", healthz)])


def _exit_with_parent() -> None:
    """A bench killed hard must not leave its servers behind: leave when the parent is gone."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _serve(kind: str, fd: int) -> None:
    import logging

    import uvicorn

    logging.basicConfig(level=logging.WARNING)
    _exit_with_parent()
    app: object
    if kind == "app":
        from app.config import load_settings
        from app.http.app import create_app

        app = create_app(load_settings())
    elif kind == "bare":
        app = _bare_app()
    else:
        from app.sandbox.app import create_emulator_app
        from app.sandbox.state import EmulatorState

        app = create_emulator_app(EmulatorState())
    sock = socket.socket(fileno=fd)
    # The same settings as `invoicing serve` (app/cli.py::_serve) for every kind.
    config = uvicorn.Config(app, lifespan="on", log_config=None, access_log=False, ws="none",  # type: ignore[arg-type]
                            timeout_graceful_shutdown=5)
    profile_path = os.environ.get("BENCH_PROFILE") if kind == "app" else None
    if not profile_path:
        uvicorn.Server(config).run(sockets=[sock])
        return
    import cProfile
    import signal

    # uvicorn re-raises the SIGTERM it handled once it has shut down: ignore that one so the
    # profile is written below instead of the process dying first.
    signal.signal(signal.SIGTERM, lambda *_: None)
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        profiler.disable()
        profiler.dump_stats(profile_path)


def print_profile(path: str, limit: int = 25, *, strip: str = str(ROOT) + "/") -> None:
    """The top `limit` functions by own time and by cumulative time of a cProfile dump."""
    import io
    import pstats

    for order in ("tottime", "cumulative"):
        buf = io.StringIO()
        stats = pstats.Stats(path, stream=buf)
        stats.sort_stats(order).print_stats(limit)
        text = buf.getvalue().replace(strip, "").replace(sys.prefix + "/lib/python3.11/site-packages/", "")
        start = text.find("   ncalls")
        print(f"--- top {limit} by {order} ---")
        print(text[start:].rstrip() if start >= 0 else text.rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description="bench helper: serve an app on an inherited socket")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("kind", choices=SERVER_KINDS)
    serve.add_argument("--fd", type=int, required=True)
    args = parser.parse_args()
    _serve(args.kind, args.fd)


if __name__ == "__main__":
    main()
