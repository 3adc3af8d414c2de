"""Ratings recover known strengths within their intervals; SPRT decides right on seeded sequences."""

import math

import numpy as np
import pytest

from alphazero.arena.ratings import fit_ratings, match_elo
from alphazero.arena.sprt import Sprt


def _simulate(strengths: dict[str, float], games_per_pair: int, rng: np.random.Generator):
    names = list(strengths)
    results = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            p = 1 / (1 + 10 ** ((strengths[b] - strengths[a]) / 400))
            for g in range(games_per_pair):
                results.append((a, b, float(rng.random() < p)) if g % 2 == 0 else (b, a, float(rng.random() >= p)))
    return results


def test_mle_recovers_known_strengths_within_interval():
    truth = {"random": 0.0, "g1": 150.0, "g2": 320.0, "g3": 410.0, "gnugo": 600.0}
    rng = np.random.default_rng(7)
    inside = 0
    total = 0
    for trial in range(10):
        ratings = fit_ratings(_simulate(truth, 120, rng), anchor="random", anchor_elo=0.0)
        assert ratings["random"].elo == 0.0 and ratings["random"].ci95 == 0.0
        for name, elo in truth.items():
            if name == "random":
                continue
            total += 1
            inside += abs(ratings[name].elo - elo) <= ratings[name].ci95
            assert 20 < ratings[name].ci95 < 200
    # 95% intervals: expect ~38 of 40 inside; allow sampling noise but catch broken maths.
    assert inside >= 33, f"only {inside}/{total} true ratings inside their 95% interval"


def test_mle_orders_players_and_stays_finite_on_sweeps():
    results = [("a", "b", 1.0)] * 20 + [("b", "c", 1.0)] * 20
    ratings = fit_ratings(results, anchor="c")
    assert ratings["a"].elo > ratings["b"].elo > ratings["c"].elo == 0.0
    assert all(math.isfinite(r.elo) and math.isfinite(r.ci95) for r in ratings.values())


def test_anchor_shifts_all_ratings():
    rng = np.random.default_rng(1)
    results = _simulate({"x": 0.0, "y": 200.0}, 200, rng)
    r0 = fit_ratings(results, anchor="x", anchor_elo=0.0)
    r1 = fit_ratings(results, anchor="x", anchor_elo=1000.0)
    assert r1["y"].elo - r0["y"].elo == pytest.approx(1000.0, abs=1e-6)


def test_bad_scores_refused():
    with pytest.raises(ValueError, match="score"):
        fit_ratings([("a", "b", 2.0)], anchor="a")


def test_match_elo_symmetric_and_interval():
    elo, ci = match_elo(75, 25)
    assert elo == pytest.approx(190.8, abs=0.5)
    assert 50 < ci < 120
    elo2, _ = match_elo(25, 75)
    assert elo2 == pytest.approx(-elo, abs=1e-9)


@pytest.mark.parametrize("true_elo,expected", [(100.0, "H1"), (-60.0, "H0")])
def test_sprt_decides_on_seeded_sequences(true_elo, expected):
    sprt = Sprt(elo0=0.0, elo1=35.0, alpha=0.05, beta=0.05)
    p = 1 / (1 + 10 ** (-true_elo / 400))
    decisions = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        wins = losses = 0
        decision = "continue"
        for _ in range(20000):
            if rng.random() < p:
                wins += 1
            else:
                losses += 1
            decision = sprt.decide(wins, losses)
            if decision != "continue":
                break
        decisions.append(decision)
    assert decisions.count(expected) >= 18, decisions


def test_sprt_error_rate_under_h0():
    # At exactly elo0 the test must accept H1 at most ~alpha of the time.
    sprt = Sprt(elo0=0.0, elo1=35.0)
    false_accepts = 0
    for seed in range(100):
        rng = np.random.default_rng(1000 + seed)
        wins = losses = 0
        while True:
            if rng.random() < 0.5:
                wins += 1
            else:
                losses += 1
            d = sprt.decide(wins, losses)
            if d != "continue":
                false_accepts += d == "H1"
                break
    assert false_accepts <= 12


def test_sprt_validates():
    with pytest.raises(ValueError):
        Sprt(elo0=10, elo1=5)
