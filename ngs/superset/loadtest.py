"""A bounded load test of the served dashboards, on 127.0.0.1 only.

    python -m ngs.superset.loadtest --warehouse W [--viewers 20] [--seconds 60]
        [--build-data DIR] [--refresh-every 15] [--state DIR] [--port N]

Serves `W` with `ngs serve` (a temporary state folder and a free port unless given; a Superset that
already runs in that state folder on that port is reused and left running), then `--viewers` threads
each log in and, until `--seconds` have passed, open the dashboards one after another: every chart
of a dashboard fetched concurrently, the way a browser does (`GET /api/v1/chart/{id}/data/`, the
chart's saved query). Meanwhile, if asked:

- `--build-data DIR`: `ngs build --data DIR` of another warehouse (a temp file, its own dbt target
  and log folders) runs in a subprocess for the whole window (stopped, with its process group, if
  still running when the window ends);
- `--refresh-every S`: `ngs serve --warehouse W` refreshes the snapshot every S seconds (a copy of `W`
  `os.replace`d over the served file while the viewers read it).

Prints one JSON object: requests served, errors (HTTP error, timeout, refused connection, a result
with an error or without rows; each kind counted), p50/p95/max latency in ms, requests per second,
what ran beside the load and the machine's core count and load average. Exit status 1 when any
request failed or a refresh failed.

Only the loopback address is ever contacted: the URL is built from a port, never taken from input.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ngs.errors import NgsError
from ngs.paths import REPO_ROOT

HOST = "127.0.0.1"
REQUEST_TIMEOUT_S = 120


@dataclass
class Tally:
    """What the viewers saw; one lock, appended to by every viewer thread."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    dashboards_opened: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, ms: float) -> None:
        with self.lock:
            self.latencies_ms.append(ms)

    def error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            self.examples.setdefault(kind, detail[:300])


def base_url(port: int) -> str:
    return f"http://{HOST}:{int(port)}"


def _request(url: str, token: str | None = None, data: dict | None = None, timeout: float = REQUEST_TIMEOUT_S):
    if not url.startswith(f"http://{HOST}:"):
        raise ValueError(f"the load test only talks to {HOST}: {url}")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = None
    if data is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(data).encode()
    req = urllib.request.Request(url, data=body, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def login(base: str, username: str, password: str) -> str:
    return _request(f"{base}/api/v1/security/login",
                    data={"username": username, "password": password, "provider": "db", "refresh": False}
                    )["access_token"]


def dashboard_charts(base: str, token: str) -> dict[str, list[int]]:
    """{dashboard slug: [chart ids]} of every dashboard Superset serves."""
    dashboards = _request(f"{base}/api/v1/dashboard/?q=(page_size:100)", token)["result"]
    out = {}
    for dash in dashboards:
        charts = _request(f"{base}/api/v1/dashboard/{dash['id']}/charts", token)["result"]
        out[dash.get("slug") or str(dash["id"])] = sorted(c["id"] for c in charts)
    return out


def _fetch_chart(base: str, token: str, chart_id: int, tally: Tally) -> None:
    t = time.perf_counter()
    try:
        payload = _request(f"{base}/api/v1/chart/{chart_id}/data/", token)
    except urllib.error.HTTPError as exc:
        tally.error(f"http_{exc.code}", f"chart {chart_id}: {exc.read()[:300]!r}")
        return
    except (urllib.error.URLError, OSError, ValueError) as exc:  # refused, reset, timeout, bad JSON
        tally.error(type(getattr(exc, "reason", exc)).__name__, f"chart {chart_id}: {exc}")
        return
    ms = (time.perf_counter() - t) * 1000
    results = payload.get("result") or []
    if not results or any(r.get("error") for r in results):
        tally.error("result_error", f"chart {chart_id}: {json.dumps(payload)[:300]}")
    elif any(not r.get("rowcount") for r in results):
        tally.error("no_rows", f"chart {chart_id}: a query returned no rows")
    else:
        tally.ok(ms)


def viewer(base: str, username: str, password: str, dashboards: dict[str, list[int]], deadline: float,
           tally: Tally, offset: int) -> None:
    """One user: log in, then open dashboard after dashboard (their charts at once) until the deadline."""
    try:
        token = login(base, username, password)
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        tally.error("login", str(exc))
        return
    slugs = sorted(dashboards)
    i = offset
    with ThreadPoolExecutor(max_workers=6) as pool:  # a browser's 6 connections per host
        while time.monotonic() < deadline:
            charts = dashboards[slugs[i % len(slugs)]]
            list(pool.map(lambda c: _fetch_chart(base, token, c, tally), charts))
            with tally.lock:
                tally.dashboards_opened += 1
            i += 1


def run_load(port: int, username: str, password: str, viewers: int, seconds: float) -> dict:
    """The load itself against a running Superset; returns the figures (see `summarise`)."""
    base = base_url(port)
    try:
        dashboards = dashboard_charts(base, login(base, username, password))
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        raise NgsError(f"cannot log in to Superset on {base} or list its dashboards: {exc}") from exc
    if not dashboards:
        raise NgsError(f"Superset on {base} serves no dashboard: nothing to load")
    tally = Tally()
    t0 = time.monotonic()
    threads = [threading.Thread(target=viewer, args=(base, username, password, dashboards, t0 + seconds,
                                                     tally, k), daemon=True) for k in range(viewers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(seconds + REQUEST_TIMEOUT_S + 30)
    wall = time.monotonic() - t0
    return summarise(tally, wall, viewers, seconds, dashboards)


def _pct(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return round(sorted_values[k], 1)


def summarise(tally: Tally, wall_s: float, viewers: int, seconds: float, dashboards: dict[str, list[int]]) -> dict:
    lat = sorted(tally.latencies_ms)
    n_err = sum(tally.errors.values())
    return {
        "viewers": viewers,
        "seconds": seconds,
        "wall_s": round(wall_s, 1),
        "dashboards": {slug: len(ids) for slug, ids in sorted(dashboards.items())},
        "dashboards_opened": tally.dashboards_opened,
        "requests": len(lat) + n_err,
        "served": len(lat),
        "errors": n_err,
        "error_kinds": dict(tally.errors),
        "error_examples": tally.examples,
        "requests_per_s": round(len(lat) / wall_s, 2) if wall_s else None,
        "p50_ms": _pct(lat, 0.50),
        "p95_ms": _pct(lat, 0.95),
        "max_ms": round(lat[-1], 1) if lat else None,
    }


# ------------------------------------------------------------------------------------- side activity
def _ngs_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("DO_NOT_TRACK", "1")
    env.update(extra)
    return env


class Builder:
    """`ngs build --data DIR --warehouse <tmp>` in its own process group, its own dbt folders."""

    def __init__(self, data: Path, workdir: Path):
        self.warehouse = workdir / "other.duckdb"
        self.log = workdir / "build.log"
        env = _ngs_env({"NGS_DBT_TARGET_PATH": str(workdir / "target"), "DBT_LOG_PATH": str(workdir / "logs"),
                        "NGS_DUCKDB_TMP": str(workdir / "duckdb_tmp"),
                        "NGS_ARTIFACTS_DIR": str(workdir / "artifacts")})  # the user's models stay as they are
        self.t0 = time.monotonic()
        with open(self.log, "w") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ngs.cli", "build", "--data", str(data), "--warehouse", str(self.warehouse)],
                cwd=REPO_ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)

    def finish(self) -> dict:
        running = self.proc.poll() is None
        if running:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return {"ran_s": round(time.monotonic() - self.t0, 1),
                "state": "still running at the end of the window: stopped" if running
                else f"finished, exit code {self.proc.returncode}"}


class Refresher(threading.Thread):
    """`ngs serve --warehouse W` (the snapshot refresh) every `every` seconds until stopped."""

    def __init__(self, warehouse: Path, state: Path, port: int, every: float):
        super().__init__(daemon=True)
        self.cmd = [sys.executable, "-m", "ngs.cli", "serve", "--warehouse", str(warehouse)]
        self.env = _ngs_env({"NGS_SUPERSET_HOME": str(state), "NGS_SUPERSET_PORT": str(port)})
        self.every = every
        self.stop_event = threading.Event()
        self.done: list[float] = []
        self.failed: list[str] = []
        self.warnings: list[str] = []

    def run(self) -> None:
        while not self.stop_event.wait(self.every):
            t = time.monotonic()
            try:
                proc = subprocess.run(self.cmd, cwd=REPO_ROOT, env=self.env, text=True, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=300)
            except subprocess.TimeoutExpired:
                self.failed.append("`ngs serve` did not finish within 300 s")
                continue
            self.warnings += [line for line in proc.stdout.splitlines() if line.startswith("warning")]
            if proc.returncode == 0:
                self.done.append(round(time.monotonic() - t, 1))
            else:
                self.failed.append(proc.stdout[-500:])

    def finish(self) -> dict:
        self.stop_event.set()
        self.join(330)
        return {"every_s": self.every, "refreshes": len(self.done), "refresh_wall_s": self.done,
                "failed": len(self.failed), "failures": self.failed[:3], "warnings": self.warnings[:5]}


# ---------------------------------------------------------------------------------------------- main
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def run(warehouse: Path, viewers: int, seconds: float, build_data: Path | None = None,
        refresh_every: float | None = None, state: Path | None = None, port: int | None = None) -> dict:
    from ngs.superset import serve, stop

    if viewers < 1 or seconds <= 0:
        raise NgsError("--viewers must be at least 1 and --seconds above 0")
    if build_data is not None and not build_data.is_dir():
        raise NgsError(f"--build-data {build_data}: no such folder")
    work = Path(tempfile.mkdtemp(prefix="ngs-loadtest-"))
    state = (state or work / "superset").resolve()
    port = port or _free_port()
    started_here = False
    try:
        t = time.monotonic()
        served = serve(warehouse, state=state, port=port, log=lambda m: print(m, file=sys.stderr))
        started_here = "start_s" in served.timings
        serve_s = round(time.monotonic() - t, 1)
        report: dict = {"url": served.url, "serve_s": serve_s,
                        "cores": os.cpu_count(), "loadavg_before": _loadavg()}
        builder = Builder(build_data, work) if build_data is not None else None
        refresher = Refresher(warehouse, state, port, refresh_every) if refresh_every else None
        if refresher:
            refresher.start()
        try:
            report["load"] = run_load(port, served.username, served.password, viewers, seconds)
        finally:
            if refresher:
                report["refresh"] = refresher.finish()
            if builder:
                report["build"] = builder.finish()
        report["loadavg_after"] = _loadavg()
        return report
    finally:
        if started_here:
            stop(state)
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    from ngs.paths import DEFAULT_WAREHOUSE

    parser = argparse.ArgumentParser(prog="python -m ngs.superset.loadtest",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE, help="the warehouse to serve")
    parser.add_argument("--viewers", type=int, default=20, help="concurrent viewers (default 20)")
    parser.add_argument("--seconds", type=float, default=60, help="length of the window (default 60)")
    parser.add_argument("--build-data", type=Path, default=None,
                        help="run `ngs build --data DIR` of another (temporary) warehouse meanwhile")
    parser.add_argument("--refresh-every", type=float, default=None,
                        help="refresh the served snapshot (`ngs serve`) every S seconds meanwhile")
    parser.add_argument("--state", type=Path, default=None,
                        help="Superset state folder (default: a temporary one, Superset stopped at the end)")
    parser.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    try:
        report = run(args.warehouse, args.viewers, args.seconds, args.build_data, args.refresh_every,
                     args.state, args.port)
    except NgsError as exc:
        print(f"loadtest: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"command": "python -m ngs.superset.loadtest " + " ".join(argv or sys.argv[1:]), **report},
                     indent=2))
    failed = report["load"]["errors"] or report.get("refresh", {}).get("failed") \
        or report.get("refresh", {}).get("warnings")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
