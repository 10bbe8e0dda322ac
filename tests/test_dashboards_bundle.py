"""Dashboards as code, without Superset: the YAML in `dashboards/` is what the generator writes, every
chart and filter names columns and metrics its dataset has, the exposures name the marts each dashboard
reads, and the load-time templating (database URI, the Dataset filters' default) is complete.

The end-to-end checks (Superset importing the bundle, every chart answering rows and drawing in
chromium) are in test_dashboards_browser.py.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import duckdb
import pytest
import yaml

from ngs.paths import REPO_ROOT
from ngs.superset import generate
from ngs.superset.bundle import (
    DATASET_PLACEHOLDER,
    URI_PLACEHOLDER,
    Bundle,
    build_zip,
    check_bundle,
    dashboard_defaults,
    dataset_filter_tables,
    dataset_values,
    default_dataset,
    load_bundle,
    set_default_dataset,
)

BUNDLE = load_bundle()
URI = "duckdb:////tmp/serving/ngs.duckdb?access_mode=read_only"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    """`dbt parse` of the checkout (no warehouse), once for the module."""
    return generate.parse_manifest(REPO_ROOT)


@pytest.mark.timeout(300)
def test_generating_from_the_committed_state_changes_nothing(manifest):
    """Round trip: the specs and the dbt manifest make, byte for byte, the committed dashboards/ and
    models/marts/_exposures.yml, and no file in the bundle's sections is left over."""
    made = generate.generate(manifest)
    assert not made.skipped
    on_disk = {p.relative_to(generate.BUNDLE_DIR).as_posix(): p.read_bytes()
               for p in generate.BUNDLE_DIR.rglob("*.yaml")}
    assert {rel: text.encode() for rel, text in made.bundle.items()} == on_disk, (
        "dashboards/ is not what the generator makes: rerun `python -m ngs.superset.generate`")
    assert made.exposures.encode() == (REPO_ROOT / generate.EXPOSURES_REL).read_bytes()
    plan = generate.plan(made, generate.BUNDLE_DIR, REPO_ROOT / generate.EXPOSURES_REL)
    assert plan.clean and plan.changed == {} and plan.stale == []


@pytest.mark.timeout(300)
def test_every_dataset_column_is_in_its_mart_with_the_contract_type(manifest):
    """Each dataset column (not a calculated one) is a column of the mart's dbt model, with its declared
    data_type (a SQL mart's enforced contract) and description; a SQL mart's contract is enforced."""
    marts = generate.marts_from_manifest(manifest)
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    checked = 0
    for ds in BUNDLE.datasets().values():
        mart = marts[ds["table_name"]]
        node = nodes[ds["table_name"]]
        if node["language"] == "sql":
            assert node["contract"]["enforced"], f"marts.{mart.name} has no enforced contract"
        for col in ds["columns"]:
            if col["expression"]:
                continue
            declared = mart.columns.get(col["column_name"])
            assert declared is not None, f"{mart.name}.{col['column_name']}: not a column of the mart"
            assert declared.data_type and col["type"] == generate.superset_type(declared.data_type), (
                f"{mart.name}.{col['column_name']}: dataset type {col['type']}, dbt YAML {declared.data_type!r}")
            assert col["description"] == declared.description and declared.description, col["column_name"]
            checked += 1
    assert checked == sum(len(cols) for cols in generate.DATASETS.values()) == 108
    # the drift the hand-copied types had: the contracts' types now
    play_quality = {c["column_name"]: c["type"] for c in BUNDLE.datasets()[generate._uuid("dataset", "fct_play_quality")]["columns"]}
    tracking = {c["column_name"]: c["type"] for c in BUNDLE.datasets()[generate._uuid("dataset", "fct_tracking")]["columns"]}
    assert play_quality["missing_frames"] == "BIGINT" and tracking["frame_id"] == "INTEGER"


def _mart(manifest: dict, name: str) -> dict:
    return next(n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == name)


@pytest.mark.timeout(300)
def test_a_column_the_contract_lacks_or_types_differently_is_refused_or_followed(manifest):
    """A dataset column the mart does not have fails generation naming it; a contract's type change
    reaches the dataset (nothing is hand-copied)."""
    broken = json.loads(json.dumps(manifest))
    del _mart(broken, "fct_play_quality")["columns"]["missing_frames"]
    with pytest.raises(generate.GenerateError, match="fct_play_quality: column.s. missing_frames are not in"):
        generate.generate(broken)
    untyped = json.loads(json.dumps(manifest))
    _mart(untyped, "fct_ghost_trajectories")["columns"]["error_yd"]["data_type"] = None
    with pytest.raises(generate.GenerateError, match="fct_ghost_trajectories: column.s. error_yd have no data_type"):
        generate.generate(untyped)
    retyped = json.loads(json.dumps(manifest))
    _mart(retyped, "fct_play_quality")["columns"]["missing_frames"]["data_type"] = "hugeint"
    made = generate.generate(retyped)
    ds = yaml.safe_load(made.bundle["datasets/ngs_warehouse/fct_play_quality.yaml"])
    assert {c["column_name"]: c["type"] for c in ds["columns"]}["missing_frames"] == "HUGEINT"


@pytest.mark.timeout(300)
def test_generator_writes_only_its_outputs_and_prunes_only_when_asked(manifest, tmp_path, capsys):
    """The CLI writes the bundle and the exposures file it is given, only where the text changes; a stale
    file in a bundle section is listed (exit 1) and deleted only with --prune; --check writes nothing."""
    manifest_file = tmp_path / "manifest.json"
    manifest_file.write_text(json.dumps(manifest))
    committed = {p: p.read_bytes() for p in [*generate.BUNDLE_DIR.rglob("*"), REPO_ROOT / generate.EXPOSURES_REL]
                 if p.is_file()}
    out, exposures = tmp_path / "bundle", tmp_path / "exposures.yml"
    args = ["--manifest", str(manifest_file), "--out", str(out), "--exposures", str(exposures)]
    assert generate.main([*args, "--check"]) == 1 and not out.exists() and not exposures.exists()
    assert generate.main(args) == 0
    assert load_bundle(out).files == BUNDLE.files
    assert exposures.read_bytes() == (REPO_ROOT / generate.EXPOSURES_REL).read_bytes()
    stale = out / "charts" / "old_chart.yaml"
    stale.write_text("slice_name: old\n")
    keep = out / "notes.txt"  # outside the sections: never touched
    keep.write_text("mine")
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.yaml")}
    capsys.readouterr()
    assert generate.main(args) == 1  # nothing to write, one stale file
    text = capsys.readouterr().out
    assert f"stale (not made by the specs): {stale}" in text and "0 file(s) written" in text
    assert stale.exists() and {p: p.stat().st_mtime_ns for p in out.rglob("*.yaml")} == mtimes
    assert generate.main([*args, "--check"]) == 1
    assert generate.main([*args, "--prune"]) == 0 and not stale.exists() and keep.read_text() == "mine"
    assert generate.main([*args, "--check"]) == 0
    assert generate.main([*args[:4], "--no-exposures"]) == 0
    # the checkout's own files were never touched
    assert {p: p.read_bytes() for p in committed} == committed


def test_generator_reports_a_failed_dbt_parse_in_one_line(tmp_path, capsys):
    bad = tmp_path / "manifest.json"
    bad.write_text("{not json")
    assert generate.main(["--manifest", str(bad), "--out", str(tmp_path / "b"), "--check"]) == 2
    assert capsys.readouterr().out.startswith("error: ")
    with pytest.raises(generate.GenerateError, match="dbt parse failed in"):
        generate.parse_manifest(tmp_path)


@pytest.mark.slow
def test_dataset_types_are_the_built_warehouse_types(full_sim_warehouse):
    """The declared types are the built ones: a SQL mart's by its enforced contract, a Python model's as
    pandas and DuckDB write it (dbt enforces no contract there, so this is the check)."""
    con = duckdb.connect(str(full_sim_warehouse), read_only=True)
    try:
        rows = con.execute("select table_name, column_name, data_type from information_schema.columns "
                           "where table_schema = 'marts'").fetchall()
    finally:
        con.close()
    built = {(t, c): d for t, c, d in rows}
    wrong = [f"{ds['table_name']}.{c['column_name']}: dataset {c['type']}, warehouse "
             f"{built.get((ds['table_name'], c['column_name']), 'missing')}"
             for ds in BUNDLE.datasets().values() for c in ds["columns"]
             if not c["expression"] and built.get((ds["table_name"], c["column_name"])) != c["type"]]
    assert not wrong, "\n".join(wrong)


def _chart_columns(params: dict) -> set[str]:
    cols = set(params.get("groupby") or []) | set(params.get("all_columns") or [])
    if params.get("x_axis"):
        cols.add(params["x_axis"])
    for f in params.get("adhoc_filters") or []:
        if f.get("expressionType") == "SIMPLE":
            cols.add(f["subject"])
    for m in params.get("metrics") or []:
        if isinstance(m, dict) and m.get("expressionType") == "SIMPLE":
            cols.add(m["column"]["column_name"])
    return cols


def test_charts_and_filters_name_what_their_dataset_has():
    datasets = BUNDLE.datasets()
    for chart in BUNDLE.charts().values():
        ds = datasets[chart["dataset_uuid"]]
        columns = {c["column_name"] for c in ds["columns"]}
        metrics = {m["metric_name"] for m in ds["metrics"]}
        params = chart["params"]
        missing = _chart_columns(params) - columns
        assert not missing, f"{chart['slice_name']}: columns {missing} not in dataset {ds['table_name']}"
        saved = {m for m in params.get("metrics") or [] if isinstance(m, str)}
        labels = {m["label"] for m in params.get("metrics") or [] if isinstance(m, dict)}
        for key in ("timeseries_limit_metric", "x_axis_sort"):
            if isinstance(params.get(key), str) and params[key] not in columns | labels:
                saved.add(params[key])
        assert saved <= metrics, f"{chart['slice_name']}: metrics {saved - metrics} not in {ds['table_name']}"
        query = json.loads(chart["query_context"])["queries"][0]  # what the chart data API runs
        assert set(query["columns"]) <= columns, chart["slice_name"]
        assert {m for m in query["metrics"] if isinstance(m, str)} <= metrics, chart["slice_name"]
    for dash in BUNDLE.dashboards().values():
        for f in dash["metadata"]["native_filter_configuration"]:
            target = f["targets"][0]
            ds = datasets[target["datasetUuid"]]
            assert target["column"]["name"] in {c["column_name"] for c in ds["columns"]}, (dash["slug"], f["name"])


def test_leaderboards_filter_by_week_and_open_on_the_default_dataset():
    dash = next(d for d in BUNDLE.dashboards().values() if d["slug"] == "leaderboards")
    filters = {f["name"]: f for f in dash["metadata"]["native_filter_configuration"]}
    assert filters["Week"]["filterType"] == "filter_range"
    assert filters["Week"]["targets"][0]["column"]["name"] == "week"
    assert filters["Dataset"]["defaultDataMask"]["filterState"] == {"value": [DATASET_PLACEHOLDER]}
    # the week-grain charts aggregate passes (saved metrics), they do not read a season mart
    charts = BUNDLE.charts()
    in_scope = {n["meta"]["chartId"] for n in dash["position"].values()
                if isinstance(n, dict) and n.get("type") == "CHART"} - set(filters["Week"]["scope"]["excluded"])
    by_id = {n["meta"]["chartId"]: charts[n["meta"]["uuid"]] for n in dash["position"].values()
             if isinstance(n, dict) and n.get("type") == "CHART"}
    assert {by_id[i]["slice_name"] for i in in_scope} >= {"QB completion % over expected",
                                                        "Receiver separation at arrival"}
    datasets = BUNDLE.datasets()
    for i in in_scope:
        assert datasets[by_id[i]["dataset_uuid"]]["table_name"] == "fct_pass_attempts_scored"


def _zip_files(data: bytes) -> dict[str, dict]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n.split("/", 1)[1]: yaml.safe_load(zf.read(n)) for n in zf.namelist()}


def _dataset_filter(files: dict[str, dict]) -> dict:
    dash = files["dashboards/leaderboards.yaml"]
    return next(f for f in dash["metadata"]["native_filter_configuration"] if f["name"] == "Dataset")


ALL = ("leaderboards", "qb-decisions")  # the dashboards with a Dataset filter


def test_dataset_filters_read_marts_with_a_dataset_column():
    assert dataset_filter_tables(BUNDLE) == {"dim_games", "fct_pass_attempts_scored", "rpt_qb_decisions"}
    assert set(dashboard_defaults(BUNDLE, {})) == set(ALL)


@pytest.mark.parametrize("dataset", ["real", "simulated"])
def test_zip_opens_the_dashboards_on_the_dataset(dataset):
    data = build_zip(BUNDLE, URI, defaults={slug: dataset for slug in ALL})
    assert DATASET_PLACEHOLDER.encode() not in data and URI_PLACEHOLDER.encode() not in data
    mask = _dataset_filter(_zip_files(data))["defaultDataMask"]
    assert mask["filterState"] == {"value": [dataset]}
    assert mask["extraFormData"] == {"filters": [{"col": "dataset", "op": "IN", "val": [dataset]}]}
    # the git copy is untouched
    assert _dataset_filter(BUNDLE.files)["defaultDataMask"]["filterState"] == {"value": [DATASET_PLACEHOLDER]}


def test_each_dashboard_opens_on_what_its_mart_holds():
    """A warehouse of real and simulated games where the real release fills no decision mart: the
    leaderboards open on the real games, QB decisions on the simulated ones."""
    values = {"dim_games": {"real", "simulated"}, "fct_pass_attempts_scored": {"real", "simulated"},
              "rpt_qb_decisions": {"simulated"}}
    defaults = dashboard_defaults(BUNDLE, values)
    assert defaults == {"leaderboards": "real", "qb-decisions": "simulated"}
    # a simulated warehouse whose marts also hold rows of real tracks read from outside it (the ghosting
    # model's): the games are simulated, so is the default
    values = {"dim_games": {"simulated"}, "fct_pass_attempts_scored": {"real", "simulated"},
              "rpt_qb_decisions": {"simulated"}}
    assert set(dashboard_defaults(BUNDLE, values).values()) == {"simulated"}
    files = _zip_files(build_zip(BUNDLE, URI, defaults=defaults))
    for slug, value in defaults.items():
        f = next(f for f in files[f"dashboards/{slug}.yaml"]["metadata"]["native_filter_configuration"]
                 if f["name"] == "Dataset")
        assert f["defaultDataMask"]["filterState"] == {"value": [value]}, slug


def test_zip_without_a_dataset_has_no_default():
    files = _zip_files(build_zip(BUNDLE, URI, defaults=dashboard_defaults(BUNDLE, {})))
    mask = _dataset_filter(files)["defaultDataMask"]
    assert mask["filterState"] == {} and mask["extraFormData"] == {}
    assert files["databases/ngs_warehouse.yaml"]["sqlalchemy_uri"] == URI


def test_unknown_dataset_or_stray_placeholder_is_refused():
    with pytest.raises(ValueError, match="expected one of real, simulated"):
        build_zip(BUNDLE, URI, defaults={"leaderboards": "demo"})
    files = json.loads(json.dumps(BUNDLE.files))
    chart = next(p for p in files if p.startswith("charts/"))
    files[chart]["description"] = f"for {DATASET_PLACEHOLDER}"
    with pytest.raises(ValueError, match=f"dashboards/{chart}: .*NGS_DEFAULT_DATASET"):
        build_zip(Bundle(files), URI, defaults={"leaderboards": "real"})


def test_older_warehouse_without_the_pass_mart_still_zips():
    """A warehouse built before fct_pass_attempts_scored: its charts and the filters on it are left out,
    the closing leaderboard stays, and no placeholder is left behind."""
    tables = {(ds.get("schema") or "main", ds["table_name"]): {c["column_name"]: c["type"] for c in ds["columns"]}
              for ds in BUNDLE.datasets().values() if ds["table_name"] != "fct_pass_attempts_scored"}
    check = check_bundle(BUNDLE, tables)
    assert check.problems == ["dataset marts.fct_pass_attempts_scored: table missing in the warehouse"]
    files = _zip_files(build_zip(BUNDLE, URI, check, defaults={"leaderboards": None, "qb-decisions": "simulated"}))
    dash = files["dashboards/leaderboards.yaml"]
    charts = {n["meta"]["sliceName"] for n in dash["position"].values() if isinstance(n, dict) and n.get("type") == "CHART"}
    assert charts == {"Defensive backs: closing on the target (lower = closes faster)",
                      "Mean closing score by defender (lower = better)"}
    assert dash["metadata"]["native_filter_configuration"] == []
    assert "datasets/ngs_warehouse/fct_pass_attempts_scored.yaml" not in files


def test_default_dataset_prefers_real():
    assert default_dataset({"real", "simulated"}) == "real"
    assert default_dataset({"real"}) == "real"
    assert default_dataset({"simulated"}) == "simulated"
    assert default_dataset(set()) is None


def test_set_default_dataset_leaves_other_filters_alone():
    dash = next(d for d in BUNDLE.dashboards().values() if d["slug"] == "leaderboards")
    out = set_default_dataset(dash, "real")
    before = {f["name"]: f for f in dash["metadata"]["native_filter_configuration"]}
    after = {f["name"]: f for f in out["metadata"]["native_filter_configuration"]}
    assert {n: f for n, f in after.items() if n != "Dataset"} == {n: f for n, f in before.items() if n != "Dataset"}


def _warehouse(path: Path, sql: str) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    if sql:
        con.execute(sql)
    con.close()
    return path


def test_dataset_values(tmp_path):
    wh = _warehouse(tmp_path / "wh.duckdb", """
        create table marts.fct_pass_attempts_scored as select * from
            (values (1, 'real'), (2, 'simulated'), (3, null)) t(play_id, dataset);
        create table marts.rpt_model_metrics as select 'x' as model, 'simulated' as dataset;
        create table marts.rpt_qb_decisions as select 1 as passer_nfl_id""")  # an older mart: no dataset column
    assert dataset_values(wh, dataset_filter_tables(BUNDLE)) == {"fct_pass_attempts_scored": {"real", "simulated"}}
    assert dataset_values(wh, {"rpt_model_metrics", "dim_games"}) == {"rpt_model_metrics": {"simulated"}}
    assert dashboard_defaults(BUNDLE, dataset_values(wh, dataset_filter_tables(BUNDLE))) == {
        "leaderboards": "real", "qb-decisions": None}
    con = duckdb.connect(str(wh))
    con.execute("create table marts.dim_games as select 1 as game_id, 'simulated' as dataset")
    con.close()
    assert dashboard_defaults(BUNDLE, dataset_values(wh, dataset_filter_tables(BUNDLE))) == {
        "leaderboards": "simulated", "qb-decisions": None}
    assert dataset_values(_warehouse(tmp_path / "empty.duckdb", ""), {"rpt_model_metrics"}) == {}


def test_exposures_name_the_marts_each_dashboard_reads():
    exposures = yaml.safe_load((REPO_ROOT / "models" / "marts" / "_exposures.yml").read_text())["exposures"]
    by_name = {e["name"]: {d.removeprefix("ref('").removesuffix("')") for d in e["depends_on"]} for e in exposures}
    datasets, charts = BUNDLE.datasets(), BUNDLE.charts()
    for dash in BUNDLE.dashboards().values():
        tables = {datasets[charts[n["meta"]["uuid"]]["dataset_uuid"]]["table_name"]
                  for n in dash["position"].values() if isinstance(n, dict) and n.get("type") == "CHART"}
        tables |= {datasets[f["targets"][0]["datasetUuid"]]["table_name"]
                   for f in dash["metadata"]["native_filter_configuration"]}
        assert by_name[dash["slug"].replace("-", "_")] == tables, dash["slug"]
    assert "fct_pass_attempts_scored" in by_name["leaderboards"]


# ------------------------------------------------------------------ the saved metrics = the season marts
def _metric_sql(name: str) -> str:
    ds = next(d for d in BUNDLE.datasets().values() if d["table_name"] == "fct_pass_attempts_scored")
    return next(m["expression"] for m in ds["metrics"] if m["metric_name"] == name)


@pytest.mark.slow
def test_saved_metrics_over_all_weeks_equal_the_season_marts(full_sim_warehouse):
    """The leaderboards' week-grain metrics, over every week, give rpt_qb_cpoe's and
    rpt_receiver_separation's figures: one definition of CPOE, in dbt, that the dashboards only regroup."""
    con = duckdb.connect(str(full_sim_warehouse), read_only=True)
    try:
        qb = {"attempts": "attempts", "completions": "completions", "completion_rate": "completion_rate",
              "expected_completion_rate": "expected_completion_rate", "cpoe_pct": "cpoe_pct"}
        rows = con.execute(f"""
            with weekly as (
                select dataset, season, club, passer_name,
                       {', '.join(f'{_metric_sql(m)} as {m}' for m in qb)}
                from marts.fct_pass_attempts_scored group by all)
            select count(*), count(weekly.passer_name),
                   max(abs(weekly.cpoe_pct - r.cpoe_pct)), max(abs(weekly.attempts - r.attempts)),
                   max(abs(weekly.completions - r.completions)),
                   max(abs(weekly.completion_rate - r.completion_rate)),
                   max(abs(weekly.expected_completion_rate - r.expected_completion_rate))
            from marts.rpt_qb_cpoe r left join weekly using (dataset, season, club, passer_name)""").fetchone()
        n, matched, *diffs = rows
        assert n > 0 and matched == n, f"{n - matched} of {n} rpt_qb_cpoe rows have no week-grain group"
        assert max(diffs) < 1e-9, diffs
        rec = ["targets", "catches", "catch_rate", "expected_catch_rate", "catch_rate_over_expected_pct",
               "mean_separation_arrival_yd"]
        rows = con.execute(f"""
            with weekly as (
                select dataset, season, club, target_nfl_id as receiver_nfl_id,
                       {', '.join(f'{_metric_sql(m)} as {m}' for m in rec)}
                from marts.fct_pass_attempts_scored group by all)
            select count(*), count(weekly.receiver_nfl_id),
                   {', '.join(f'max(abs(coalesce(weekly.{m}, 0) - coalesce(r.{m}, 0)))' for m in rec)}
            from marts.rpt_receiver_separation r
            left join weekly using (dataset, season, club, receiver_nfl_id)""").fetchone()
        n, matched, *diffs = rows
        assert n > 0 and matched == n
        assert max(diffs) < 1e-9, dict(zip(rec, diffs, strict=True))
    finally:
        con.close()
