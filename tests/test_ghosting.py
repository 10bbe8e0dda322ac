"""Ghosting: baselines, closing score, windows, ghost-eval JSON, the warehouse readers and
the dataset / split labels, real-data training and evaluation through a built warehouse."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import require_shared_data

from ngs.constants import frame_rate_hz, max_player_speed_yps
from ngs.errors import ArtifactMissingError
from ngs.ghosting import MODEL_NAME, V1_MODEL_NAME, baselines, closing, data, model
from ngs.ghosting import warehouse as gw
from ngs.ghosting.features import candidate_features, screen_features
from ngs.ghosting.train import train_pipeline

FEATURES = ["speed_yps", "accel_long_yps2", "accel_lat_yps2", "v_long_lag1_yps", "v_lat_lag1_yps",
            "frames_since_throw", "others_centroid_x_yd", "others_centroid_y_yd", "target_rel_x_yd"]
TINY = dict(hidden=16, layers=1, max_epochs=3, patience=2, batch_size=128, features=FEATURES)


def synthetic_tracks(n_plays: int = 24, n_frames: int = 18, seed: int = 0) -> pd.DataFrame:
    """Plays of one receiver and three defenders (around him) chasing him, smooth motion plus rounding to 0.01 yd."""
    rng = np.random.default_rng(seed)
    rows = []
    dt = 1.0 / frame_rate_hz()
    for p in range(n_plays):
        game = 2023090700 + p // 6
        r0 = rng.uniform([30, 10], [80, 40])
        rv = rng.normal(0, 2, 2)
        ra = rng.normal(0, 1.0, 2)
        t = np.arange(n_frames) * dt
        rec = r0 + rv * t[:, None] + 0.5 * ra * t[:, None] ** 2
        paths = {100 + (p % 3) * 10: rec}  # receivers 100/110/120, defenders 201-207
        for k in range(3):
            ang = 2 * np.pi * k / 3 + rng.uniform(-0.5, 0.5)
            d = rec[0] + rng.uniform(3, 8) * np.array([np.cos(ang), np.sin(ang)])
            # run at the catch point, to stop 1 yd off the receiver on his own side
            goal = rec[-1] + np.array([np.cos(ang), np.sin(ang)])
            path = [d]
            for _f in range(1, n_frames):
                to = goal - path[-1]
                path.append(path[-1] + to / max(np.linalg.norm(to), 1e-6) * min(0.8, np.linalg.norm(to)))
            paths[201 + (3 * p + k) % 7] = np.array(path)
        for nid, xy in paths.items():
            for f in range(n_frames):
                rows.append((game, p + 1, nid, f + 1, round(xy[f, 0], 2), round(xy[f, 1], 2)))
    return pd.DataFrame(rows, columns=data.TRACK_COLUMNS)


def write_tracks(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------------------------- baselines
def test_constant_velocity_exact_on_uniform_motion():
    t = np.arange(13, dtype=float)[:, None]
    xy = np.array([10.0, 20.0]) + t * np.array([0.7, -0.3])
    pred = baselines.constant_velocity(xy[None, :3], 10)[0]
    np.testing.assert_allclose(pred, xy[3:], atol=1e-12)


def test_constant_acceleration_exact_on_uniform_acceleration():
    t = np.arange(13, dtype=float)[:, None] * 0.1
    xy = np.array([10.0, 20.0]) + t * np.array([5.0, -2.0]) + 0.5 * t**2 * np.array([3.0, 1.5])
    pred = baselines.constant_acceleration(xy[None, :3], 10)[0]
    np.testing.assert_allclose(pred, xy[3:], atol=1e-9)
    assert np.abs(baselines.constant_velocity(xy[None, :3], 10)[0] - xy[3:]).max() > 0.01


def test_errors_metric_definitions():
    pred = np.zeros((2, 2, 2))
    truth = np.zeros((2, 2, 2))
    truth[:, :, 0] = 3.0
    truth[:, :, 1] = 4.0
    e = baselines.errors(pred, truth)
    assert e["ade"] == pytest.approx(5.0) and e["fde"] == pytest.approx(5.0)
    assert e["rmse"] == pytest.approx(np.sqrt((9 + 16) / 2))


# ----------------------------------------------------------------------------------------- closing
def _line(start, velocity_yps, n=11):
    return np.asarray(start, float) + np.arange(n)[:, None] * np.asarray(velocity_yps, float) / frame_rate_hz()


def test_closing_negative_when_running_at_receiver_positive_when_away():
    rec = _line([50, 25], [0, 0])
    at = _line([40, 25], [8, 0])
    away = _line([40, 25], [-8, 0])
    s_at, s_away = closing.closing_score(at, rec), closing.closing_score(away, rec)
    assert s_at < 0 < s_away
    assert s_at == pytest.approx(-8 / max_player_speed_yps())  # straight-line closing, later frames weighted


def test_closing_penalises_teleport():
    rec = _line([50, 25], [0, 0])
    smooth = _line([40, 25], [8, 0])
    tele = smooth.copy()
    tele[6:] += np.array([2.0, 0.0])  # a 2.8 yd jump in one frame (28 yd/s)
    comp = closing.closing_components(np.stack([smooth, tele]), np.stack([rec, rec]))
    assert comp.loc[0, "superhuman_penalty"] == 0.0
    assert comp.loc[1, "superhuman_penalty"] > 0.0
    assert comp.loc[1, "score"] > comp.loc[0, "score"]  # the jump closes more, yet scores worse
    assert comp.loc[1, "max_speed_yps"] > max_player_speed_yps()


# ----------------------------------------------------------------------------------------- data / features
def test_windows_and_features_shapes():
    tr = data.normalise_tracks(synthetic_tracks(n_plays=4, n_frames=15))
    w, skipped = data.build_windows(tr, 3, 10, starts="first")
    assert len(w) == 16 and skipped == 0
    assert w.obs.shape == (16, 3, 2) and w.fut.shape == (16, 10, 2) and w.others.shape[1] == 3
    wa, _ = data.build_windows(tr, 3, 10, starts="all")
    assert len(wa) == 16 * 3
    short, skipped = data.build_windows(tr[tr["frame_id"] <= 12], 3, 10)
    assert len(short) == 0 and skipped == 16
    X = candidate_features(w)
    assert len(X) == 16 and {"speed_yps", "nn1_dist_yd", "target_rel_x_yd", "ball_rel_x_yd"} <= set(X.columns)
    assert np.allclose(X["v_lat_lag0_yps"], 0.0)  # local frame: +x along the last velocity


def _build_windows_loop(tracks, history=3, horizon=10, starts="first", stride=1, max_others=None,
                        require_truth=True):
    """The per-play / per-player loop that data.build_windows replaced (kept here as its oracle)."""
    need = history + horizon if require_truth else history
    vmax = max_player_speed_yps()
    keys, obs_l, fut_l, oth_l, otht_l, tgt_l, meta_l = [], [], [], [], [], [], []
    skipped, k_max, plays = 0, 0, []
    for (g, p), grp in tracks.groupby(["game_id", "play_id"], sort=False):
        f0 = int(grp["frame_id"].min())
        n_frames = int(grp["frame_id"].max()) - f0 + 1
        ids = grp["nfl_id"].unique()
        idx = {n: i for i, n in enumerate(ids)}
        pos = np.full((len(ids), n_frames, 2), np.nan)
        r, c = grp["nfl_id"].map(idx).to_numpy(), grp["frame_id"].to_numpy() - f0
        pos[r, c, 0], pos[r, c, 1] = grp["x"].to_numpy(), grp["y"].to_numpy()
        tgt = grp.groupby("nfl_id", sort=False)["is_target"].first().reindex(ids).to_numpy(dtype=float)
        first = grp.iloc[0]
        k_max = max(k_max, len(ids) - 1)
        plays.append((g, p, f0, ids, pos, tgt, np.array([first[m] for m in data.META_COLUMNS], dtype=float),
                      first["week"], first["source"]))
    k_max = max(max_others if max_others is not None else k_max, 1)
    for g, p, f0, ids, pos, tgt, meta, week, source in plays:
        n, n_frames, _ = pos.shape
        valid = ~np.isnan(pos[..., 0])
        for i in range(n):
            fr = np.flatnonzero(valid[i])
            if len(fr) == 0:
                skipped += 1
                continue
            s0 = fr[0]
            run = np.flatnonzero(~valid[i, s0:])
            length = int(run[0]) if len(run) else n_frames - s0
            if length < need:
                skipped += 1
                continue
            others = [j for j in range(n) if j != i][:k_max]
            for s in ([0] if starts == "first" else range(0, length - need + 1, stride)):
                a = s0 + s
                o = pos[i, a:a + history]
                fu = np.full((horizon, 2), np.nan)
                avail = pos[i, a + history:a + history + horizon]
                fu[:len(avail)] = avail
                oth, otht = np.full((k_max, history, 2), np.nan), np.full(k_max, np.nan)
                if others:
                    oth[:len(others)] = pos[others, a:a + history]
                    otht[:len(others)] = tgt[others]
                full = np.concatenate([o, fu[~np.isnan(fu[:, 0])]])
                tele = bool((data.implied_speed(full) > vmax).any()) if len(full) > 1 else False
                keys.append((g, p, int(ids[i]), int(f0 + a), week, source, tele, int(f0 + n_frames - 1)))
                obs_l.append(o), fut_l.append(fu), oth_l.append(oth), otht_l.append(otht)
                tgt_l.append(tgt[i]), meta_l.append(meta)
    key = pd.DataFrame(keys, columns=["game_id", "play_id", "nfl_id", "start_frame", "week", "source", "teleport",
                                      "play_last_frame"])
    return (key, np.stack(obs_l), np.stack(fut_l), np.stack(oth_l), np.stack(otht_l), np.asarray(tgt_l, float),
            np.stack(meta_l)), skipped


def _messy_tracks() -> pd.DataFrame:
    """Synthetic plays made awkward: rows shuffled, a gap, a track that starts late, a track with no x at all,
    unknown targets in one play, a 3 yd jump (teleport), NaN meta."""
    tr = data.normalise_tracks(synthetic_tracks(n_plays=8, n_frames=20, seed=7))
    tr["is_target"] = (tr["nfl_id"] % 10 == 0).astype(float)
    tr.loc[tr["play_id"] == 3, "is_target"] = np.nan
    tr = tr[~((tr["play_id"] == 1) & (tr["nfl_id"] % 10 != 0) & (tr["frame_id"] == 6))]          # gaps
    tr = tr[~((tr["play_id"] == 2) & (tr["nfl_id"] % 10 == 0) & (tr["frame_id"] <= 4))]          # late start
    tr.loc[(tr["play_id"] == 4) & (tr["nfl_id"] % 10 != 0) & (tr["frame_id"] == 9), "x"] += 3.0  # teleport
    tr.loc[(tr["play_id"] == 5) & (tr["nfl_id"] % 10 == 0), "x"] = np.nan                       # no x at all
    tr.loc[tr["play_id"] == 6, "down"] = 3.0
    return tr.sample(frac=1.0, random_state=0)


@pytest.mark.parametrize("kw", [dict(starts="first"), dict(starts="all"), dict(starts="all", stride=3),
                                dict(starts="first", require_truth=False),
                                dict(starts="all", require_truth=False, max_others=2), dict(max_others=6)])
def test_build_windows_equals_the_loop(kw):
    tr = _messy_tracks()
    w, skipped = data.build_windows(tr, 3, 10, **kw)
    (key, *arrays), skipped_loop = _build_windows_loop(tr, 3, 10, **kw)
    assert skipped == skipped_loop and skipped > 0 and w.key["teleport"].any()
    pd.testing.assert_frame_equal(w.key, key)
    for name, a in zip(("obs", "fut", "others", "others_is_target", "is_target", "meta"), arrays, strict=True):
        np.testing.assert_array_equal(getattr(w, name), a, err_msg=name)


def test_build_windows_empty_and_too_short():
    tr = data.normalise_tracks(synthetic_tracks(n_plays=2, n_frames=8))
    w, skipped = data.build_windows(tr, 3, 10)
    assert len(w) == 0 and skipped == 8 and w.others.shape == (0, 3, 3, 2)
    w, skipped = data.build_windows(tr.iloc[:0], 3, 10)
    assert len(w) == 0 and skipped == 0 and list(w.key.columns)[:3] == ["game_id", "play_id", "nfl_id"]


def test_infer_targets_full_equals_the_per_play_vote():
    tr = data.normalise_tracks(synthetic_tracks(n_plays=12))
    tr = pd.concat([tr, tr[(tr["play_id"] == 1) & (tr["nfl_id"] == 100)].assign(play_id=50)])  # a 1-track play
    tr.loc[(tr["play_id"] == 2) & (tr["nfl_id"] >= 200), ["x", "y"]] = np.nan  # no position: NaN distances
    full = data.infer_targets_full(tr)
    last = tr.sort_values("frame_id").groupby(["game_id", "play_id", "nfl_id"])[["x", "y"]].last().reset_index()
    for (g, p), grp in last.groupby(["game_id", "play_id"]):
        got = full.loc[(full["game_id"] == g) & (full["play_id"] == p)]
        if len(grp) < 2:
            assert got["is_target"].isna().all()
            continue
        xy = grp[["x", "y"]].to_numpy()
        want = grp["nfl_id"].to_numpy()[np.linalg.norm(xy[:, None] - xy[None], axis=-1).sum(axis=1).argmin()]
        np.testing.assert_array_equal(got["is_target"], (got["nfl_id"] == want).astype(float))


def test_normalise_tracks_sorts_and_keeps_the_first_of_a_key():
    tr = synthetic_tracks(n_plays=2, n_frames=5)
    dup = tr.iloc[[3]].assign(x=-1.0)
    raw = pd.concat([tr.iloc[::-1], dup, tr.iloc[[0]].assign(frame_id=0)])
    out = data.normalise_tracks(raw)
    want = raw[raw["frame_id"] >= 1].drop_duplicates(["game_id", "play_id", "nfl_id", "frame_id"]) \
        .sort_values(["game_id", "play_id", "nfl_id", "frame_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(out[want.columns], want, check_dtype=False)
    assert (out["x"] != -1.0).all() and isinstance(out.index, pd.RangeIndex)
    again = data.normalise_tracks(out, copy=False)  # already clean: same rows, same order
    pd.testing.assert_frame_equal(again, out)


def test_output_track_files_sorted(tmp_path):
    for name in ("output_2023_w11.csv", "output_2023_w01.csv", "output_extra.csv"):
        (tmp_path / name).write_text("x\n")
    got = [os.path.basename(f) for f in data.output_track_files(str(tmp_path / "output_*.csv"))]
    assert got == ["output_2023_w01.csv", "output_2023_w11.csv", "output_extra.csv"]


def test_assign_split_per_row_rule():
    g = np.repeat(np.arange(2023090700, 2023090760), 3)
    week = pd.array(np.where(g % 3 == 0, None, g % 18 + 1), dtype="Int32")
    first = data.first_test_week()
    assert first == 11  # dbt var ghosting_test_from_week: the BDB 2026 weeks 11-14 are held out
    for test_from in (None, 11, "15"):
        got = data.assign_split(pd.DataFrame({"game_id": g, "week": week}), test_from)
        cut = first if test_from is None else int(test_from)
        for gid, wk, s in zip(g, week, got, strict=True):
            h = data.game_hash_fraction(gid)
            want = ("test" if wk >= cut else "val" if h < 0.15 else "train") if wk is not pd.NA \
                else ("test" if h >= 0.8 else "val" if h < 0.15 else "train")
            assert s == want
        assert set(got) == {"train", "val", "test"}


def test_role_inference_finds_receivers():
    tr = data.normalise_tracks(synthetic_tracks(n_plays=12))
    roles = data.infer_roles(tr)
    off = set(roles.loc[roles["is_offense"] == 1.0, "nfl_id"])
    assert off  # receivers are the ids ending in 0 in synthetic_tracks, defenders converge on them
    assert all(n % 10 == 0 for n in off)
    full = data.infer_targets_full(tr, roles)
    tgt = full[full["is_target"] == 1.0].drop_duplicates(["game_id", "play_id"])
    assert (tgt["nfl_id"] % 10 == 0).mean() >= 0.8


def test_screening_returns_ranked_table():
    tr = data.normalise_tracks(synthetic_tracks(n_plays=12))
    w, _ = data.build_windows(tr, 3, 10, starts="all")
    scr = screen_features(w, sample=2000, n_repeats=1, max_iter=30)
    assert list(scr.columns[:2]) == ["feature", "importance"] and "selected" in scr
    assert scr["importance"].is_monotonic_decreasing and scr["selected"].any()


def _track_table(con, name: str, rows: list[tuple]) -> None:
    """A table shaped like int_ball_in_air_tracks / int_pass_play_tracks (the readers' input)."""
    con.execute(f"""create table {name} (game_id bigint, play_id bigint, nfl_id bigint, frame_id integer,
        air_frame integer, throw_frame_id integer, arrival_frame_id integer, source varchar, dataset varchar,
        season integer, week integer, position_group varchar, is_target boolean, x_std double, y_std double,
        ball_land_x_std double, ball_land_y_std double, down integer, yards_to_go integer,
        line_of_scrimmage_x_std double)""")
    if rows:
        con.executemany(f"insert into {name} values ({', '.join(['?'] * 20)})", rows)


def test_read_tracks_on_hand_made_rows():
    con = duckdb.connect()
    rows = [  # shuffled; frame 1 = the throw (air_frame), a NULL target, a NULL week
        (1, 1, 20, 6, 2, 5, 6, "sim", "simulated", 2030, 4, "DB", False, 5.0, 4.0, 3.0, 1.5, 3, 7, 20.0),
        (1, 1, 10, 5, 1, 5, 6, "sim", "simulated", 2030, 4, "WR", True, 1.0, 1.0, 3.0, 1.5, 3, 7, 20.0),
        (1, 1, 20, 5, 1, 5, 6, "sim", "simulated", 2030, 4, "DB", False, 5.0, 5.0, 3.0, 1.5, 3, 7, 20.0),
        (1, 1, 10, 6, 2, 5, 6, "sim", "simulated", 2030, 4, "WR", True, 2.0, 1.0, 3.0, 1.5, 3, 7, 20.0),
        (2, 3, 30, 12, 1, 12, 12, "bdb2026", "real", 2023, None, None, None, 9.0, 9.0, None, None, None, None, None),
    ]
    _track_table(con, "tracks", rows)
    tr = data.read_tracks(con.table("tracks"))
    assert list(zip(tr["game_id"], tr["nfl_id"], tr["frame_id"], strict=True)) == [
        (1, 10, 1), (1, 10, 2), (1, 20, 1), (1, 20, 2), (2, 30, 1)]
    assert tr["x"].tolist() == [1.0, 2.0, 5.0, 5.0, 9.0] and tr["yardline_x"].iloc[0] == 20.0
    assert tr["is_target"].dtype == float and tr["is_target"].iloc[:4].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert np.isnan(tr["is_target"].iloc[4]) and tr["week"].isna().iloc[4] and tr["week"].iloc[0] == 4
    assert tr["ball_land_x"].iloc[0] == 3.0 and tr["down"].iloc[0] == 3 and tr["throw_frame_id"].iloc[0] == 5
    assert list(tr["dataset"].astype(str)) == ["simulated"] * 4 + ["real"]
    assert len(data.read_tracks(con.table("tracks"), game_ids=[2])) == 1
    assert len(data.read_tracks(con.table("tracks"), game_ids=[])) == 0
    w, _ = data.build_windows(tr, 1, 1)
    assert len(w) == 2  # one per two-frame track; the one-frame track is too short


def test_closing_and_metrics_take_dataset_and_split_from_the_games(tmp_path, monkeypatch):
    """The ghosting marts label each game with dim_games.dataset (a real pass play of another source is
    'real', not 'simulated'); the real benchmark and the pass plays of a dataset are scored together, held
    out by week (ghosting_test_from_week) or game hash."""
    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    m = _tiny_train(data.normalise_tracks(synthetic_tracks()))
    m.save()
    syn = data.normalise_tracks(synthetic_tracks(n_plays=18, n_frames=16, seed=4))
    syn["is_target"] = (syn["nfl_id"] % 10 == 0)
    game_ids = sorted(int(g) for g in syn["game_id"].unique())   # 3 games
    other, train_week, test_week = game_ids  # a bdb2019 game without a week (held out by its hash, 0.83)
    assert data.game_hash_fraction(other) >= 0.8
    week = {other: None, train_week: 2, test_week: 12}
    con = duckdb.connect()
    rows = {"ball": [], "plays": []}
    for r in syn.itertuples(index=False):
        in_air = r.game_id != other
        rows["ball" if in_air else "plays"].append(
            (int(r.game_id), int(r.play_id), int(r.nfl_id), int(r.frame_id) + 40, int(r.frame_id), 41, None,
             "bdb2026" if in_air else "bdb2019", "real", 2023, week[r.game_id], None if in_air else "DB",
             None if r.game_id == train_week else bool(r.is_target), float(r.x), float(r.y),
             None, None, None, None, None))
    _track_table(con, "ball_in_air", rows["ball"])
    _track_table(con, "pass_plays", rows["plays"])
    con.execute("create table games as select * from (values (?, null, 'real'), (?, 2, 'real'), (?, 12, 'real'))"
                " t(game_id, week, dataset)", game_ids)
    refs = {gw.BALL_IN_AIR: con.table("ball_in_air"), gw.PASS_PLAYS: con.table("pass_plays"),
            gw.GAMES: con.table("games")}
    closing = gw.ClosingSettings(ghosting_test_from_week=11, ghosting_closing_seed=0)
    scores = gw.closing_scores(refs, None, closing)
    assert len(scores) and set(scores["dataset"]) == {"real"}   # the bdb2019 game too
    assert set(scores["game_id"]) == set(game_ids)              # targets inferred where unknown (week 2)
    by_game = scores.drop_duplicates("game_id").set_index("game_id")["split"]
    assert by_game[test_week] == by_game[other] == "test" and by_game[train_week] != "test"
    metrics = gw.ghosting_metrics(refs, None, gw.ScoringSettings(ghosting_test_from_week=11))
    assert set(metrics["dataset"]) == {"real"} and set(metrics["split"]) == {"test"}
    rmse = metrics[(metrics["metric"] == "rmse_yd") & (metrics["model"] == V1_MODEL_NAME)].set_index("split")
    tracks_of = syn[syn["game_id"].isin([other, test_week])].groupby(["game_id", "play_id", "nfl_id"]).ngroups
    assert rmse.loc["test", "n"] == tracks_of      # week 12 (BDB 2026) and the held-out bdb2019 game together
    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    with_later_cut = gw.ghosting_metrics(refs, None, gw.ScoringSettings(ghosting_test_from_week=13))
    assert with_later_cut.loc[with_later_cut["metric"] == "rmse_yd", "n"].max() < tracks_of  # week 12: not test
    # a label the games table gives is what the marts carry
    con.execute("update ball_in_air set dataset = 'simulated'")
    relabelled = gw.closing_scores({**refs, gw.BALL_IN_AIR: con.table("ball_in_air")}, None, closing)
    assert set(relabelled.loc[relabelled["game_id"] != other, "dataset"]) == {"simulated"}
    assert set(relabelled.loc[relabelled["game_id"] == other, "dataset"]) == {"real"}


# ----------------------------------------------------------------------------------------- model / eval
def _tiny_train(tr: pd.DataFrame, **over) -> model.GhostModel:
    cfg = model.GhostConfig(**{**TINY, **over})
    m, _ = train_pipeline(tr, None, cfg, screen_sample=2000, save=False, log=None, screen=False)
    return m


def test_missing_artefact_says_how_to_train(tmp_path, monkeypatch):
    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(tmp_path))
    with pytest.raises(ArtifactMissingError, match="ngs build --data DIR"):
        model.load(history=3, horizon=10)


def test_ghost_eval_json_shape(tmp_path, monkeypatch, capsys):
    from ngs.cli import main

    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    m = _tiny_train(data.normalise_tracks(synthetic_tracks()))
    m.save()
    loaded = model.load(history=3, horizon=10)
    assert loaded.version == m.version and (tmp_path / "artifacts" / "ghosting" / m.version / "config.json").exists()
    tracks = synthetic_tracks(n_plays=3, n_frames=14, seed=5)
    tracks = pd.concat([tracks, tracks[tracks["play_id"] == 1].head(5).assign(play_id=99, nfl_id=1)])
    f = write_tracks(tracks, tmp_path / "output_2023_w99.csv")
    assert main(["ghost-eval", "--tracks", str(f), "--observed", "3", "--horizon", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tracks"] == 12 and out["skipped"] == 1
    for k in ("model", "constant_velocity", "constant_acceleration"):
        assert set(out[k]) == {"rmse", "ade", "fde"} and all(np.isfinite(list(out[k].values())))
        assert len(out["per_horizon"][k]["rmse"]) == 10
    assert main(["ghost-eval", "--tracks", str(f), "--observed", "4", "--horizon", "10", "--json"]) == 2


def test_closing_experiment_conditions():
    tr = data.infer_targets_full(data.normalise_tracks(synthetic_tracks()))
    summary, per = closing.closing_experiment(tr, None)
    assert list(summary["condition"]) == list(closing.CONDITIONS)
    assert list(summary["n"]) == [72, 72, 72]  # 24 plays x 3 defenders of the target, in every condition
    assert len(per) == 216 and per.groupby("condition").size().eq(72).all()
    assert summary.set_index("condition").loc["real", "mean_score"] < 0  # synthetic defenders chase
    assert {"game_id", "play_id", "nfl_id", "condition", "score", "closing", "superhuman_penalty"} <= set(per)


# ----------------------------------------------------------------------------------------- real data
def test_training_on_the_same_inputs_reuses_the_stored_model(tmp_path, monkeypatch):
    from ngs.ghosting.model import GhostConfig
    from ngs.ghosting.train import train_pipeline

    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(tmp_path))
    tracks = data.normalise_tracks(synthetic_tracks())
    tracks["split"] = data.assign_split(tracks).to_numpy()
    cfg = GhostConfig(max_epochs=2, hidden=16, layers=1)
    first, _ = train_pipeline(tracks, None, cfg, log=None, screen=False)
    again, _ = train_pipeline(tracks, None, cfg, log=None, screen=False)
    assert again.version == first.version and again.path is not None  # loaded, not retrained
    assert again.metrics["input_key"] == first.metrics["input_key"]
    changed, _ = train_pipeline(tracks, None, GhostConfig(max_epochs=3, hidden=16, layers=1), log=None,
                                screen=False)
    assert changed.metrics["input_key"] != first.metrics["input_key"]


def _query(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


@pytest.mark.real_data
def test_config_vars_reach_the_ghosting_models(real_ghosting_warehouse):
    """dbt hands a Python model only the config keys its own file reads: the tests' quick settings
    (NGS_GHOSTING_MAX_EPOCHS=3: tests/conftest.py) must reach training and scoring; every game the build
    loaded (BDB 2026 weeks 1 and 11) is scored and labelled with its dim_games dataset."""
    epochs = _query(real_ghosting_warehouse, "select value from marts.ghosting_model_training where model = "
                                             f"'{MODEL_NAME}' and split = 'train' and metric = 'epochs'")["value"]
    assert len(epochs) and all(0 < e <= int(os.environ["NGS_GHOSTING_MAX_EPOCHS"]) for e in epochs)
    games = _query(real_ghosting_warehouse, "select distinct game_id, week, dataset "
                                            "from intermediate.int_ball_in_air_tracks")
    assert set(games["week"]) == {1, 11} and set(games["dataset"]) == {"real"}  # dim_games: every week's games
    scores = _query(real_ghosting_warehouse, "select distinct game_id, dataset, split from marts.fct_closing_scores")
    assert set(scores["game_id"]) == set(games["game_id"]) and set(scores["dataset"]) == {"real"}
    week = scores.merge(games.drop(columns="dataset"), on="game_id").set_index("game_id")
    assert ((week["week"] >= 11) == (week["split"] == "test")).all()
    ghosts = _query(real_ghosting_warehouse, "select count(distinct game_id) as games, count(*) as n "
                                             "from marts.fct_ghost_trajectories")
    assert ghosts.loc[0, "games"] == len(games) and ghosts.loc[0, "n"] > 0


@pytest.mark.real_data
def test_ghosting_trains_and_evaluates_on_the_warehouse_weeks(real_ghosting_warehouse, real_ghosting_artifacts,
                                                              monkeypatch):
    """The stored model was trained on exactly the training weeks of the BDB 2026 tracks the build loaded
    (intermediate.int_ball_in_air_tracks: week 1; its training-input key matches), and the real held-out
    figures are the first windows of the week-11 tracks of that table; nothing else went in."""
    from ngs.ghosting import joint, scoring
    from ngs.ghosting.joint_train import input_key, prepare

    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(real_ghosting_artifacts))
    with duckdb.connect(str(real_ghosting_warehouse), read_only=True) as con:
        real = data.read_tracks(con.table("intermediate.int_ball_in_air_tracks"))
        others = data.read_tracks(con.table("intermediate.int_pass_play_tracks"))
    assert len(others) == 0 and set(real["week"]) == {1, 11}
    real["split"] = data.assign_split(real).to_numpy()
    assert set(real.loc[real["split"] == "test", "week"]) == {11}
    stored = model.load()
    assert isinstance(stored, joint.JointModel)
    cfg = joint.JointConfig(max_epochs=int(os.environ["NGS_GHOSTING_MAX_EPOCHS"]))
    prep = prepare(real, None, cfg)
    assert set(prep["train"].key["week"]) == {1} and set(prep["val"].key["week"]) == {1}
    assert stored.metrics["input_key"] == input_key(cfg, prep, 15000)
    metrics = _query(real_ghosting_warehouse, "select * from marts.rpt_ghosting_metrics")
    assert set(metrics["dataset"]) == {"real"} and set(metrics["version"]) == {stored.version}
    test = metrics[metrics["split"] == "test"]
    for horizon in scoring.REPORT_HORIZONS:   # each horizon: the first windows of the week-11 tracks
        w, _ = scoring.windows_for(real[real["split"] == "test"], cfg.history, horizon)
        rmse = test[test["metric"] == f"rmse_yd{scoring.metric_suffix(horizon)}"].set_index("model")
        assert (rmse["n"] == len(w)).all() and len(w) > 200
        assert set(rmse.index) == {MODEL_NAME, "constant_velocity", "constant_acceleration",
                                   "constant_acceleration_half", "damped_acceleration",
                                   "damped_velocity_acceleration"}
        assert rmse.loc[MODEL_NAME, "value"] < rmse.loc["constant_velocity", "value"]
        best = test[test["metric"] == f"best_baseline_rmse_yd{scoring.metric_suffix(horizon)}"]
        assert len(best) == 1 and best["value"].iloc[0] == rmse.drop(MODEL_NAME)["value"].min()
        assert best["model"].iloc[0] == rmse.drop(MODEL_NAME)["value"].idxmin()
    steps = test[(test["model"] == MODEL_NAME) & test["metric"].str.startswith("rmse_yd_arrival_step_")]
    steps = steps.sort_values("horizon_step")
    assert steps["horizon_step"].iloc[0] == 1 and steps["n"].is_monotonic_decreasing  # fewer reach later frames


@pytest.mark.real_data
def test_ghost_eval_on_real_week(real_ghosting_warehouse, real_ghosting_artifacts, monkeypatch, capsys):
    """`ngs ghost-eval` on a file named on the command line, with the model the quick real build trained on
    week 1: even a model trained for seconds beats constant velocity on the held-out week."""
    from ngs.cli import main

    week11 = require_shared_data("bdb2026", "output_2023_w11.csv")
    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(real_ghosting_artifacts))
    assert main(["ghost-eval", "--tracks", str(week11), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tracks"] > 500 and out["skipped"] > 0
    assert out["model"]["rmse"] < out["constant_velocity"]["rmse"]
    assert out["constant_acceleration"]["rmse"] < out["constant_velocity"]["rmse"]
