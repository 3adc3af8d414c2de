"""A run trained with a score utility plays with it (the arena's ``mcts:`` players, ``alphazero gtp``
and ``alphazero analysis`` on its checkpoints), while the win rates they report and resign on stay
the win/loss value's (``selfplay.utility``)."""

from __future__ import annotations

import argparse
import json
import threading

import numpy as np
import pytest

from alphazero import analysis_cli, gtp_cli
from alphazero.analysis.query import Defaults
from alphazero.analysis.scheduler import AnalysisEngine
from alphazero.arena.players import (
    RESIGN,
    GumbelNetworkPlayer,
    SearchNetworkPlayer,
    build_player,
    describe_search,
    engine_search_config,
    parse_spec,
)
from alphazero.config.run import load_config
from alphazero.config.search import SearchConfig
from alphazero.gtp.analysis import AnalyzeOptions, kata_line
from alphazero.gtp.resign import report_is_hopeless
from alphazero.gtp.search_player import SearchPlayer
from alphazero.train.loop import prepare_run_dir
from alphazero.train.run_dir import RunDir
from go_engine import board as B
from go_engine.history import BoardHistory
from go_engine.rules import preset
from selfplay.evaluators import FixedScoreEvaluator
from tests.alphazero import tiny_checkpoint

UTILITY = ["search.static_score_utility_factor=0.1", "search.dynamic_score_utility_factor=0.3",
           "search.dynamic_score_center_scale=0.5"]
KATAGO = dict(static_score_utility_factor=0.1, dynamic_score_utility_factor=0.3)
# Black's value -0.85 and lead -40 everywhere (see tests/selfplay/test_score_utility.py): win rate
# 0.075, above a 0.05 resignation threshold, while the utility is -1.084404 ("win rate" -0.042).
LOSING = (-0.85, -40.0)
LOSING_UTILITY = -0.85 - 0.1 * 0.8440417392 - 0.3 * 0.5
RULES = preset("chinese")


def make_run(root, overrides):
    config = load_config("tiny-cpu", overrides=overrides)
    prepare_run_dir(RunDir(root), config, resume=False)
    checkpoint = tiny_checkpoint.make_checkpoint(root / "models" / "000003", seed=3, generation=3,
                                                 history=config.history, size=5)
    return checkpoint, config


def test_a_runs_players_and_engines_search_with_its_score_utility(tmp_path):
    checkpoint, config = make_run(tmp_path / "run", UTILITY)
    assert config.search.uses_score_utility
    # The arena's mcts: player: the run's self-play search (utility included), without noise.
    spec = parse_spec(f"mcts:{tmp_path / 'run'}@8")
    played = SearchConfig.from_dict(spec.search)
    assert (played.static_score_utility_factor, played.dynamic_score_utility_factor) == (0.1, 0.3)
    assert "with score utility (static 0.1, dynamic 0.3)" in describe_search(spec)
    player = build_player(spec, RULES, move_timeout=60.0)
    assert isinstance(player, (SearchNetworkPlayer, GumbelNetworkPlayer)) and player.search_config.uses_score_utility
    game = BoardHistory(5, RULES, history=config.history)
    player.new_game(game, 0)
    assert 0 <= player.genmove(game, B.BLACK) <= 25  # the network's score head feeds the search
    # GTP and the analysis engine keep their own search constants, with the run's score utility.
    expected = SearchConfig(**KATAGO, dynamic_score_center_scale=0.5)
    assert engine_search_config(checkpoint) == expected
    assert engine_search_config(None) == SearchConfig()
    parser = argparse.ArgumentParser()
    gtp_cli.add_arguments(parser)
    engine = gtp_cli.build_engine(parser.parse_args(["--checkpoint", str(checkpoint), "--size", "5", "--visits", "8"]))
    assert engine.player.search_config.uses_score_utility
    assert engine.player.search_config.dynamic_score_center_scale == 0.5
    report = engine.player.think(BoardHistory(5, RULES, history=config.history), None)
    assert report.visits >= 8 and report.utility is not None
    parser = argparse.ArgumentParser()
    analysis_cli.add_arguments(parser)
    analysis = analysis_cli.build_engine(parser.parse_args(["--checkpoint", str(checkpoint)]), lambda obj: None, lambda text: None)
    assert analysis.search.uses_score_utility and analysis.search.dynamic_score_center_scale == 0.5


def test_a_run_without_score_utility_plays_without_it(tmp_path):
    checkpoint, _ = make_run(tmp_path / "run", [])
    assert engine_search_config(checkpoint) == SearchConfig()
    assert not SearchConfig.from_dict(parse_spec(f"mcts:{tmp_path / 'run'}@8").search).uses_score_utility


def _root_info(line: str) -> dict[str, float]:
    words = line.split(" rootInfo ", 1)[1].split()
    return {words[i]: float(words[i + 1]) for i in range(0, 16, 2)}


def test_gtp_reports_and_resigns_on_the_win_loss_value():
    game = BoardHistory(5, RULES, history=2)
    player = SearchPlayer(FixedScoreEvaluator(*LOSING), SearchConfig(**KATAGO), visits=24, history=2)
    report = player.think(game, None)
    assert report.winrate == pytest.approx(0.075, abs=1e-6)
    assert report.utility == pytest.approx(LOSING_UTILITY, abs=1e-5)
    assert report.candidates and all(c.winrate == pytest.approx(0.075, abs=1e-6) for c in report.candidates)
    assert all(c.utility == pytest.approx(LOSING_UTILITY, abs=1e-5) for c in report.candidates)
    assert not report_is_hopeless(report, 0.05)  # its utility alone would resign
    info = _root_info(kata_line(report, 5, AnalyzeOptions(root_info=True)))
    assert info["utility"] == pytest.approx(LOSING_UTILITY, abs=1e-4) and info["winrate"] == pytest.approx(0.075, abs=1e-4)
    # Without a score utility the report is what it always was: utility = 2 winrate - 1.
    plain = SearchPlayer(FixedScoreEvaluator(*LOSING), SearchConfig(), visits=24, history=2).think(game, None)
    assert plain.utility is None and plain.winrate == pytest.approx(0.075, abs=1e-6)
    assert _root_info(kata_line(plain, 5, AnalyzeOptions(root_info=True)))["utility"] == pytest.approx(-0.85, abs=1e-4)


def test_the_arenas_gumbel_player_resigns_on_the_win_loss_value():
    config = SearchConfig(simulations=8, gumbel=True, gumbel_considered=4, dirichlet_epsilon=0.0, **KATAGO)
    player = GumbelNetworkPlayer("g", FixedScoreEvaluator(*LOSING), config, 2, resign_winrate=0.05)
    game = BoardHistory(5, RULES, history=2)
    player.new_game(game, 0)
    assert player.genmove(game, B.BLACK) != RESIGN


def test_analysis_reports_win_rates_and_utility_apart():
    results = []
    engine = AnalysisEngine(FixedScoreEvaluator(*LOSING), 2, Defaults(visits=16, max_visits=64, history=2), results.append,
                            rows=1, search=SearchConfig(**KATAGO))
    thread = threading.Thread(target=engine.run, daemon=True)
    thread.start()
    engine.submit(json.dumps({"id": "q", "moves": [], "rules": "chinese", "komi": 7.5, "boardXSize": 5, "boardYSize": 5,
                              "maxVisits": 16}))
    engine.close_input()
    thread.join(timeout=3600)
    assert not thread.is_alive()
    final = [r for r in results if r.get("id") == "q" and r.get("isDuringSearch") is False]
    assert len(final) == 1, results
    root, infos = final[0]["rootInfo"], final[0]["moveInfos"]
    # Black to move, reported as black: win rates from the win/loss value, utility the search's.
    assert root["winrate"] == pytest.approx(0.075, abs=1e-6) and root["rawWinrate"] == pytest.approx(0.075, abs=1e-6)
    assert root["utility"] == pytest.approx(LOSING_UTILITY, abs=1e-5)
    assert infos and all(m["winrate"] == pytest.approx(0.075, abs=1e-6) for m in infos)
    assert all(m["utility"] == pytest.approx(LOSING_UTILITY, abs=1e-5) for m in infos)
    assert all(m["lcb"] <= m["winrate"] + 1e-9 and m["utilityLcb"] <= m["utility"] + 1e-9 for m in infos)
    assert np.isfinite([m["scoreLead"] for m in infos]).all()
