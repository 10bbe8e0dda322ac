"""The dashboards-as-code bundle: read `dashboards/` (Superset's export format, unzipped, in git), check
it against the marts of a warehouse, fill in its two placeholders and zip it for import.

The YAML in git holds two placeholders, and `build_zip` fills both in:

- `{{ NGS_WAREHOUSE_URI }}` where Superset's export would hold a machine path (the database's
  `sqlalchemy_uri`): the serving snapshot's read-only URI;
- `{{ NGS_DEFAULT_DATASET }}` as the default value of a dashboard's Dataset filter: `real` when the
  served warehouse holds real games (dim_games.dataset) and the filter's mart has rows of them, else
  `simulated` likewise (`dashboard_defaults`), so the dashboards open on the real season wherever
  one was loaded; no default where the mart has rows of neither.
"""

from __future__ import annotations

import copy
import hashlib
import io
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ngs.paths import REPO_ROOT

BUNDLE_DIR = REPO_ROOT / "dashboards"
URI_PLACEHOLDER = "{{ NGS_WAREHOUSE_URI }}"
DATASET_PLACEHOLDER = "{{ NGS_DEFAULT_DATASET }}"
DATASETS = ("real", "simulated")  # dim_games.dataset
BUNDLE_SECTIONS = ("databases", "datasets", "charts", "dashboards")
ZIP_TOP = "ngs_dashboards"


@dataclass
class Bundle:
    """Parsed YAML files keyed by their path relative to the bundle root (e.g. `charts/qb_cpoe.yaml`)."""

    files: dict[str, dict]

    def section(self, name: str) -> dict[str, dict]:
        return {p: c for p, c in self.files.items() if p.startswith(name + "/")}

    def datasets(self) -> dict[str, dict]:
        return {c["uuid"]: c for c in self.section("datasets").values()}

    def charts(self) -> dict[str, dict]:
        return {c["uuid"]: c for c in self.section("charts").values()}

    def dashboards(self) -> dict[str, dict]:
        return {c["uuid"]: c for c in self.section("dashboards").values()}


@dataclass
class CheckResult:
    """What of the bundle the warehouse can serve. `problems` name the table or column at fault."""

    problems: list[str] = field(default_factory=list)
    bad_datasets: set[str] = field(default_factory=set)
    bad_charts: set[str] = field(default_factory=set)
    dropped_dashboards: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load_bundle(root: Path = BUNDLE_DIR) -> Bundle:
    files: dict[str, dict] = {}
    meta = root / "metadata.yaml"
    if not meta.exists():
        raise FileNotFoundError(f"{meta} is missing: is {root} a Superset export bundle?")
    files["metadata.yaml"] = yaml.safe_load(meta.read_text())
    for section in BUNDLE_SECTIONS:
        for path in sorted((root / section).rglob("*.yaml")):
            files[path.relative_to(root).as_posix()] = yaml.safe_load(path.read_text())
    return Bundle(files)


def check_bundle(bundle: Bundle, tables: dict[tuple[str, str], dict[str, str]]) -> CheckResult:
    """Compare each dataset with the warehouse: `tables` maps (schema, table) to {column: type}."""
    result = CheckResult()
    for uuid, ds in sorted(bundle.datasets().items(), key=lambda kv: kv[1]["table_name"]):
        key = (ds.get("schema") or "main", ds["table_name"])
        fq = f"{key[0]}.{key[1]}"
        if key not in tables:
            result.problems.append(f"dataset {fq}: table missing in the warehouse")
            result.bad_datasets.add(uuid)
            continue
        have = tables[key]
        missing = [c["column_name"] for c in ds.get("columns", []) if not c.get("expression")
                   and c["column_name"] not in have]
        if missing:
            result.problems.append(
                f"dataset {fq}: column(s) {', '.join(missing)} missing (the table has: {', '.join(have)})")
            result.bad_datasets.add(uuid)
    for uuid, chart in bundle.charts().items():
        if chart["dataset_uuid"] in result.bad_datasets:
            result.bad_charts.add(uuid)
    for dash in bundle.dashboards().values():
        chart_uuids = _chart_uuids(dash)
        if chart_uuids and chart_uuids <= result.bad_charts:
            result.dropped_dashboards.append(dash.get("slug") or dash["dashboard_title"])
    return result


def _chart_uuids(dashboard: dict) -> set[str]:
    return {node["meta"]["uuid"] for node in dashboard.get("position", {}).values()
            if isinstance(node, dict) and node.get("type") == "CHART"}


def _prune_dashboard(dash: dict, bad_charts: set[str], bad_datasets: set[str]) -> dict:
    """Drop the charts that cannot be served (and rows left empty, and filters on missing datasets)."""
    dash = copy.deepcopy(dash)
    pos = dash.get("position", {})
    gone = {k for k, n in pos.items() if isinstance(n, dict) and n.get("type") == "CHART"
            and n["meta"]["uuid"] in bad_charts}
    changed = True
    while changed:
        changed = False
        for k, node in pos.items():
            if not isinstance(node, dict) or k in gone:
                continue
            kids = node.get("children")
            if kids is None:
                continue
            keep = [c for c in kids if c not in gone]
            if keep != kids:
                node["children"] = keep
                changed = True
            if not keep and node.get("type") in ("ROW", "COLUMN", "TAB"):
                gone.add(k)
                changed = True
    for k in gone:
        pos.pop(k, None)
    meta = dash.get("metadata", {})
    filters = meta.get("native_filter_configuration", [])
    meta["native_filter_configuration"] = [
        f for f in filters if not any(t.get("datasetUuid") in bad_datasets for t in f.get("targets", []))]
    return dash


def dataset_values(path: Path, tables: set[str]) -> dict[str, set[str]]:
    """For each of these marts that has a `dataset` column: the datasets ('real', 'simulated') of its
    rows. Opens the warehouse (or snapshot) read-only; a mart that is missing or has no such column is
    left out."""
    import duckdb

    con = duckdb.connect(str(Path(path).resolve()), read_only=True)
    try:
        have = {t for (t,) in con.execute("select table_name from information_schema.columns where "
                                          "table_schema = 'marts' and column_name = 'dataset'").fetchall()}
        return {t: {d for (d,) in con.execute(f'select distinct dataset from marts."{t}" '
                                              "where dataset is not null").fetchall()}
                for t in sorted(tables & have)}
    finally:
        con.close()


def default_dataset(datasets: set[str]) -> str | None:
    """What a dashboard opens on: the real games where there are any, else the simulated ones."""
    for name in DATASETS:
        if name in datasets:
            return name
    return None


def _placeholder_filters(dash: dict) -> list[dict]:
    return [f for f in dash.get("metadata", {}).get("native_filter_configuration", [])
            if ((f.get("defaultDataMask") or {}).get("filterState") or {}).get("value") == [DATASET_PLACEHOLDER]]


def dataset_filter_tables(bundle: Bundle) -> set[str]:
    """What `dashboard_defaults` needs to know the datasets of: dim_games (the games loaded) and the marts
    the Dataset filters (those with the placeholder default) read their values from."""
    datasets = bundle.datasets()
    return {"dim_games"} | {datasets[f["targets"][0]["datasetUuid"]]["table_name"]
                            for dash in bundle.dashboards().values() for f in _placeholder_filters(dash)}


def dashboard_defaults(bundle: Bundle, values: dict[str, set[str]]) -> dict[str, str | None]:
    """Per dashboard slug, what its Dataset filter opens on: `real` where the warehouse holds real games
    (dim_games) and the filter's mart has rows of them, else `simulated` likewise, else no default.
    `values`: mart -> the datasets of its rows (`dataset_values`)."""
    datasets = bundle.datasets()
    games = values.get("dim_games")
    out: dict[str, str | None] = {}
    for dash in bundle.dashboards().values():
        for f in _placeholder_filters(dash):
            table = datasets[f["targets"][0]["datasetUuid"]]["table_name"]
            have = values.get(table, set())
            out[dash.get("slug") or dash["dashboard_title"]] = default_dataset(have if games is None else have & games)
    return out


def set_default_dataset(dash: dict, value: str | None) -> dict:
    """Fill in the `{{ NGS_DEFAULT_DATASET }}` default of a dashboard's filters: `value` as the selected
    value (and the filter it applies on first load), or no default at all when `value` is None."""
    if value is not None and value not in DATASETS:
        raise ValueError(f"default dataset {value!r}: expected one of {', '.join(DATASETS)}")
    dash = copy.deepcopy(dash)
    for f in _placeholder_filters(dash):
        mask = f["defaultDataMask"]
        if value is None:
            mask["filterState"] = {}
            mask["extraFormData"] = {}
        else:
            mask["filterState"] = {"value": [value]}
            for flt in mask.get("extraFormData", {}).get("filters", []):
                flt["val"] = [value if v == DATASET_PLACEHOLDER else v for v in flt.get("val", [])]
    return dash


def build_zip(bundle: Bundle, database_uri: str, check: CheckResult | None = None,
              keep_dashboard_type: bool = False, defaults: dict[str, str | None] | None = None) -> bytes:
    """The import ZIP (one top folder), URI templated, unservable charts and dashboards left out, each
    dashboard's Dataset filter defaulting to `defaults[slug]` (`dashboard_defaults`; none when absent).

    `metadata.yaml` says `type: assets` in the ZIP so Superset's asset importer (which overwrites
    databases and datasets) accepts it; the copy in git says `Dashboard`, so the folder also imports
    by hand with `superset import-dashboards`.
    """
    check = check or CheckResult()
    dropped = set(check.dropped_dashboards)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, content in sorted(bundle.files.items()):
            content = copy.deepcopy(content)
            if rel == "metadata.yaml" and not keep_dashboard_type:
                content["type"] = "assets"
            elif rel.startswith("databases/"):
                if content.get("sqlalchemy_uri") != URI_PLACEHOLDER:
                    raise ValueError(f"dashboards/{rel}: sqlalchemy_uri must be the placeholder {URI_PLACEHOLDER}")
                content["sqlalchemy_uri"] = database_uri
            elif rel.startswith("datasets/") and content["uuid"] in check.bad_datasets:
                continue
            elif rel.startswith("charts/") and content["uuid"] in check.bad_charts:
                continue
            elif rel.startswith("dashboards/"):
                if (content.get("slug") or content["dashboard_title"]) in dropped:
                    continue
                content = _prune_dashboard(content, check.bad_charts, check.bad_datasets)
                content = set_default_dataset(content, (defaults or {}).get(content.get("slug")
                                                                            or content["dashboard_title"]))
            text = yaml.safe_dump(content, sort_keys=False, allow_unicode=True)
            for placeholder in (URI_PLACEHOLDER, DATASET_PLACEHOLDER):
                if placeholder in text:
                    raise ValueError(f"dashboards/{rel}: {placeholder} left where build_zip does not fill it in")
            info = zipfile.ZipInfo(f"{ZIP_TOP}/{rel}", date_time=(2020, 1, 1, 0, 0, 0))
            zf.writestr(info, text)
    return buf.getvalue()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main(argv: list[str] | None = None) -> int:
    """Zip `dashboards/` for a by-hand `superset import-dashboards -p FILE -u admin`."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--duckdb", type=Path, required=True, help="DuckDB file the database should point at")
    parser.add_argument("--out", type=Path, default=Path("bundle.zip"))
    parser.add_argument("--dataset", choices=(*DATASETS, "none"), default=None,
                        help="what the Dataset filters default to (default: real if the warehouse has real games)")
    args = parser.parse_args(argv)
    from ngs.superset.guard import duckdb_uri

    if not args.duckdb.exists():
        print(f"error: no warehouse at {args.duckdb}", file=sys.stderr)
        return 2
    bundle = load_bundle()
    if args.dataset:
        value = None if args.dataset == "none" else args.dataset
        defaults = {slug: value for slug in dashboard_defaults(bundle, {})}
    else:
        import duckdb

        try:
            defaults = dashboard_defaults(bundle, dataset_values(args.duckdb, dataset_filter_tables(bundle)))
        except duckdb.Error as exc:
            print(f"error: cannot read {args.duckdb} ({exc}); pass --dataset", file=sys.stderr)
            return 2
    data = build_zip(bundle, duckdb_uri(args.duckdb), keep_dashboard_type=True, defaults=defaults)
    args.out.write_bytes(data)
    opens = ", ".join(f"{slug}: {value or 'no default'}" for slug, value in sorted(defaults.items()))
    print(f"wrote {args.out} (Dataset filters open on {opens}): superset import-dashboards -p {args.out} -u admin")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
