"""Gauntlet over a tiny fake run directory: pairings, ratings for every player, resume, the plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from alphazero.arena.gauntlet import RATINGS_FILE, gauntlet_plans, read_run_settings, run_gauntlet
from alphazero.arena.ida_meter import meter_rows, verdict_for
from alphazero.arena.match import GameSettings
from alphazero.arena.players import SpecError, parse_spec
from alphazero.arena.plot import plot_progress
from alphazero.checkpoint import CheckpointMeta, save_checkpoint
from alphazero.config.network import network_preset
from alphazero.model import PolicyValueNet
from go_engine import features
from go_engine.rules import preset

HISTORY = 2


def make_run(root: Path, generations=(0, 1, 2)) -> Path:
    for g in generations:
        torch.manual_seed(g)
        net = PolicyValueNet(network_preset("tiny"), features.num_planes(HISTORY))
        meta = CheckpointMeta(network=net.config, input_planes=net.in_planes, feature_version=features.FEATURE_VERSION,
                              history=HISTORY, board_sizes=(5,), generation=g)
        save_checkpoint(root / "models" / f"{g:06d}", net, meta)
    config = {"board_size": 5, "rules": preset("tromp-taylor").with_komi(0.5).to_dict(), "history": HISTORY,
              "search": {"simulations": 4}}
    (root / "config.json").write_text(json.dumps(config))
    return root


def test_run_settings_come_from_config_json(tmp_path):
    run = make_run(tmp_path / "run", generations=(0,))
    found = read_run_settings(run)
    assert (found.size, found.visits, found.rules.komi, found.found) == (5, 4, 0.5, True)
    assert read_run_settings(tmp_path).found is False


def test_pairings(tmp_path):
    run = make_run(tmp_path / "run")
    anchors = [parse_spec("random"), parse_spec("gnugo:0")]
    chosen, plans = gauntlet_plans(run, anchors, 2, 4, GameSettings(5), tmp_path / "out")
    assert chosen == [0, 1, 2]
    pairs = {(p.a.name, p.b.name) for p in plans}
    for g in chosen:
        for anchor in ("random", "gnugo-l0"):
            assert (f"raw-g{g}", anchor) in pairs and (f"mcts-g{g}", anchor) in pairs
        assert (f"mcts-g{g}", f"raw-g{g}") in pairs
    assert {("raw-g1", "raw-g0"), ("raw-g2", "raw-g1"), ("mcts-g1", "mcts-g0"), ("mcts-g2", "mcts-g1")} <= pairs
    assert len(plans) == len(pairs) == 3 * 5 + 4
    assert all(p.a.visits == 4 for p in plans if p.a.kind == "mcts")
    with pytest.raises(SpecError, match="generation"):
        gauntlet_plans(run, anchors, 2, 4, GameSettings(5), tmp_path / "out", generations=[7])


def test_gauntlet_rates_every_player_and_plots(tmp_path):
    run = make_run(tmp_path / "run")
    out = run / "arena"
    settings = GameSettings(5, preset("tromp-taylor").with_komi(0.5), max_moves=16, opening_moves=2)
    report = run_gauntlet(run, [parse_spec("random")], 2, 4, settings, out, log=lambda _: None)
    names = {f"{kind}-g{g}" for kind in ("raw", "mcts") for g in (0, 1, 2)} | {"random"}
    assert set(report.ratings) == names
    assert report.ratings["random"].elo == 0.0 and report.ratings["random"].ci95 == 0.0
    for name in names - {"random"}:
        r = report.ratings[name]
        assert r.ci95 > 0 and r.games >= 4
    assert sum(len(s.results) for s in report.summaries) == 13 * 2
    saved = json.loads((out / RATINGS_FILE).read_text())
    assert saved["anchor"] == "random" and set(saved["ratings"]) == names
    table = report.table()
    assert "raw network" in table and "mcts-g" not in table.splitlines()[2] and table.count("\n") >= 5

    again = run_gauntlet(run, [parse_spec("random")], 2, 4, settings, out, log=lambda _: None)
    assert all(s.played_now == [] for s in again.summaries)
    assert {n: r.elo for n, r in again.ratings.items()} == {n: r.elo for n, r in report.ratings.items()}

    rows = meter_rows(report.generations, report.ratings, {})
    assert rows[0].generation_gain is None and rows[1].generation_gain is not None
    assert rows[2].amplification.value == pytest.approx(report.ratings["mcts-g2"].elo - report.ratings["raw-g2"].elo)
    verdict = verdict_for(rows)
    assert not verdict.reached and "not enough data" in verdict.reason
    png = out / "elo.png"
    plot_progress(rows, png, title="test", verdict=verdict.reason)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
