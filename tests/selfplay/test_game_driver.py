"""Self-play driver: valid GameRecords, one evaluator call per step, playout caps, resignation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from alphazero.config.search import SearchConfig, SelfPlayConfig
from alphazero.game_record import GameRecord
from go_engine import board as B
from go_engine import features as F
from go_engine.rules import Rules
from selfplay.evaluators import LinearEvaluator, UniformEvaluator
from selfplay.game_driver import SelfPlayDriver


class CountingEvaluator:
    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, 0

    def __call__(self, planes, legal):
        self.calls += 1
        return self.inner(planes, legal)


def _replay(record: GameRecord, rules: Rules) -> B.BoardState:
    s = B.state_for(rules, 1, record.board_size, history=record.history)
    for a in record.moves.tolist():
        assert B.play(s, [a], rules).all(), "recorded move is illegal"
    return s


@pytest.mark.parametrize("gumbel", [False, True])
def test_driver_produces_valid_records(tmp_path, gumbel):
    rules = Rules(komi=0.5, max_moves=40)
    ev = CountingEvaluator(LinearEvaluator(F.num_planes(2), 4, seed=0))
    search = SearchConfig(simulations=12, gumbel=gumbel, gumbel_considered=4)
    sp = SelfPlayConfig(games_in_parallel=3, full_search_probability=0.5, cheap_simulations=4, resign_enabled=False)
    driver = SelfPlayDriver(search, sp, rules, 4, ev, history=2, rng=np.random.default_rng(1), model_version=7)
    records = driver.play(4)
    assert len(records) >= 4
    assert len({r.game_id for r in records}) == len(records)
    for r in records:
        r.validate()
        assert r.model_version == 7 and not r.resigned and r.resign_false_positive in (-1, 0, 1)
        assert json.loads(r.rules)["max_moves"] == 40
        final = _replay(r, rules)
        margin, owner = B.score(final)
        assert r.final_score == pytest.approx(float(margin[0]))
        assert (r.final_ownership == owner[0]).all()
        assert r.num_positions == len(r.moves)  # every position before a move is recorded
        # Planes are those of the recorded positions: replay and compare.
        s = B.state_for(rules, 1, 4, history=2)
        planes = r.planes()
        for t, a in enumerate(r.moves.tolist()):
            assert (F.encode(s, rules, 2)[0] == planes[t]).all()
            assert r.to_play[t] == s.to_play[0]
            B.play(s, [a], rules)
        full = r.full_search
        assert np.allclose(r.policy[full].sum(axis=1), 1.0, atol=1e-4)
        assert (r.policy[~full] == 0).all()
        path = tmp_path / f"{r.game_id}.npz"
        r.save_npz(path)
        assert GameRecord.load_npz(path).moves.tolist() == r.moves.tolist()
    mix = np.concatenate([r.full_search for r in records])
    assert mix.any() and (~mix).any()  # playout-cap randomisation used both kinds
    # One evaluator call per search step (never more), batching the rows' leaves.
    assert 0 < ev.calls <= driver.steps
    assert driver.mcts.evaluations > 1.5 * ev.calls


class GloomyEvaluator:
    """Black is sure it is lost: value -0.95 for black to move, +0.95 for white (history 2)."""

    def __call__(self, planes, legal):
        black = planes[:, 2 * 2, 0, 0] > 0.5
        value = np.where(black, -0.95, 0.95).astype(np.float32)
        return np.where(legal, 0.0, -1e9).astype(np.float32), value, {}


def test_resignation_and_false_positive_metric():
    rules = Rules(komi=0.5, max_moves=30)
    search = SearchConfig(simulations=4)
    sp = SelfPlayConfig(games_in_parallel=2, full_search_probability=1.0, resign_threshold=-0.9, resign_consecutive=2, no_resign_fraction=0.0)
    driver = SelfPlayDriver(search, sp, rules, 3, GloomyEvaluator(), history=2, rng=np.random.default_rng(0))
    records = driver.play(2)
    for r in records:
        assert r.resigned and r.resign_false_positive == -1
        assert len(r.moves) == 2 and r.num_positions == 3  # black's second low root value: resign
        assert r.outcome == -1.0  # black resigned
    sp_never = SelfPlayConfig(games_in_parallel=2, full_search_probability=1.0, resign_threshold=-0.9, resign_consecutive=2, no_resign_fraction=1.0)
    driver = SelfPlayDriver(search, sp_never, rules, 3, GloomyEvaluator(), history=2, rng=np.random.default_rng(0))
    records = driver.play(2)
    for r in records:
        assert not r.resigned
        winner = B.BLACK if r.outcome > 0 else (B.WHITE if r.outcome < 0 else B.EMPTY)
        # Black would have resigned first; a false positive exactly when black went on to win.
        assert r.resign_false_positive == int(winner == B.BLACK)


def test_driver_restarts_rows_and_tags_new_model_version():
    rules = Rules(komi=0.5, max_moves=12)
    search = SearchConfig(simulations=4)
    sp = SelfPlayConfig(games_in_parallel=2, full_search_probability=1.0, resign_enabled=False)
    driver = SelfPlayDriver(search, sp, rules, 3, UniformEvaluator(), history=2, rng=np.random.default_rng(3))
    first = driver.play(2)
    driver.set_evaluator(UniformEvaluator(), model_version=2)
    second = driver.play(2)
    assert all(r.model_version == 0 for r in first) and all(r.model_version == 2 for r in second)
    assert driver.games_started >= 4 + 2
