"""Dashboards as code, end to end, on two warehouses built by the project's own pipeline: a simulated one
(`ngs simulate` + `ngs build`, what `make demo` serves) and, where ../shared/data holds the BDB 2026
release, a real one (weeks 1 and 11 of the 2023 season through `ngs build`). On each: Superset started by
`ngs serve` on a free port with a temporary state folder, the dashboards opening on that warehouse's
dataset (real wherever there are real games), every chart's data API answering rows, and every
dashboard rendered by Debian's chromium without a chart error or an empty chart. Screenshots go to
`screenshots/<simulated|real>/` (git-ignored).

With NGS_DOCS_SCREENSHOTS=1 the test also writes the README's screenshots (`docs/img/`, scaled to 1000 px
and palette-reduced): the real warehouse's where ../shared/data is present (the real run comes second
and overwrites), the simulated one's for a dashboard the real release cannot fill (QB decisions). They
come from the whole 2023 build:

    ngs build --data ../shared/data/bdb2026 --warehouse warehouse/real2023.duckdb
    NGS_DASHBOARD_REAL_WAREHOUSE=warehouse/real2023.duckdb NGS_DOCS_SCREENSHOTS=1 \
        pytest tests/test_dashboards_browser.py
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
from conftest import REAL_GHOSTING_FILES, EnvVars, require_shared_data

from ngs.paths import REPO_ROOT
from ngs.superset import ADMIN_USER, serve, snapshot_warehouse, stop
from ngs.superset.bundle import check_bundle, load_bundle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO_ROOT / "screenshots"
DOCS_IMG = REPO_ROOT / "docs" / "img"
DOCS_WIDTH = 1000
CHART_TIMEOUT_S = 90
VIEWPORT = {"width": 1400, "height": 1000}
# the lowest chart's bottom edge, in page pixels
_CHARTS_BOTTOM_JS = """() => Math.ceil(Math.max(0, ...[...document.querySelectorAll(
  '[data-test="dashboard-component-chart-holder"]')].map(h => h.getBoundingClientRect().bottom + window.scrollY)))"""
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


@pytest.fixture(scope="module", params=["simulated", "real"])
def dashboard_warehouse(request) -> tuple[str, Path]:
    """(dataset, warehouse). simulated: the session's fully built simulated warehouse (tests/conftest.py:
    ingest, dbt build with every model trained and every test). real: weeks 1 and 11 of the BDB 2026
    release through `ngs build` (every model trained, quick settings); skipped without ../shared/data.

    NGS_DASHBOARD_TEST_WAREHOUSE / NGS_DASHBOARD_REAL_WAREHOUSE=path reuse a warehouse built before
    (quicker while editing charts; the whole 2023 season for the README's screenshots).
    """
    kind = request.param
    env = {"simulated": "NGS_DASHBOARD_TEST_WAREHOUSE", "real": "NGS_DASHBOARD_REAL_WAREHOUSE"}[kind]
    if os.environ.get(env):
        return kind, Path(os.environ[env]).resolve()
    if kind == "simulated":
        return kind, request.getfixturevalue("full_sim_warehouse")
    return kind, _real_weeks(request)


def _real_weeks(request) -> Path:
    """Weeks 1 and 11 of the BDB 2026 release (symlinks to ../shared/data) through `ngs build` as a user runs
    it, every model trained (quick settings) into a folder of its own: week 11 is the ghosting model's
    held-out week, so every model-quality chart has real rows."""
    from ngs.build import build

    request.getfixturevalue("dbt_isolation")
    root = request.getfixturevalue("tmp_path_factory").mktemp("real_dashboards")
    release = root / "release"
    release.mkdir()
    for name in REAL_GHOSTING_FILES:
        (release / name).symlink_to(require_shared_data("bdb2026", name))
    warehouse = root / "real.duckdb"
    with EnvVars(NGS_ARTIFACTS_DIR=str(root / "artifacts")):
        build([release], warehouse, quiet=True)
    return warehouse


@pytest.fixture(scope="module")
def superset(dashboard_warehouse, tmp_path_factory):
    kind, warehouse = dashboard_warehouse
    state = tmp_path_factory.mktemp("superset_state")
    port = _free_port()
    messages: list[str] = []
    t = time.monotonic()
    served = serve(warehouse, state=state, port=port, log=messages.append)
    print(f"\nngs serve ({kind}): up in {time.monotonic() - t:.1f} s {served.timings}")
    try:
        yield kind, served, messages
    finally:
        stop(state)


def _empty_marts(warehouse: Path) -> set[str]:
    """The bundle's marts that hold no rows in this warehouse."""
    import duckdb

    tables = {ds["table_name"] for ds in BUNDLE.datasets().values()}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        have = {t for (t,) in con.execute("select table_name from information_schema.tables "
                                          "where table_schema = 'marts'").fetchall()}
        return {t for t in tables if t not in have or not con.execute(f"select count(*) from marts.{t}").fetchone()[0]}


# What the real BDB 2026 release cannot fill (output-only plays: no passer tracked and no pre-throw tracking
# of every receiver, so no per-option decisions); on simulated data every mart has rows.
REAL_MAY_BE_EMPTY = {"fct_target_options", "rpt_qb_decisions"}


def _chart_tables() -> dict[str, str]:
    datasets = BUNDLE.datasets()
    return {c["slice_name"]: datasets[c["dataset_uuid"]]["table_name"] for c in BUNDLE.charts().values()}


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
    _, tables = snapshot_warehouse(dashboard_warehouse[1], tmp_path)
    check = check_bundle(BUNDLE, tables)
    assert check.ok, "dashboards/ and the marts disagree:\n  " + "\n  ".join(check.problems)


def test_serve_loaded_everything(superset):
    kind, served, messages = superset
    assert served.defaults.get("leaderboards") == kind, f"not opened on the {kind} games: {served.defaults}"
    assert not served.check.problems, served.check.problems
    assert not [m for m in messages if m.startswith("warning")], messages
    assert oct((served.snapshot.parent.parent / "superset_config.py").stat().st_mode & 0o777) == "0o600"


def test_chart_data_api_returns_rows(dashboard_warehouse, superset):
    kind, served, _ = superset
    empty_marts = _empty_marts(dashboard_warehouse[1])
    if kind == "simulated":
        assert not empty_marts, f"marts without rows in the simulated warehouse: {sorted(empty_marts)}"
    else:
        assert empty_marts <= REAL_MAY_BE_EMPTY, f"marts without real rows: {sorted(empty_marts)}"
    may_be_empty = {name for name, table in _chart_tables().items() if table in empty_marts}
    may_be_empty -= {c["slice_name"] for u, c in BUNDLE.charts().items() if u in served.check.bad_charts}
    token = _api(served.url, "/api/v1/security/login",
                 data={"username": ADMIN_USER, "password": served.password, "provider": "db", "refresh": False}
                 )["access_token"]
    charts = _api(served.url, "/api/v1/chart/?q=(page_size:100)", token)["result"]
    by_name = {c["slice_name"]: c["id"] for c in charts}
    # every chart the warehouse can serve (test_serve_loaded_everything: all of them)
    expected = {c["slice_name"] for u, c in BUNDLE.charts().items() if u not in served.check.bad_charts}
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
    assert set(empty) == may_be_empty, f"charts without rows: {empty} (expected: {sorted(may_be_empty)})"


LOGIN_ATTEMPTS = 3
# the requests Superset answered 401 (what sends its frontend back to the login page), newest last
UNAUTHORISED: list[str] = []


def _log_in(page, served) -> None:
    """Log in through Superset's login page, as a user does. Tried up to LOGIN_ATTEMPTS times: once, in CI,
    on a loaded machine, the login page came back (`/login/?next=/superset/welcome/`, Superset's answer to a
    refused login) although the same password had just logged in through the API; each failed attempt
    is reported with the page it ended on, the form's values and the end of Superset's log."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    failures = []
    for attempt in range(1, LOGIN_ATTEMPTS + 1):
        page.goto(served.url + "login/", wait_until="networkidle")
        page.fill("#username", ADMIN_USER)
        page.fill("#password", served.password)
        typed = (page.input_value("#username"), page.input_value("#password") == served.password)
        page.keyboard.press("Enter")
        try:
            page.wait_for_url("**/superset/welcome/**", timeout=60_000)
            page.wait_for_load_state("networkidle")
            return
        except PlaywrightTimeout:
            text = " ".join(page.inner_text("body").split())[:300]
            failures.append(f"attempt {attempt}: at {page.url}; typed (username, password ok) = {typed}; "
                            f"page: {text!r}")
    log = served.snapshot.parent.parent / "superset.log"
    tail = log.read_text(errors="replace").splitlines()[-40:] if log.exists() else ["(no superset.log)"]
    pytest.fail("could not log in to Superset:\n  " + "\n  ".join(failures)
                + f"\nthe end of {log}:\n" + "\n".join(tail))


@pytest.fixture(scope="module")
def browser_page(superset):
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing: apt-get install -y chromium (CI must run the browser test)")
        pytest.skip("/usr/bin/chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    _, served, _ = superset
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.on("response", lambda r: r.status == 401 and UNAUTHORISED.append(f"{r.request.method} {r.url}"))
        _log_in(page, served)
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


# The first rows of a table chart, by its title: [[cell text, ...], ...]
_TABLE_ROWS_JS = """(title) => {
  const h = [...document.querySelectorAll('[data-test="dashboard-component-chart-holder"]')]
    .find(h => ((h.querySelector('[data-test="editable-title"]') || {}).innerText || '').trim() === title);
  if (!h) return null;
  return [...h.querySelectorAll('table tbody tr')].map(tr => [...tr.querySelectorAll('td')].map(td => td.innerText.trim()));
}"""


def _expected_qb_leader(warehouse: Path, dataset: str) -> tuple[str, int]:
    """The passer the QB table should list first when the dashboard opens: the chart's own query (its
    saved metrics and HAVING filter, from the bundle) on the default dataset, run in DuckDB."""
    import duckdb

    chart = next(c for c in BUNDLE.charts().values() if c["slice_name"] == "QB completion % over expected")
    ds = BUNDLE.datasets()[chart["dataset_uuid"]]
    metrics = {m["metric_name"]: m["expression"] for m in ds["metrics"]}
    params = chart["params"]
    having = " and ".join(f["sqlExpression"] for f in params["adhoc_filters"] if f["clause"] == "HAVING")
    group = ", ".join(params["groupby"])
    sort = metrics[params["timeseries_limit_metric"]]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        name, attempts = con.execute(
            f"select passer_name, {metrics['attempts']} from marts.{ds['table_name']} where dataset = ? "
            f"group by {group} having {having} order by {sort} desc, 2 desc limit 1", [dataset]).fetchone()
    return name, attempts


def _is_filter_query(response) -> bool:
    """A native filter's request for its values (same endpoint as a chart's data)."""
    try:
        viz = (response.request.post_data_json or {}).get("form_data", {}).get("viz_type", "")
    except ValueError:
        return False
    return viz.startswith("filter_")


def _blank_grid(screenshot: Path) -> bool:
    """Whether the screenshot's chart area (right of the filter bar, below the header) is one flat colour."""
    from PIL import Image

    with Image.open(screenshot) as img:
        grid = img.convert("RGB").crop((300, 100, img.width, img.height))
        return grid.getcolors(maxcolors=64) is not None  # None: more than 64 colours, i.e. something drawn


def _docs_copy(screenshot: Path, out: Path) -> None:
    """The README's copy: 1000 px wide, palette-reduced (a dashboard is flat colours: ~100 KB, not 500)."""
    from PIL import Image

    with Image.open(screenshot) as img:
        img = img.convert("RGB")
        img = img.resize((DOCS_WIDTH, round(img.height * DOCS_WIDTH / img.width)), Image.LANCZOS)
        img.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)


_SETTLED_OR_LOGIN_JS = "(n) => location.pathname.startsWith('/login') || (" + _SETTLED_JS + ")(n)"


def _open_dashboard(page, served, slug: str, n_charts: int) -> None:
    """Open a dashboard and wait until every chart has settled. Superset's frontend sends the browser back to
    its login page when a request is answered 401; seen once, on a quiet machine, right after a login that
    had succeeded. Then the test logs in again and opens the dashboard once more (printing what was answered
    401), and fails if that happens twice."""
    bounces = []
    for _ in range(2):
        del UNAUTHORISED[:]
        page.goto(f"{served.url}superset/dashboard/{slug}/?standalone=1")
        page.wait_for_function(_SETTLED_OR_LOGIN_JS, arg=n_charts, timeout=CHART_TIMEOUT_S * 1000, polling=250)
        if not page.url.split("?")[0].endswith("/login/"):
            return
        bounces.append(f"sent to {page.url}; answered 401: {UNAUTHORISED[-5:] or 'nothing seen'}")
        print(f"\n{slug}: {bounces[-1]}; logging in again")
        _log_in(page, served)
    pytest.fail(f"{slug}: Superset sent the browser back to its login page twice:\n  " + "\n  ".join(bounces))


@pytest.mark.parametrize("slug", DASHBOARDS)
def test_dashboard_renders(dashboard_warehouse, superset, browser_page, slug):
    kind, served, _ = superset
    dash = next(d for d in BUNDLE.dashboards().values() if d["slug"] == slug)
    tables = {_chart_tables()[n["meta"]["sliceName"]] for n in dash["position"].values()
              if isinstance(n, dict) and n.get("type") == "CHART"}
    if kind == "real" and tables & _empty_marts(dashboard_warehouse[1]):
        assert slug not in ("leaderboards", "model-quality")
        pytest.skip(f"{slug}: the real release fills none of {sorted(tables & REAL_MAY_BE_EMPTY)}")
    n_charts = sum(1 for n in dash["position"].values() if isinstance(n, dict) and n.get("type") == "CHART")
    page = browser_page
    data_responses = []

    def on_response(response) -> None:
        if "/api/v1/chart/data" in response.url:
            data_responses.append(response)

    page.on("response", on_response)
    try:
        _open_dashboard(page, served, slug, n_charts)
        deadline = time.monotonic() + 30
        while len(data_responses) < n_charts and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        page.wait_for_load_state("networkidle")
        # settled again: a filter that loads its values late can re-render the grid after the first settle
        page.wait_for_function(_SETTLED_JS, arg=n_charts, timeout=CHART_TIMEOUT_S * 1000, polling=250)
        page.wait_for_timeout(800)  # let ECharts finish its entry animation before the screenshot
        _wait_drawn(page, n_charts)
        shot = SCREENSHOTS / kind / f"{slug}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        # every chart in one viewport, redrawn for it, then a screenshot of that viewport: a full-page
        # screenshot resizes the viewport itself (the page grows with it) and caught the grid blank, mid-redraw
        page.set_viewport_size({"width": VIEWPORT["width"],
                                "height": max(VIEWPORT["height"], page.evaluate(_CHARTS_BOTTOM_JS) + 24)})
        page.wait_for_function(_SETTLED_JS, arg=n_charts, timeout=CHART_TIMEOUT_S * 1000, polling=250)
        _wait_drawn(page, n_charts)
        page.wait_for_timeout(1500)  # ECharts' entry animation after the redraw
        page.screenshot(path=str(shot))
        drawn = _wait_drawn(page, n_charts)
        page.set_viewport_size(VIEWPORT)
        bad_http = [f"{r.status} {r.url}" for r in data_responses if r.status >= 400]
        empty = []
        for r in data_responses:
            if r.status < 400:
                for res in r.json().get("result", []):
                    if not res.get("rowcount"):
                        empty.append(res.get("query", "")[:200])
        problems = page.evaluate(_PROBLEMS_JS)
        qb_rows = page.evaluate(_TABLE_ROWS_JS, "QB completion % over expected")
        filter_bar = page.inner_text("body") if slug == "leaderboards" else ""
    finally:
        page.remove_listener("response", on_response)
    assert len(data_responses) >= n_charts, f"{slug}: {len(data_responses)} chart queries for {n_charts} charts"
    assert not bad_http, f"{slug}: chart data requests failed: {bad_http}"
    assert not empty, f"{slug}: chart queries returned no rows: {empty}"
    assert not problems, f"{slug}: charts with an error or no data: {problems}"
    assert drawn >= n_charts, f"{slug}: {drawn} of {n_charts} charts drawn when the screenshot was taken"
    assert not _blank_grid(shot), f"{slug}: the screenshot {shot} shows no chart (a blank grid)"
    dataset_filter = next((f for f in dash["metadata"]["native_filter_configuration"] if f["name"] == "Dataset"),
                          None)
    if dataset_filter and served.defaults.get(slug):
        # opened on this warehouse's games (real wherever the dashboard's mart has real rows)
        queries = [res.get("query", "") for r in data_responses if not _is_filter_query(r)
                   for res in r.json().get("result", [])]
        in_scope = n_charts - len(dataset_filter["scope"]["excluded"])
        filtered = [q for q in queries if f"dataset IN ('{served.defaults[slug]}')" in q]
        assert len(filtered) >= in_scope, f"{slug}: {len(filtered)} of {in_scope} charts on the default: {queries}"
    if slug == "leaderboards":
        # per passer over every week of the default dataset: the chart's own query, run in DuckDB
        assert "Week" in filter_bar
        name, attempts = _expected_qb_leader(dashboard_warehouse[1], kind)
        assert qb_rows and qb_rows[0][0] == name and str(attempts) in qb_rows[0], (name, attempts, qb_rows[:3])
    if os.environ.get("NGS_DOCS_SCREENSHOTS") == "1":  # the real run comes second and overwrites what it draws
        _docs_copy(shot, DOCS_IMG / f"{slug}.png")


def test_screenshots_dir_is_ignored():
    """The screenshots this test writes never show up as changes: git ignores screenshots/."""
    git = shutil.which("git")
    if git is None:
        pytest.fail("git is not installed: cannot check that screenshots/ is git-ignored (install git)")
    out = subprocess.run([git, "check-ignore", "-v", "screenshots/x.png"], cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, f"screenshots/ is not git-ignored (git check-ignore: {out.returncode} {out.stderr})"
    assert out.stdout.startswith(".gitignore:"), out.stdout  # the project's own ignore file, not a user's
