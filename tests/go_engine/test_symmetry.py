"""The 8 board symmetries: round trips, actions vs policies, and rules and features commuting with them."""

from __future__ import annotations

import numpy as np
import pytest

from go_engine import board as B
from go_engine import features as F
from go_engine import symmetry as S
from go_engine.rules import KoRule, Rules, SuicideRule

from reference import engine_grid

SYMS = range(S.NUM_SYMMETRIES)


@pytest.mark.parametrize("sym", SYMS)
@pytest.mark.parametrize("n", [2, 5, 9])
def test_transform_then_inverse_is_identity(sym, n):
    rng = np.random.default_rng(sym * 100 + n)
    planes = rng.normal(size=(3, F.num_planes(2), n, n)).astype(np.float32)
    back = S.transform_planes(S.transform_planes(planes, sym), S.inverse(sym))
    np.testing.assert_array_equal(back, planes)
    for width in (n * n + 1, n * n):  # policy (pass last) and ownership
        policy = rng.random(size=(4, width))
        moved = S.transform_policy(policy, sym, n)
        if width == n * n + 1:
            np.testing.assert_array_equal(moved[:, -1], policy[:, -1])  # pass stays last
        np.testing.assert_array_equal(np.sort(moved, axis=1), np.sort(policy, axis=1))
        np.testing.assert_array_equal(S.transform_policy(moved, S.inverse(sym), n), policy)
    assert S.inverse(S.inverse(sym)) == sym


def test_the_eight_symmetries_are_the_dihedral_group():
    n = 4
    marked = np.arange(n * n).reshape(n, n)  # no symmetry of its own
    images = {S.transform_planes(marked, s).tobytes() for s in SYMS}
    assert len(images) == 8
    # Documented meaning: s in 0..3 rotates s quarter turns counter-clockwise; s >= 4 mirrors first.
    corner = np.zeros((n, n))
    corner[0, 1] = 1  # top row, second column
    assert S.transform_planes(corner, 1)[n - 2, 0] == 1  # a quarter turn left: onto the left column
    assert S.transform_planes(corner, 2)[n - 1, n - 2] == 1
    assert S.transform_planes(corner, 4)[0, n - 2] == 1  # mirrored left-right
    # Closed under composition.
    for a in SYMS:
        for b in SYMS:
            twice = S.transform_planes(S.transform_planes(marked, a), b).tobytes()
            assert twice in images


@pytest.mark.parametrize("n", [3, 9, 19])
def test_transform_action_agrees_with_transform_policy(n):
    for sym in SYMS:
        perm = S.action_permutation(sym, n)
        assert sorted(perm.tolist()) == list(range(n * n + 1)) and perm[-1] == n * n
        x = np.random.default_rng(sym).random((2, n * n + 1))
        np.testing.assert_array_equal(S.transform_policy(x, sym, n), x[..., perm])
        for a in range(n * n + 1):
            one_hot = np.zeros(n * n + 1)
            one_hot[a] = 1
            moved = S.transform_policy(one_hot, sym, n)
            assert moved[S.transform_action(a, sym, n)] == 1 and moved.sum() == 1
        assert S.transform_action(n * n, sym, n) == n * n


def _grid(state: B.BoardState, b: int = 0) -> np.ndarray:
    n = state.size
    return np.array(engine_grid(state, b)).reshape(n, n)


@pytest.mark.parametrize(
    "rules",
    [
        Rules(ko=KoRule.POSITIONAL),
        Rules(ko=KoRule.SITUATIONAL, suicide=SuicideRule.ALLOWED, komi=5.0),
        Rules(ko=KoRule.SIMPLE),
    ],
    ids=["positional", "situational-suicide", "simple"],
)
def test_rules_and_features_commute_with_symmetries(rules):
    """Play a random game, and the same game transformed by each symmetry in the other 8 rows:
    stones, legal moves, ko point, features and score are the transformed originals, every move."""
    n = 7
    rng = np.random.default_rng(int(rules.ko))
    # Row 0: the original; row 1 + s: transformed by s. An asymmetric setup position first.
    state = B.state_for(rules, 1 + S.NUM_SYMMETRIES, n)
    black = rng.choice(n * n, size=4, replace=False)
    white = rng.choice(np.setdiff1d(np.arange(n * n), black), size=3, replace=False)
    for row in range(state.batch_size):
        sym = 0 if row == 0 else row - 1  # row 0 uses the identity
        stones = [S.transform_action(int(a), sym, n) for a in list(black) + list(white)]
        B.setup_stones(state, row, stones, [B.BLACK] * 4 + [B.WHITE] * 3, B.BLACK, rules)
    checked = 0
    while not state.done[0]:
        masks = B.legal_mask(state, rules)
        planes = F.encode(state, rules)
        margin, owner = B.score(state)
        for sym in SYMS:
            row = 1 + sym
            np.testing.assert_array_equal(_grid(state, row), S.transform_planes(_grid(state, 0), sym))
            np.testing.assert_array_equal(masks[row], S.transform_policy(masks[0], sym, n))
            np.testing.assert_array_equal(planes[row], S.transform_planes(planes[0], sym))
            np.testing.assert_array_equal(owner[row], S.transform_policy(owner[0], sym, n))
            assert margin[row] == margin[0]
            assert state.done[row] == state.done[0] and state.to_play[row] == state.to_play[0]
        checked += 1
        legal = np.nonzero(masks[0])[0]
        a = int(rng.choice(legal)) if rng.random() > 0.03 else n * n
        actions = [a] + [S.transform_action(a, sym, n) for sym in SYMS]
        assert B.play(state, actions, rules).all()
    assert checked > 40


def test_bad_symmetry_input():
    with pytest.raises(ValueError, match="symmetry"):
        S.transform_planes(np.zeros((3, 3)), 8)
    with pytest.raises(ValueError, match="symmetry"):
        S.inverse(-1)
    with pytest.raises(ValueError, match="neither"):
        S.transform_policy(np.zeros(11), 0, 3)
