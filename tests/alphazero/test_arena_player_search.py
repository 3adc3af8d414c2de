"""The ``mcts:`` player of a run's checkpoint searches as the run's self-play did (its config.json),
without root noise; ``@VISITS`` replaces only the budget, ``:default-puct`` the whole search; a
checkpoint without a run config searches with the defaults."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from alphazero.arena.gauntlet import gauntlet_plans
from alphazero.arena.match import GameSettings, MatchError, MatchPlan, run_match
from alphazero.arena.players import (
    DEFAULT_VISITS,
    GumbelNetworkPlayer,
    SearchNetworkPlayer,
    SpecError,
    build_player,
    describe_search,
    parse_spec,
)
from alphazero.config.run import load_config
from alphazero.config.search import SearchConfig
from alphazero.train.loop import prepare_run_dir
from alphazero.train.run_dir import RunDir
from go_engine.history import BoardHistory
from go_engine.rules import preset
from go_engine.sgf import read_sgf, replay
from selfplay.tree import ROOT, child_visits
from tests.alphazero import tiny_checkpoint

HISTORY = 2
RULES = preset("tromp-taylor").with_komi(0.5)


def make_checkpoint(directory: Path, generation: int = 3) -> Path:
    return tiny_checkpoint.make_checkpoint(directory, seed=generation, generation=generation, history=HISTORY, size=5)


def make_run(root: Path, overrides: list[str]) -> tuple[Path, SearchConfig]:
    """A run directory as ``alphazero train`` writes it: config.json and models/000003."""
    config = load_config("tiny-cpu", overrides=overrides)
    assert config.history == HISTORY and config.board_size == 5
    prepare_run_dir(RunDir(root), config, resume=False)
    make_checkpoint(root / "models" / "000003")
    return root, config.search


def without_noise(search: SearchConfig, **changes) -> SearchConfig:
    return dataclasses.replace(search, dirichlet_epsilon=0.0, forced_playouts_k=0.0, **changes)


GUMBEL_16 = ["search.gumbel=true", "search.simulations=16", "search.gumbel_considered=6",
             "search.gumbel_c_visit=40.0", "search.gumbel_c_scale=0.2", "search.dirichlet_epsilon=0.3"]


def test_gumbel_run_checkpoint_searches_with_the_runs_config_and_plays_legal_games(tmp_path):
    run, search = make_run(tmp_path / "run", GUMBEL_16)
    spec = parse_spec(f"mcts:{run}")
    assert spec.visits == 16 and spec.seconds is None and spec.name == "mcts:run/g3@16"
    assert spec.search_from == str(run / "config.json")
    player = build_player(spec, RULES, move_timeout=60.0)
    assert isinstance(player, GumbelNetworkPlayer)
    assert player.search_config == without_noise(search)
    assert (player.search_config.gumbel, player.search_config.simulations, player.search_config.gumbel_considered,
            player.search_config.gumbel_c_visit, player.search_config.gumbel_c_scale) == (True, 16, 6, 40.0, 0.2)

    # One move: exactly the budget, sequential halving over at most the 6 considered actions.
    game = BoardHistory(5, RULES, history=HISTORY)
    player.new_game(game, seed=1)
    action = player.genmove(game, game.to_play)
    tree = player._mcts.tree
    visits = child_visits(tree, 0)
    assert int(visits.sum()) == 16 and 1 <= int((visits > 0).sum()) <= 6
    assert visits[action] == visits.max()  # played among the most visited (the halving's survivors)
    # No root noise in play: another seed gives the same search and the same move.
    other = build_player(spec, RULES, move_timeout=60.0)
    other.new_game(game, seed=12345)
    assert other.genmove(game, game.to_play) == action
    assert np.array_equal(child_visits(other._mcts.tree, 0), visits)
    assert int(tree.visits[0, ROOT]) >= 16

    # Real games against random: every move legal under the match's rules, no forfeit.
    out = tmp_path / "match"
    summary = run_match(MatchPlan(spec, parse_spec("random"), 2, out, GameSettings(5, RULES, max_moves=30), seed=3),
                        log=lambda _: None)
    assert len(summary.results) == 2
    assert {r["reason"] for r in summary.results} <= {"score", "move-cap", "resign"}
    for r in summary.results:
        replay(read_sgf(out / r["sgf"]))
        assert r["num_moves"] >= 2


def test_explicit_budget_overrides_only_the_budget(tmp_path):
    run, search = make_run(tmp_path / "run", GUMBEL_16)
    spec = parse_spec(f"mcts:{run}/models/000003@24")
    assert spec.visits == 24 and spec.name == "mcts:run/g3@24"
    player = build_player(spec, RULES, move_timeout=60.0)
    assert isinstance(player, GumbelNetworkPlayer)
    assert player.search_config == without_noise(search, simulations=24)
    game = BoardHistory(5, RULES, history=HISTORY)
    player.genmove(game, game.to_play)
    assert int(child_visits(player._mcts.tree, 0).sum()) == 24
    # Gumbel's halving schedule needs the visit count: a time budget is refused, clearly.
    with pytest.raises(SpecError, match="Gumbel.*@VISITS"):
        parse_spec(f"mcts:{run}@2.5s")


@pytest.mark.parametrize("suffix,visits,seconds", [
    (":default-puct", DEFAULT_VISITS, None),
    ("@32:default-puct", 32, None),
    (":default-puct@32", 32, None),
    ("@1.5s:default-puct", DEFAULT_VISITS, 1.5),
])
def test_default_puct_suffix_forces_the_default_search(tmp_path, suffix, visits, seconds):
    run, _ = make_run(tmp_path / "run", GUMBEL_16)
    spec = parse_spec(f"mcts:{run}{suffix}")
    assert (spec.visits, spec.seconds, spec.search_from) == (visits, seconds, "")
    assert spec.name.endswith(":default-puct")
    player = build_player(spec, RULES, move_timeout=60.0)
    assert isinstance(player, SearchNetworkPlayer)
    expected = without_noise(SearchConfig(), simulations=visits) if seconds is None else without_noise(SearchConfig())
    assert player.search_config == dataclasses.replace(expected, gumbel=False)
    assert player.search.visits == visits
    assert describe_search(spec).startswith("PUCT (c_puct_init 1.25), ") and describe_search(spec).endswith("the default search")


def test_puct_run_checkpoint_uses_the_runs_puct_constants(tmp_path):
    run, search = make_run(tmp_path / "run", ["search.gumbel=false", "search.simulations=24", "search.c_puct_init=2.0",
                                              "search.fpu_reduction=0.4", "search.lcb_z=1.0"])
    spec = parse_spec(f"mcts:{run}")
    player = build_player(spec, RULES, move_timeout=60.0)
    assert isinstance(player, SearchNetworkPlayer) and spec.visits == 24 and player.search.visits == 24
    assert player.search_config == without_noise(search)
    assert (player.search_config.c_puct_init, player.search_config.fpu_reduction, player.search_config.lcb_z) == (2.0, 0.4, 1.0)
    game = BoardHistory(5, RULES, history=HISTORY)
    player.new_game(game, seed=0)
    action = player.genmove(game, game.to_play)
    assert action in [int(a) for a in game.legal_actions(game.to_play)]


@pytest.mark.parametrize("where", ["bare", "models-without-config"])
def test_checkpoint_without_run_config_uses_the_defaults(tmp_path, where):
    ck = make_checkpoint(tmp_path / "ck" if where == "bare" else tmp_path / "run" / "models" / "000003")
    spec = parse_spec(f"mcts:{ck}")
    assert spec.visits == DEFAULT_VISITS and spec.search_from == ""
    player = build_player(spec, RULES, move_timeout=60.0)
    assert isinstance(player, SearchNetworkPlayer)
    assert player.search_config == without_noise(SearchConfig(), simulations=DEFAULT_VISITS)
    assert parse_spec(f"mcts:{ck}@8").visits == 8


@pytest.mark.parametrize("config,message", [
    ("{not json", "cannot read the run's search config"),
    (json.dumps({"search": {"simulation": 16}}), "unknown config key"),
    (json.dumps({"search": {"simulations": 0}}), "simulations must be in"),
])
def test_a_broken_run_config_is_a_clear_error(tmp_path, config, message):
    ck = make_checkpoint(tmp_path / "run" / "models" / "000003")
    (tmp_path / "run" / "config.json").write_text(config)
    with pytest.raises(SpecError, match=message) as info:
        parse_spec(f"mcts:{ck}")
    assert "config.json" in str(info.value)
    assert parse_spec(f"mcts:{ck}:default-puct").search_from == ""  # the way round it


def test_gauntlet_mcts_players_search_like_self_play(tmp_path):
    run, search = make_run(tmp_path / "run", GUMBEL_16)
    make_checkpoint(run / "models" / "000004", generation=4)
    _, plans = gauntlet_plans(run, [parse_spec("random")], 2, 16, GameSettings(5, RULES), tmp_path / "out")
    mcts = [p.a for p in plans if p.a.kind == "mcts"]
    assert {p.name for p in mcts} == {"mcts-g3", "mcts-g4"}
    for spec in mcts:
        assert SearchConfig.from_dict(spec.search) == without_noise(search)
        assert describe_search(spec) == f"Gumbel (6 considered), 16 visits, from {run / 'config.json'}"
        assert isinstance(build_player(spec, RULES, move_timeout=60.0), GumbelNetworkPlayer)


def test_a_match_searched_otherwise_is_not_resumed(tmp_path):
    run, _ = make_run(tmp_path / "run", ["search.gumbel=false", "search.simulations=4"])
    out = tmp_path / "match"
    settings = GameSettings(5, RULES, max_moves=6)
    run_match(MatchPlan(parse_spec(f"mcts:{run}"), parse_spec("random"), 1, out, settings), log=lambda _: None)
    config = json.loads((run / "config.json").read_text())
    config["search"]["c_puct_init"] = 3.0
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(MatchError, match="differs in search"):
        run_match(MatchPlan(parse_spec(f"mcts:{run}"), parse_spec("random"), 2, out, settings), log=lambda _: None)
