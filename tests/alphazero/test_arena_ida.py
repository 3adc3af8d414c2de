"""IDA meter: KL and value error on synthetic game records against exact expectations, and the
fixed-point rule on constructed sequences."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from alphazero.arena.ida_meter import Estimate, distillation_gap, fixed_point_reached, records_by_generation, summary_text, meter_rows
from alphazero.arena.ratings import Rating
from tests.records import synthetic_record

N, HISTORY, T = 5, 2, 12


def records(seed: int, count: int = 4):
    rng = np.random.default_rng(seed)
    return [synthetic_record(rng, N, HISTORY, T, f"game-{seed}-{i}") for i in range(count)]


class TableEvaluator:
    """Answers from the records' own arrays, matched by the packed planes: a network that is
    exactly the search (logits = log target) and knows each game's outcome, or a uniform one."""

    def __init__(self, recs, exact: bool):
        self.rows = {}
        for r in recs:
            z = r.outcome * np.where(r.to_play == 1, 1.0, -1.0)
            planes = r.planes()
            for t in range(r.num_positions):
                self.rows[planes[t].tobytes()] = (r.policy[t], z[t])
        self.exact = exact

    def __call__(self, planes, legal):
        assert legal.all()  # the meter scores the unmasked policy, as the learner trains it
        logits, values = [], []
        for p in planes:
            target, z = self.rows[p.tobytes()]
            with np.errstate(divide="ignore"):
                logits.append(np.log(target) if self.exact else np.zeros_like(target))
            values.append(z if self.exact else 0.0)
        return np.asarray(logits, np.float32), np.asarray(values, np.float32), {}


def test_a_network_equal_to_its_search_has_no_gap():
    recs = records(0)
    gap = distillation_gap(TableEvaluator(recs, exact=True), recs)
    assert gap.kl.value == pytest.approx(0.0, abs=1e-5)
    assert gap.value_mse.value == pytest.approx(0.0, abs=1e-9)
    assert gap.games == 4 and gap.positions == sum(int(r.full_search.sum()) for r in recs)


def test_uniform_network_gap_is_log_actions_minus_target_entropy():
    recs = records(1)
    gap = distillation_gap(TableEvaluator(recs, exact=False), recs)
    a = N * N + 1
    per_game = []
    for r in recs:
        p = r.policy[r.full_search].astype(np.float64)
        entropy = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=1)
        per_game.append(np.mean(math.log(a) - entropy))
    assert gap.kl.value == pytest.approx(np.mean(per_game), rel=1e-5)
    assert gap.kl.ci95 == pytest.approx(1.96 * np.std(per_game, ddof=1) / 2.0, rel=1e-4)
    assert gap.value_mse.value == pytest.approx(1.0)  # value 0 against outcomes of +-1


def test_records_grouped_by_generation(tmp_path):
    for i, r in enumerate(records(2, 6)):
        dataclasses.replace(r, model_version=i % 3).save_npz(tmp_path / f"{i:010d}_{i:013d}.npz")
    (tmp_path / "0000000099_0000000000099.npz").write_bytes(b"not a record")
    grouped = records_by_generation(tmp_path)
    assert {g: len(v) for g, v in grouped.items()} == {0: 2, 1: 2, 2: 2}
    newest = records_by_generation(tmp_path, max_files=3)  # the junk file is the newest of the three
    assert sum(len(v) for v in newest.values()) == 2


FLAT_GAINS = [Estimate(200, 60), Estimate(5, 40), Estimate(-10, 40), Estimate(8, 40)]
FLAT_KL = [Estimate(1.2, 0.05), Estimate(0.81, 0.03), Estimate(0.80, 0.03), Estimate(0.805, 0.03)]


def test_fixed_point_on_flat_sequences():
    verdict = fixed_point_reached(FLAT_GAINS, FLAT_KL, window=3)
    assert verdict.reached, verdict.reason


@pytest.mark.parametrize("gains,kls,why", [
    (FLAT_GAINS[:-1] + [Estimate(120, 40)], FLAT_KL, "still improving"),
    (FLAT_GAINS, FLAT_KL[:-1] + [Estimate(0.6, 0.02)], "distillation gap still moving"),
    ([Estimate(5, 400)] * 4, FLAT_KL, "too noisy"),
    (FLAT_GAINS[-2:], FLAT_KL, "not enough data"),
    (FLAT_GAINS, [None, None, FLAT_KL[-1]], "not enough data"),
])
def test_fixed_point_refused(gains, kls, why):
    verdict = fixed_point_reached(gains, kls, window=3)
    assert not verdict.reached and why in verdict.reason


def test_gain_within_its_error_bar_counts_as_flat():
    gains = [Estimate(45, 60)] * 3  # above the 20 Elo tolerance but inside its own interval
    assert fixed_point_reached(gains, FLAT_KL[1:], window=3).reached


def test_rows_and_summary():
    ratings = {"raw-g0": Rating("raw-g0", -100, 50, 10, 3), "mcts-g0": Rating("mcts-g0", 50, 40, 10, 6),
               "raw-g1": Rating("raw-g1", 20, 30, 10, 5), "mcts-g1": Rating("mcts-g1", 150, 30, 10, 7)}
    rows = meter_rows([0, 1], ratings, {})
    assert rows[0].amplification.value == 150 and rows[0].amplification.ci95 == pytest.approx(math.hypot(50, 40))
    assert rows[1].generation_gain.value == 120 and rows[0].generation_gain is None
    text = summary_text(rows, fixed_point_reached([r.generation_gain for r in rows], [None, None]))
    assert "+120 +- 58" in text and "Not at a fixed point" in text
