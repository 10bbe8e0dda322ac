"""Dashboards as code, end to end: a small warehouse built by the project's own pipeline (`ngs simulate`
+ `ngs build`), Superset started by `ngs serve` on a free port with a temporary state folder, every
chart's data API answering rows, and every dashboard rendered by Debian's chromium without a chart
error or an empty chart. Screenshots go to `screenshots/` (git-ignored).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ngs.paths import REPO_ROOT
from ngs.superset import ADMIN_USER, serve, snapshot_warehouse, stop
from ngs.superset.bundle import check_bundle, load_bundle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO_ROOT / "screenshots"
CHART_TIMEOUT_S = 90
BUNDLE = load_bundle()
DASHBOARDS = sorted(d["slug"] for d in BUNDLE.dashboards().values())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ngs(*args: str, env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "ngs.cli", *args], cwd=REPO_ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.returncode == 0, f"ngs {' '.join(args)} failed:\n{proc.stdout[-4000:]}"


@pytest.fixture(scope="module")
def dashboard_warehouse(request) -> Path:
    """The session's fully built simulated warehouse (tests/conftest.py: ingest, dbt build with every model
    trained and every test).

    NGS_DASHBOARD_TEST_WAREHOUSE=path reuses a warehouse built before (quicker while editing charts).
    """
    if os.environ.get("NGS_DASHBOARD_TEST_WAREHOUSE"):
        return Path(os.environ["NGS_DASHBOARD_TEST_WAREHOUSE"]).resolve()
    return request.getfixturevalue("full_sim_warehouse")


@pytest.fixture(scope="module")
def superset(dashboard_warehouse, tmp_path_factory):
    state = tmp_path_factory.mktemp("superset_state")
    port = _free_port()
    messages: list[str] = []
    t = time.monotonic()
    served = serve(dashboard_warehouse, state=state, port=port, log=messages.append)
    print(f"\nngs serve: up in {time.monotonic() - t:.1f} s {served.timings}")
    try:
        yield served, messages
    finally:
        stop(state)


def _api(base: str, path: str, token: str | None = None, data: dict | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = None
    if data is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(data).encode()
    req = urllib.request.Request(base.rstrip("/") + path, data=body, headers=headers)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def test_bundle_matches_warehouse(dashboard_warehouse, tmp_path):
    """Every dataset in dashboards/ names a mart and columns that the built warehouse has."""
    _, tables = snapshot_warehouse(dashboard_warehouse, tmp_path)
    check = check_bundle(BUNDLE, tables)
    assert check.ok, "dashboards/ and the marts disagree:\n  " + "\n  ".join(check.problems)


def test_serve_loaded_everything(superset):
    served, messages = superset
    assert not served.check.problems, served.check.problems
    assert not [m for m in messages if m.startswith("warning")], messages
    assert oct((served.snapshot.parent.parent / "superset_config.py").stat().st_mode & 0o777) == "0o600"


def test_chart_data_api_returns_rows(superset):
    served, _ = superset
    token = _api(served.url, "/api/v1/security/login",
                 data={"username": ADMIN_USER, "password": served.password, "provider": "db", "refresh": False}
                 )["access_token"]
    charts = _api(served.url, "/api/v1/chart/?q=(page_size:100)", token)["result"]
    by_name = {c["slice_name"]: c["id"] for c in charts}
    expected = {c["slice_name"] for c in BUNDLE.charts().values()}
    assert expected <= set(by_name), f"charts not imported: {sorted(expected - set(by_name))}"
    empty, failed = [], []
    for name in sorted(expected):
        try:
            result = _api(served.url, f"/api/v1/chart/{by_name[name]}/data/", token)["result"]
        except urllib.error.HTTPError as exc:
            failed.append(f"{name}: HTTP {exc.code} {exc.read()[:300]!r}")
            continue
        if not result or any(r.get("rowcount", 0) == 0 for r in result):
            empty.append(name)
    assert not failed, "chart data API errors:\n  " + "\n  ".join(failed)
    assert not empty, f"charts without rows: {empty}"


@pytest.fixture(scope="module")
def browser_page(superset):
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing: apt-get install -y chromium (CI must run the browser test)")
        pytest.skip("/usr/bin/chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    served, _ = superset
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(served.url + "login/")
        page.fill("#username", ADMIN_USER)
        page.fill("#password", served.password)
        page.keyboard.press("Enter")
        page.wait_for_url("**/superset/welcome/**", timeout=60_000)
        yield page
        browser.close()


# Whether every chart holder has finished: no spinner, and either a drawing, a table or a message.
_SETTLED_JS = """(n) => {
  const holders = [...document.querySelectorAll('[data-test="dashboard-component-chart-holder"]')];
  if (holders.length < n) return false;
  return holders.every(h => !h.querySelector('[data-test="loading-indicator"]') &&
    (h.querySelector('canvas, svg, table') || h.querySelector('[data-test="empty-state"], [role="alert"]')));
}"""
_DRAWN_JS = """() => [...document.querySelectorAll('[data-test="dashboard-component-chart-holder"]')]
  .filter(h => h.querySelector('canvas, table tbody tr')).length"""
_PROBLEMS_JS = """() => [...document.querySelectorAll('[data-test="dashboard-component-chart-holder"]')]
  .map(h => ({title: (h.querySelector('[data-test="editable-title"]') || {}).innerText || '?',
              drawn: !!h.querySelector('canvas, table tbody tr'),
              message: [...h.querySelectorAll('[data-test="empty-state"], [role="alert"], .ant-alert')]
                         .map(e => e.innerText.trim()).join(' | ')}))
  .filter(c => !c.drawn || c.message)"""


def _wait_drawn(page, n_charts: int, timeout_s: float = 30) -> int:
    """How many charts are drawn (a canvas or table rows), waiting up to timeout_s for all n_charts."""
    deadline = time.monotonic() + timeout_s
    drawn = page.evaluate(_DRAWN_JS)
    while drawn < n_charts and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        drawn = page.evaluate(_DRAWN_JS)
    return drawn


@pytest.mark.parametrize("slug", DASHBOARDS)
def test_dashboard_renders(superset, browser_page, slug):
    served, _ = superset
    dash = next(d for d in BUNDLE.dashboards().values() if d["slug"] == slug)
    n_charts = sum(1 for n in dash["position"].values() if isinstance(n, dict) and n.get("type") == "CHART")
    page = browser_page
    data_responses = []

    def on_response(response) -> None:
        if "/api/v1/chart/data" in response.url:
            data_responses.append(response)

    page.on("response", on_response)
    try:
        page.goto(f"{served.url}superset/dashboard/{slug}/?standalone=1")
        page.wait_for_function(_SETTLED_JS, arg=n_charts, timeout=CHART_TIMEOUT_S * 1000, polling=250)
        deadline = time.monotonic() + 30
        while len(data_responses) < n_charts and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        page.wait_for_load_state("networkidle")
        # settled again: a filter that loads its values late can re-render the grid after the first settle
        page.wait_for_function(_SETTLED_JS, arg=n_charts, timeout=CHART_TIMEOUT_S * 1000, polling=250)
        page.wait_for_timeout(800)  # let ECharts finish its entry animation before the screenshot
        _wait_drawn(page, n_charts)
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{slug}.png"), full_page=True)
        # a full-page screenshot resizes the viewport and Superset redraws every chart: wait for the redraw
        drawn = _wait_drawn(page, n_charts)
        bad_http = [f"{r.status} {r.url}" for r in data_responses if r.status >= 400]
        empty = []
        for r in data_responses:
            if r.status < 400:
                for res in r.json().get("result", []):
                    if not res.get("rowcount"):
                        empty.append(res.get("query", "")[:200])
        problems = page.evaluate(_PROBLEMS_JS)
    finally:
        page.remove_listener("response", on_response)
    assert len(data_responses) >= n_charts, f"{slug}: {len(data_responses)} chart queries for {n_charts} charts"
    assert not bad_http, f"{slug}: chart data requests failed: {bad_http}"
    assert not empty, f"{slug}: chart queries returned no rows: {empty}"
    assert not problems, f"{slug}: charts with an error or no data: {problems}"
    assert drawn >= n_charts, f"{slug}: {drawn} of {n_charts} charts drawn when the screenshot was taken"


def test_screenshots_dir_is_ignored():
    out = subprocess.run(["git", "check-ignore", "-q", "screenshots/x.png"], cwd=REPO_ROOT)
    assert out.returncode == 0 or shutil.which("git") is None
