"""Where dbt meets the package (ngs.dbt_glue), the one artefact store (ngs.artifacts) and the one thread
limit (ngs.threads): each test fails when the behaviour it names breaks."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
import os
import re
from pathlib import Path

import duckdb
import numpy as np
import pytest
import torch
import yaml

from ngs import dbt_glue
from ngs.artifacts import LATEST, ArtifactStore, artifacts_root
from ngs.errors import ArtifactMissingError
from ngs.ghosting.warehouse import ScoringSettings
from ngs.paths import REPO_ROOT
from ngs.threads import limited_threads, model_threads

pytestmark = pytest.mark.timeout(300)

PYTHON_MODELS = sorted((REPO_ROOT / "python_models").glob("*/*.py"))


# --------------------------------------------------------------------------------------------- a fake dbt
class FakeDbt:
    """What dbt's compiled Python model hands `model(dbt, session)`: `ref` looks the name up in the refs dbt
    parsed from the file (a name it did not parse is a KeyError) and loads it as dbt-duckdb does
    (`con.query("select * from <relation>")`); `config.get` answers only the keys the file reads
    (macros/python_model/python.sql of dbt-core and dbt-duckdb's environments/local.py)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, refs: dict[str, str], config: dict):
        self.ref = lambda name: con.query(f"select * from {refs[name]}")
        self.config = type("config", (), {"get": staticmethod(lambda key, default=None: config.get(key, default))})


def _literal_calls(path: Path, attr: str) -> list[str]:
    """The literal first arguments of `dbt.<attr>(...)` calls in a model file (what dbt's parser reads)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
                and ast.unparse(node.func) == f"dbt.{attr}" and isinstance(node.args[0], ast.Constant)):
            found.append(node.args[0].value)
    return found


def _load_model(path: Path):
    spec = importlib.util.spec_from_file_location(f"model_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------------- optional_ref
def test_optional_ref_swallows_only_a_relation_that_does_not_exist():
    con = duckdb.connect()
    con.execute("create table present as select 1 as x")
    fake = FakeDbt(con, {"present": '"memory"."main"."present"', "absent": '"memory"."main"."absent"'}, {})
    with dbt_glue.optional_ref() as got:
        got.relation = fake.ref("present")
    assert got.relation is not None and got.relation.fetchall() == [(1,)]
    with dbt_glue.optional_ref() as missing:        # excluded from the run, never built: dbt-duckdb's error
        missing.relation = fake.ref("absent")
    assert missing.relation is None
    with pytest.raises(KeyError), dbt_glue.optional_ref():   # a name dbt did not parse (a typo, a variable)
        fake.ref("absnet")
    with pytest.raises(duckdb.CatalogException, match="already exists"), dbt_glue.optional_ref():
        con.execute("create table present as select 2 as x")  # a catalog error that is not "missing"
    with pytest.raises(duckdb.BinderException), dbt_glue.optional_ref() as broken:
        broken.relation = fake.ref("present").project("no_such_column")
    with pytest.raises(ZeroDivisionError), dbt_glue.optional_ref():
        1 / 0  # noqa: B018 - an error of the model code itself


def test_a_completion_model_scores_with_latest_when_training_is_not_in_the_run(tmp_path, monkeypatch):
    """The real model file, run as dbt runs it: the training table is absent (--exclude tag:train), so the
    stored LATEST artefact's metrics come back; with a training table of this run, its version is used."""
    from ngs.completion import artifacts, pipeline

    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(tmp_path))
    metrics = pipeline.empty_metrics()
    for version, value in (("cp-old", 0.5), ("cp-new", 0.25)):
        frame = metrics.reindex(range(1)).assign(model="completion_probability", version=version,
                                                 dataset="simulated", split="cv_heldout", metric="brier",
                                                 value=value, n=10)
        artifacts.save(pipeline.TrainingOutput(
            version=version, models={"simulated": {}}, metrics=frame,
            calibration=metrics.reindex(columns=pipeline.CALIBRATION_COLUMNS),
            importance=metrics.reindex(columns=pipeline.IMPORTANCE_COLUMNS),
            cv_predictions=metrics.reindex(columns=pipeline.CV_COLUMNS), metadata={"version": version}))
    artifacts.store().set_latest("cp-old")
    model = _load_model(REPO_ROOT / "python_models/completion/rpt_completion_metrics.py")
    con = duckdb.connect()
    refs = {"fct_completion_cv_predictions": '"memory"."main"."cv"'}
    with pytest.warns(UserWarning, match="scikit-learn"):
        out = model.model(FakeDbt(con, refs, {}), con)
    assert list(out["version"]) == ["cp-old"]                       # LATEST
    con.execute("create table cv as select 'cp-new' as model_version")
    with pytest.warns(UserWarning, match="scikit-learn"):
        out = model.model(FakeDbt(con, refs, {}), con)
    assert list(out["version"]) == ["cp-new"] and list(out["value"]) == [0.25]  # this run's training
    with pytest.raises(KeyError):                                    # the ref dbt parsed is the only one
        model.model(FakeDbt(con, {}, {}), con)


def test_no_model_or_package_code_swallows_every_error_around_a_ref():
    offenders = []
    for path in [*PYTHON_MODELS, *(REPO_ROOT / "ngs").rglob("*.py")]:
        text = path.read_text()
        if "dbt.ref" in text and re.search(r"except\s+(Exception|BaseException)?\s*:", text):
            offenders.append(str(path.relative_to(REPO_ROOT)))
    assert not offenders


def test_package_code_never_takes_dbt():
    """Only the model files see dbt: no package function has a `dbt` parameter or reads dbt.config."""
    offenders = []
    for path in (REPO_ROOT / "ngs").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "dbt" in [a.arg for a in node.args.args]:
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name}")
            if isinstance(node, ast.Attribute) and ast.unparse(node) in ("dbt.config", "dbt.ref"):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert not offenders


# ----------------------------------------------------------------------------------------------- settings
def _dbt_vars() -> dict:
    return yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]


def _model_yaml_configs() -> dict[str, dict]:
    out = {}
    for yml in (REPO_ROOT / "python_models").glob("*/_*.yml"):
        for node in yaml.safe_load(yml.read_text())["models"]:
            out[node["name"]] = node.get("config") or {}
    return out


def _run_targets(path: Path):
    """The package functions a model file passes to dbt_glue.run, each with whether it passes settings=."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "dbt_glue.run":
            module_alias, name = ast.unparse(node.args[0]).split(".")
            domain = path.parent.name
            module = importlib.import_module(f"ngs.{domain}.{module_alias}")
            # settings=, and inc= for an incremental per-pass model (ngs.incremental)
            given = {k.arg: ast.unparse(k.value) for k in node.keywords}
            passes = set(given) - {"inc"} == {"settings"} and given["settings"] == \
                ast.unparse(ast.parse('dbt.config.get("settings")').body[0].value)
            found.append((getattr(module, name), passes))
    assert found, f"{path} does not call dbt_glue.run"
    return found


def test_every_setting_is_a_dbt_var_defined_once():
    """For every Python model: the settings dataclass of the function it runs has exactly the keys of its
    YAML `config: settings:`, each filled from the dbt var of the same name (dbt_project.yml), read by the
    file with dbt.config.get("settings"); and no package default repeats a var."""
    dbt_vars, configs = _dbt_vars(), _model_yaml_configs()
    checked = 0
    for path, (func, passes_settings) in ((p, t) for p in PYTHON_MODELS for t in _run_targets(p)):
        cls = dbt_glue.settings_class(func)
        yaml_settings = configs.get(path.stem, {}).get("settings")
        if cls is None:
            assert not passes_settings and yaml_settings is None, path.name
            continue
        assert passes_settings and "settings" in _literal_calls(path, "config.get"), path.name
        fields = {f.name for f in dataclasses.fields(cls)}
        assert set(yaml_settings) == fields, path.name
        for f in dataclasses.fields(cls):
            assert f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, (cls, f.name)
            assert f.name in dbt_vars, f"{f.name}: not a var of dbt_project.yml"
            assert f"var('{f.name}')" in yaml_settings[f.name], (path.name, f.name)
            checked += 1
    assert checked >= 10


def test_no_package_module_repeats_a_model_setting_as_a_literal_default():
    """A var name next to a literal (`get("x", 10)`, `x: int = 10`, `x=10`) in the package is a second
    definition of the var's value."""
    setting_vars = [n for n in _dbt_vars() if n.startswith(("completion_", "ghosting_", "decisions_",
                                                                "simulated_"))]
    offenders = []
    for path in (REPO_ROOT / "ngs").rglob("*.py"):
        for no, line in enumerate(path.read_text().splitlines(), 1):
            for name in setting_vars:
                if re.search(rf"""["']?{name}["']?\s*(,|:\s*\w+\s*=|=)\s*-?\d""", line):
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{no}: {line.strip()}")
    assert not offenders
    assert not list(REPO_ROOT.glob("**/*completion_artifacts_dir*"))
    for path in [*(REPO_ROOT / "ngs").rglob("*.py"), *PYTHON_MODELS]:
        assert "completion_artifacts_dir" not in path.read_text(), path


def test_build_settings_converts_and_names_what_is_wrong():
    from ngs.decisions.warehouse import Settings

    good = {"completion_defender_radius_yd": "3", "decisions_max_flight_frames": 50,
            "decisions_ghost_step_frames": "10", "decisions_lineman_radius_yd": 2, "ghosting_model_version": ""}
    s = dbt_glue.build_settings(good, Settings)
    assert s.decisions_max_flight_frames == 50 and s.completion_defender_radius_yd == 3.0
    assert isinstance(s.decisions_ghost_step_frames, int) and s.ghosting_model_version == ""
    with pytest.raises(dbt_glue.SettingsError, match="missing decisions_lineman_radius_yd"):
        dbt_glue.build_settings({k: v for k, v in good.items() if k != "decisions_lineman_radius_yd"}, Settings)
    with pytest.raises(dbt_glue.SettingsError, match="unknown decisions_max_flight"):
        dbt_glue.build_settings({**good, "decisions_max_flight": 3}, Settings)
    with pytest.raises(dbt_glue.SettingsError, match="decisions_max_flight_frames='5.5' is not a int"):
        dbt_glue.build_settings({**good, "decisions_max_flight_frames": "5.5"}, Settings)
    with pytest.raises(dbt_glue.SettingsError, match=r'dbt.config.get\("settings"\)'):
        dbt_glue.build_settings(None, Settings)   # the model file does not pass its config


def test_run_passes_settings_only_to_a_function_that_takes_them():
    def scored(x: int, settings: ScoringSettings) -> tuple:
        return x, settings, torch.get_num_threads()

    x, s, threads = dbt_glue.run(scored, 1, settings={"ghosting_test_from_week": "11"})
    assert s == ScoringSettings(ghosting_test_from_week=11) and threads == model_threads()
    with pytest.raises(dbt_glue.SettingsError, match="takes no settings"):
        dbt_glue.run(lambda x: x, 1, settings={"ghosting_test_from_week": 11})


# ------------------------------------------------------------------------------------------ artefact store
def _write(*names: str, content: bytes = b"x"):
    def write(folder: Path) -> None:
        for name in names:
            (folder / name).write_bytes(content)
    return write


def test_store_writes_a_version_whole_or_not_at_all(tmp_path, monkeypatch):
    store = ArtifactStore("demo", ("a.bin", "b.json"), root=tmp_path)
    store.write("v1", _write("a.bin", "b.json"))
    assert store.latest() == "v1" and store.resolve() == tmp_path / "v1"

    def crash(folder: Path) -> None:
        (folder / "a.bin").write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store.write("v2", crash)
    assert sorted(p.name for p in tmp_path.iterdir()) == [LATEST, "v1"]   # no v2, no temp folder
    assert store.latest() == "v1"
    with pytest.raises(RuntimeError, match="b.json not written"):          # verified before the rename
        store.write("v2", _write("a.bin"))
    with pytest.raises(RuntimeError, match="a.bin"):                       # an empty file is not written
        store.write("v2", _write("a.bin", "b.json", content=b""))
    assert not (tmp_path / "v2").exists() and store.latest() == "v1"

    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if Path(dst).name == "v2":
            raise OSError("rename failed")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        store.write("v2", _write("a.bin", "b.json"))
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == [LATEST, "v1"] and store.latest() == "v1"

    (tmp_path / "v3").mkdir()                           # left by an older, in-place writer that crashed
    (tmp_path / "v3" / "a.bin").write_bytes(b"partial")
    store.write("v3", _write("a.bin", "b.json", content=b"whole"), update_latest=False)
    assert (tmp_path / "v3" / "a.bin").read_bytes() == b"whole" and store.latest() == "v1"
    store.write("v3", _write("a.bin", "b.json", content=b"other"))  # a complete version is kept as it is
    assert (tmp_path / "v3" / "a.bin").read_bytes() == b"whole" and store.latest() == "v3"


def test_latest_is_explicit_never_the_newest_folder(tmp_path):
    store = ArtifactStore("demo", ("a.bin",), root=tmp_path)
    store.write("v-old", _write("a.bin"), update_latest=False)
    store.write("v-new", _write("a.bin"), update_latest=False)
    os.utime(tmp_path / "v-new", (2e9, 2e9))
    with pytest.raises(ArtifactMissingError, match=r"no LATEST file; stored versions: v-new, v-old"):
        store.latest()
    store.set_latest("v-old")
    assert store.resolve().name == "v-old"              # not v-new, the newest folder
    (tmp_path / LATEST).write_text("v-gone\n")
    with pytest.raises(ArtifactMissingError, match="names version 'v-gone'.*not stored"):
        store.resolve()
    (tmp_path / "v-old" / "a.bin").unlink()
    (tmp_path / LATEST).write_text("v-old\n")
    with pytest.raises(ArtifactMissingError, match="lacks a.bin"):
        store.resolve()
    with pytest.raises(ArtifactMissingError, match="ngs build --data DIR"):
        ArtifactStore("demo", ("a.bin",), root=tmp_path / "none").resolve()
    with pytest.raises(ArtifactMissingError):
        store.set_latest("v-gone")                      # LATEST never names an incomplete version


def test_artifacts_root_is_read_on_every_call(tmp_path, monkeypatch):
    from ngs.completion import artifacts as completion_artifacts
    from ngs.ghosting import model as ghosting_model

    for sub in ("one", "two"):
        monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(tmp_path / sub))
        assert artifacts_root() == tmp_path / sub
        assert completion_artifacts.store().root == tmp_path / sub / "completion"
        assert ghosting_model.store().root == tmp_path / sub / "ghosting"


def test_both_model_families_use_the_store_and_old_ghosting_artefacts_still_load(tmp_path, monkeypatch):
    """A ghosting artefact written in place by the previous code (config.json + model.pt, LATEST) loads;
    one without LATEST fails naming the versions instead of guessing by file time."""
    from test_decisions import untrained_ghost

    from ngs.ghosting import model as ghosting_model

    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(tmp_path))
    ghost = untrained_ghost()
    path = ghost.save()
    assert path == tmp_path / "ghosting" / "ghost-test" and (tmp_path / "ghosting" / LATEST).read_text() == \
        "ghost-test\n"
    assert not [p for p in (tmp_path / "ghosting").iterdir() if p.name.startswith(".")]  # no temp left
    old = tmp_path / "ghosting" / "ghost-old"
    old.mkdir()
    for name in ("config.json", "model.pt"):                 # the old writer's layout, file by file
        (old / name).write_bytes((path / name).read_bytes())
    cfg = json.loads((old / "config.json").read_text())
    (old / "config.json").write_text(json.dumps({**cfg, "version": "ghost-old"}))
    (tmp_path / "ghosting" / LATEST).write_text("ghost-old\n")
    assert ghosting_model.load().version == "ghost-old"
    (tmp_path / "ghosting" / LATEST).unlink()
    with pytest.raises(ArtifactMissingError, match="stored versions: ghost-old, ghost-test"):
        ghosting_model.load()
    with pytest.raises(ArtifactMissingError, match="observes 3 frames"):
        ghosting_model.load("ghost-test", history=5)


# -------------------------------------------------------------------------------------------------- threads
def test_one_thread_limit_for_every_model(monkeypatch):
    monkeypatch.setenv("NGS_MODEL_THREADS", "2")
    before = torch.get_num_threads()
    with limited_threads() as n:
        assert n == 2 and torch.get_num_threads() == 2
    assert torch.get_num_threads() == before
    monkeypatch.setenv("NGS_MODEL_THREADS", "zero")
    with pytest.raises(ValueError, match="NGS_MODEL_THREADS='zero'"):
        model_threads()
    old = re.compile(r"NGS_(TRAIN|GHOSTING|DECISIONS|COMPLETION)_THREADS")
    for path in [*(REPO_ROOT / "ngs").rglob("*.py"), *(REPO_ROOT / "tests").glob("*.py"),
                 *(REPO_ROOT / "docs").glob("*.md"), REPO_ROOT / "README.md"]:
        if path.name == "test_glue.py":
            continue
        assert not old.search(path.read_text()), path


def test_a_network_scores_the_same_with_one_and_two_threads():
    from test_ghosting import synthetic_tracks

    from ngs.ghosting import data
    from ngs.ghosting.model import FeatureScaler, GhostConfig, GhostModel, ResidualMLP

    torch.manual_seed(3)
    feats = ["speed_yps", "accel_long_yps2", "accel_lat_yps2", "target_rel_x_yd", "target_rel_y_yd"]
    cfg = GhostConfig(features=feats, hidden=64, layers=2)
    net = ResidualMLP(len(feats), cfg.horizon, cfg.hidden, cfg.layers)
    torch.nn.init.normal_(net.net[-1].weight, std=0.1)       # not the zero (constant-acceleration) start
    ghost = GhostModel(cfg, FeatureScaler(feats, [0.0] * 5, [1.0] * 5, []), net, "ghost-threads")
    w, _ = data.build_windows(data.normalise_tracks(synthetic_tracks(n_plays=30)), 3, 10)
    assert len(w) > 100
    with limited_threads(1):
        one = ghost.predict(w)
    with limited_threads(2):
        two = ghost.predict(w)
    assert np.abs(one - ghost.predict(w, horizon=10)).max() < 1e-9
    np.testing.assert_array_equal(one, two)
