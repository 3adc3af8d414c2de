"""The GTP search player keeps its tree across moves only when the search config reuses trees, and
always continues its own chunked search within a move."""

from __future__ import annotations

import pytest

from alphazero.config.search import SearchConfig
from alphazero.gtp.search_player import SearchPlayer
from go_engine import board as B
from go_engine.history import BoardHistory
from go_engine.rules import preset
from selfplay.evaluators import UniformEvaluator


@pytest.mark.parametrize("reuse", [True, False])
def test_search_player_reuses_the_tree_only_when_configured(reuse):
    game = BoardHistory(7, preset("chinese"), history=8)
    player = SearchPlayer(UniformEvaluator(), SearchConfig(tree_reuse=reuse), visits=40, history=8, seed=0)
    report = player.think(game, None)
    assert report.visits == 40  # the chunks of one move add up to the budget
    mcts = player._mcts
    assert mcts.evaluations == 40  # the root and 39 simulations
    game.play(B.BLACK, report.best_action)
    report = player.think(game, None)
    assert report.visits == 40
    spent = mcts.evaluations - 40
    if reuse:
        assert spent < 40  # the played move's subtree counts toward the budget
    else:
        assert spent == 40
