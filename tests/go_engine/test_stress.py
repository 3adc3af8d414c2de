"""Seeded random games checked move by move against a from-scratch recount and the pure-Python reference."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from numba import njit

from go_engine import board as B
from go_engine import compiled
from go_engine.rules import KoRule, Rules, SuicideRule

from reference import LEGAL, SUICIDE, KO, OCCUPIED, RefGame, check_consistency, engine_grid, ref_from_engine

STATUS_NAMES = {B.LEGAL: LEGAL, B.OCCUPIED: OCCUPIED, B.SUICIDE: SUICIDE, B.KO_FORBIDDEN: KO}

# Board side -> (games per rule combination, move cap or None for the default 4 n^2, pass probability).
# Tiny boards run many short games (repetition and suicide corner cases are dense there); big boards
# run one capped game, whose checks cost a reference legality scan of every point after every move.
BUDGET = {
    2: (40, None, 0.15),
    3: (20, None, 0.08),
    5: (6, None, 0.03),
    9: (1, None, 0.01),
    13: (1, 160, 0.0),
    19: (1, 140, 0.0),
}
COMBOS = [(ko, suicide) for ko in KoRule for suicide in SuicideRule]


@njit(cache=True)
def _statuses(s, b, ko_rule, suicide_rule, out):
    """``out[a]`` = ``move_status_row`` of every board action (one compiled call per position)."""
    W = int(np.sqrt(s.board.shape[1]) + 0.5)
    n = W - 2
    for a in range(n * n):
        out[a] = B.move_status_row(s, b, (a // n + 1) * W + a % n + 1, ko_rule, suicide_rule)


def _ref_for(n: int, rules: Rules) -> RefGame:
    d = rules.to_dict()
    return RefGame(n, ko=d["ko"], suicide_allowed=d["suicide"] == "allowed", komi=rules.komi, max_moves=rules.max_moves)


def _assert_same_fields(a: B.BoardState, b: B.BoardState, what: str) -> None:
    for name, x, y in zip(B.BoardState._fields, a, b):
        assert np.array_equal(x, y), f"{what}: field {name} changed"


def _check_against_reference(state: B.BoardState, ref: RefGame, rules: Rules, statuses: np.ndarray) -> np.ndarray:
    """Compare everything observable with the reference; return the (checked) legal mask."""
    n = ref.n
    assert engine_grid(state) == ref.board
    assert int(state.to_play[0]) == ref.to_play
    assert int(state.num_moves[0]) == ref.num_moves
    assert int(state.passes[0]) == ref.passes
    assert bool(state.done[0]) == ref.done
    ko_point = int(state.ko_point[0])
    engine_ko = None if ko_point == B.NO_POINT else (ko_point // (n + 2) - 1) * n + ko_point % (n + 2) - 1
    assert engine_ko == ref.ko_point
    check_consistency(state)
    # One superko key per distinct position seen (the simple-ko rule stores keys too).
    assert np.count_nonzero(state.seen[0]) == len(set(ref.history))
    expected_status = [ref.status(a) for a in range(n * n + 1)]
    mask = B.legal_mask(state, rules)[0]
    expected = [status == LEGAL for status in expected_status]
    assert mask.tolist() == expected, f"legal moves differ at {np.nonzero(mask != np.array(expected))[0].tolist()}"
    if not ref.done:
        _statuses(state, 0, int(rules.ko), int(rules.suicide), statuses)
        assert [STATUS_NAMES[int(x)] for x in statuses] == expected_status[: n * n]
    return mask


def _play_checked_game(n: int, rules: Rules, rng: np.random.Generator, pass_prob: float) -> int:
    state = B.state_for(rules, 1, n)
    ref = _ref_for(n, rules)
    statuses = np.zeros(n * n, np.int64)
    mask = _check_against_reference(state, ref, rules, statuses)
    while not ref.done:
        legal = np.nonzero(mask)[0]
        illegal = np.setdiff1d(np.arange(n * n), legal)
        if illegal.size and rng.random() < 0.15:
            # An illegal move is refused and changes nothing.
            before = B.take_rows(state, [0])
            assert not B.play(state, [int(rng.choice(illegal))], rules)[0]
            _assert_same_fields(before, state, "illegal move")
        board_moves = legal[legal < n * n]
        a = n * n if (board_moves.size == 0 or rng.random() < pass_prob) else int(rng.choice(board_moves))
        assert B.play(state, [a], rules)[0]
        ref.play(a)
        mask = _check_against_reference(state, ref, rules, statuses)
    margin, owner = B.score(state)
    assert owner[0].tolist() == ref.ownership()
    assert margin[0] == pytest.approx(ref.score())
    assert B.outcome(state)[0] == np.sign(ref.score())
    assert not B.legal_mask(state, rules).any()
    return ref.num_moves


@pytest.fixture
def one_thread():
    """Batches of one gain nothing from threads, and on a busy machine each parallel launch waits
    for a core (milliseconds per call); threading is exercised by test_batch.py instead."""
    threads = numba.get_num_threads()
    compiled.set_num_threads(1)
    yield
    compiled.set_num_threads(threads)


@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("n", sorted(BUDGET))
@pytest.mark.parametrize("ko,suicide", COMBOS, ids=[f"{k.name.lower()}-{s.name.lower()}" for k, s in COMBOS])
def test_random_games_match_reference(n, ko, suicide):
    games, cap, pass_prob = BUDGET[n]
    rules = Rules(ko=ko, suicide=suicide, komi=0.5 if n < 5 else 7.5, max_moves=cap)
    rng = np.random.default_rng([n, int(ko), int(suicide), 2024])
    moves = sum(_play_checked_game(n, rules, rng, pass_prob) for _ in range(games))
    assert moves >= games  # every game really ran


@pytest.mark.parametrize("n", [2, 3, 5, 9, 19])
@pytest.mark.parametrize("avoid_eyes", [True, False])
def test_compiled_random_games_are_consistent(n, avoid_eyes):
    """``play_random_games`` (the compiled playout) ends every game in a consistent, scorable state."""
    for ko, suicide in COMBOS:
        rules = Rules(ko=ko, suicide=suicide, komi=7.5)
        state = B.state_for(rules, 8, n)
        lengths = B.play_random_games(state, rules, seed=n * 100 + int(ko) * 10 + int(suicide), avoid_eyes=avoid_eyes)
        assert state.done.all()
        assert (state.num_moves == lengths).all() and (lengths > 0).all()
        margin, owner = B.score(state)
        for b in range(state.batch_size):
            check_consistency(state, b)
            ref = ref_from_engine(state, b, rules)
            assert owner[b].tolist() == ref.ownership()
            assert margin[b] == pytest.approx(ref.score())
            if lengths[b] < B.move_cap(rules, n):
                assert state.passes[b] == 2  # the game ended by two passes, not the cap


def test_random_games_are_deterministic_per_seed():
    rules = Rules()
    first = B.state_for(rules, 16, 9)
    second = B.state_for(rules, 16, 9)
    B.play_random_games(first, rules, seed=7)
    threads = numba.get_num_threads()
    compiled.set_num_threads(1)
    try:
        B.play_random_games(second, rules, seed=7)
    finally:
        compiled.set_num_threads(threads)
    _assert_same_fields(first, second, "same seed, other thread count")
    third = B.state_for(rules, 16, 9)
    B.play_random_games(third, rules, seed=8)
    assert not np.array_equal(first.board, third.board)



def _midgame(n: int, moves: int, rules: Rules, seed: int) -> B.BoardState:
    """One game after ``moves`` seeded random non-pass moves (captures and ko points included)."""
    state = B.state_for(rules, 1, n)
    rng = np.random.default_rng(seed)
    for _ in range(moves):
        legal = B.legal_mask(state, rules)[0, :-1]
        B.play(state, [int(rng.choice(np.flatnonzero(legal)))], rules)
    return state


@pytest.mark.parametrize("avoid_eyes", [False, True])
@pytest.mark.parametrize("tries", [0, B.REJECTION_TRIES])
def test_random_move_is_uniform_over_allowed_moves(avoid_eyes, tries):
    """The playout's move is uniform over the allowed moves, in its rejection phase (``tries``
    uniform draws over all actions) and in its exact phase (``tries=0``): one move from a fixed
    crowded position in many rows, chi-square against the uniform distribution."""
    n, rows = 7, 4000
    rules = Rules(ko=KoRule.SIMPLE, suicide=SuicideRule.FORBIDDEN, komi=7.5)
    start = _midgame(n, 34, rules, seed=5)
    allowed = B.legal_mask(start, rules)[0]
    if avoid_eyes:
        W = n + 2
        me = int(start.to_play[0])
        for a in range(n * n):
            if allowed[a] and B.is_own_eye_row(start, 0, (a // n + 1) * W + a % n + 1, me):
                allowed[a] = False
        allowed[n * n] = not allowed[: n * n].any()  # pass only when nothing else is allowed
    m = int(allowed.sum())
    assert 8 < m < n * n  # a position where the draw has something to get wrong
    state = B.take_rows(start, np.zeros(rows, np.int64))
    for b in range(rows):
        B.random_game_row(state, b, np.uint64(1_000_003 * b + 17), int(rules.ko), int(rules.suicide), int(start.num_moves[0]) + 1, avoid_eyes, tries)
    assert (state.num_moves == start.num_moves[0] + 1).all()
    counts = np.bincount(state.last_move.astype(np.int64), minlength=n * n + 1)
    assert counts[~allowed].sum() == 0, f"moves outside the allowed set: {np.flatnonzero(counts * ~allowed)}"
    expected = rows / m
    chi2 = float((((counts[allowed] - expected) ** 2) / expected).sum())
    df = m - 1
    assert chi2 < df + 6 * np.sqrt(2 * df), f"chi2 {chi2:.1f} with {df} degrees of freedom: not uniform"


WARM_START = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from numba.core.registry import CPUDispatcher
from go_engine import board as B, features as F
from go_engine.rules import Rules
rules = Rules()
s = B.new_state(2, 5)
B.legal_mask(s, rules); B.play(s, [12, 6], rules); B.score(s); B.outcome(s)
F.encode(s, rules); B.setup_stones(s, 1, [0], [B.BLACK], B.WHITE, rules)
B.copy_row(s, 0, s, 1); B.reset_row(s, 1)
p = 2 * 7 + 2
B.move_status_row(s, 0, p, 0, 0); B.legal_row(s, 0, 0, 0, np.zeros(26, np.bool_))
B.play_action_row(s, 0, 3, 0, 0, 100); B.play_row_assume_legal(s, 0, p, 0, 100)
B.place_stone_row(s, 1, 7 + 1, 1); B.setup_stones_row(s, 1, np.array([24]), np.array([2]), 1, 0)
B.is_own_eye_row(s, 0, 8, 1)
F.encode_row(s, 0, 0, 0, 0, 0, np.zeros((F.num_planes(8), 5, 5), np.float32))
B.random_game_row(s, 1, np.uint64(5), 0, 0, 100, True, 16); B.play_random_games(s, rules, seed=1)
elapsed = time.perf_counter() - t0
kernels = [f for m in (B, F) for f in vars(m).values() if isinstance(f, CPUDispatcher)]
misses = sorted(f.py_func.__name__ for f in kernels if sum(f.stats.cache_misses.values()))
print(json.dumps({"seconds": elapsed, "compiled": misses, "kernels": len(kernels)}))
"""


def test_warm_import_and_first_calls_come_from_the_cache():
    """A fresh process imports the engine and calls every kernel once without compiling anything."""
    import json
    import subprocess
    import sys

    for attempt in ("warm-up", "measured"):  # the first run fills the cache if this checkout is new
        done = subprocess.run([sys.executable, "-c", WARM_START], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\nwarm import + first call of {report['kernels']} kernels: {report['seconds']:.2f} s")
    assert report["kernels"] >= 25
    assert report["compiled"] == [], f"kernels recompiled although the cache is warm: {report['compiled']}"
