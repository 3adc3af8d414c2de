"""Feature planes: the documented layout, recomputed independently from a move record and the reference."""

from __future__ import annotations

import numpy as np
import pytest

from go_engine import board as B
from go_engine import coords
from go_engine import features as F
from go_engine import scoring
from go_engine.ascii_board import from_ascii
from go_engine.history import BoardHistory
from go_engine.rules import KoRule, Rules, ScoringRule, SuicideRule, TaxRule, fixed_handicap_actions, preset

from reference import BLACK, KO, WHITE, RefGame, engine_grid

COMBOS = [(ko, suicide) for ko in KoRule for suicide in SuicideRule]
COMBO_IDS = [f"{k.name.lower()}-{s.name.lower()}" for k, s in COMBOS]


def _expected_planes(record: list[list[int]], ref: RefGame, rules: Rules, k: int, version: int = F.FEATURE_VERSION) -> np.ndarray:
    """Planes as features.py documents them, from the boards after each move (``record[0]`` the
    start) and the reference game (liberties, ko-forbidden points); no engine state is read."""
    n = ref.n
    me, opp = ref.to_play, 3 - ref.to_play
    out = np.zeros((F.num_planes(k, version), n, n), np.float32)
    for i in range(k):
        board = np.array(record[max(len(record) - 1 - i, 0)]).reshape(n, n)
        out[i] = board == me
        out[k + i] = board == opp
    out[2 * k] = me == BLACK
    for _, stones, libs in ref.chains():
        plane = 2 * k + 1 + min(len(libs), 3) - 1
        for a in stones:
            out[plane, a // n, a % n] = 1
    if not ref.done:
        for a in range(n * n):
            if ref.board[a] == 0 and ref.status(a) == KO:
                out[2 * k + 4, a // n, a % n] = 1
    out[2 * k + 5] = 1
    out[2 * k + 6] = rules.suicide == SuicideRule.ALLOWED
    out[2 * k + 7] = rules.ko != KoRule.SIMPLE
    out[2 * k + 8] = rules.ko == KoRule.SITUATIONAL
    if version == 2:
        out[2 * k + 9] = rules.scoring == ScoringRule.TERRITORY
        out[2 * k + 10] = rules.tax != TaxRule.NONE
        out[2 * k + 11] = rules.tax == TaxRule.ALL
    out[-1] = (rules.komi if me == WHITE else -rules.komi) / F.KOMI_SCALE
    return out


# Scoring and tax vary with the ko rule, so every scoring/tax plane is seen set and clear.
SCORING_TAX = {KoRule.SIMPLE: (ScoringRule.TERRITORY, TaxRule.SEKI), KoRule.POSITIONAL: (ScoringRule.AREA, TaxRule.NONE),
               KoRule.SITUATIONAL: (ScoringRule.TERRITORY, TaxRule.ALL)}


@pytest.mark.parametrize("ko,suicide", COMBOS, ids=COMBO_IDS)
def test_planes_follow_the_documented_layout(ko, suicide):
    """Random games; at every move the encoding (both feature versions) equals the layout recomputed from scratch."""
    n, K = 6, 8
    scoring, tax = SCORING_TAX[ko]
    rules = Rules(ko=ko, suicide=suicide, komi=5.5, scoring=scoring, tax=tax)
    rng = np.random.default_rng(int(ko) * 2 + int(suicide))
    checked = 0
    for _ in range(3):
        state = B.state_for(rules, 1, n, history=K)
        d = rules.to_dict()
        ref = RefGame(n, ko=d["ko"], suicide_allowed=d["suicide"] == "allowed", komi=rules.komi)
        record = [list(ref.board)]
        while not ref.done:
            for k in (1, 3, K):
                got = F.encode(state, rules, history=k)[0]
                assert got.shape == (F.num_planes(k), n, n) and got.dtype == np.float32
                np.testing.assert_array_equal(got, _expected_planes(record, ref, rules, k))
            old = F.encode(state, rules, history=2, version=1)[0]
            assert old.shape == (2 * 2 + 10, n, n)
            np.testing.assert_array_equal(old, _expected_planes(record, ref, rules, 2, version=1))
            checked += 1
            legal = np.nonzero(ref.legal_mask())[0]
            a = int(rng.choice(legal)) if rng.random() > 0.05 else n * n
            ref.play(a)
            assert B.play(state, [a], rules)[0]
            record.append(list(ref.board))
            assert engine_grid(state) == ref.board
    assert checked > 100


def test_history_starts_from_the_setup_position_and_flips_perspective():
    rules = Rules(komi=7.5)
    state = from_ascii(
        """
        . . .
        . X .
        . . .
        """,
        rules,
        to_play=B.WHITE,
        history=4,
    )
    assert B.play(state, [0], rules)[0]  # white A3 (top-left)
    planes = F.encode(state, rules)[0]  # black to move
    k = 4
    centre = np.zeros((3, 3))
    centre[1, 1] = 1
    corner = np.zeros((3, 3))
    corner[0, 0] = 1
    for i in range(k):
        np.testing.assert_array_equal(planes[i], centre)  # black's (own) stone, in every step
        np.testing.assert_array_equal(planes[k + i], corner if i == 0 else 0)  # white's corner only now
    assert (planes[2 * k] == 1).all()
    assert (planes[-1] == -7.5 / 15).all()
    assert B.play(state, [8], rules)[0]  # black C1
    planes = F.encode(state, rules)[0]  # white to move: white's stones are now "own"
    np.testing.assert_array_equal(planes[0], corner)
    np.testing.assert_array_equal(planes[1], corner)
    np.testing.assert_array_equal(planes[2], 0)
    assert planes[k, 1, 1] == 1 and planes[k, 2, 2] == 1 and planes[k + 1, 2, 2] == 0
    assert (planes[2 * k] == 0).all()
    assert (planes[-1] == 7.5 / 15).all()


def test_ko_plane_marks_the_simple_ko_point():
    for ko in KoRule:
        rules = Rules(ko=ko)
        state = from_ascii(
            """
            . . . . .
            . X O . .
            X O . O .
            . X O . .
            . . . . .
            """,
            rules,
        )
        assert B.play(state, [2 * 5 + 2], rules)[0]  # black takes the ko at C3
        plane = F.encode(state, rules)[0, 2 * 8 + 4]
        expected = np.zeros((5, 5))
        expected[2, 1] = 1  # white may not retake at B3
        np.testing.assert_array_equal(plane, expected)


def test_encode_of_a_batch_equals_each_row_alone():
    rules = Rules(ko=KoRule.SITUATIONAL, komi=-3.0)
    state = B.state_for(rules, 16, 9)
    rng = np.random.default_rng(11)
    for t in range(60):
        mask = B.legal_mask(state, rules)
        # Rows stop at different times, so the batch mixes move counts and sides to move.
        actions = [int(rng.choice(np.nonzero(m)[0])) if t < 20 + b else -1 for b, m in enumerate(mask)]
        B.play(state, actions, rules)
    together = F.encode(state, rules)
    for b in range(state.batch_size):
        np.testing.assert_array_equal(together[b], F.encode(B.take_rows(state, [b]), rules)[0])
    assert len(set(state.to_play.tolist())) == 2


def test_pack_unpack_round_trip_is_exact():
    rules = Rules(komi=6.5)
    rng = np.random.default_rng(4)
    for n, k in [(5, 1), (9, 8), (19, 2)]:
        state = B.state_for(rules, 6, n)
        for t in range(3 * n):  # rows stop at different move counts: both sides to move appear
            mask = B.legal_mask(state, rules)
            B.play(state, [int(rng.choice(np.nonzero(m)[0])) if t < 2 * n + b else -1 for b, m in enumerate(mask)], rules)
        assert len(set(state.to_play.tolist())) == 2
        planes = F.encode(state, rules, history=k)
        planes[3, -1] = -1.25  # any komi value survives, negative included
        bits, scalars = F.pack_planes(planes)
        assert bits.dtype == np.uint8 and bits.shape == (6, ((F.num_planes(k) - 1) * n * n + 7) // 8)
        assert scalars.dtype == np.float32 and scalars.shape == (6, F.NUM_SCALARS)
        back = F.unpack_planes(bits, scalars, n, k)
        assert back.dtype == np.float32
        np.testing.assert_array_equal(back, planes)


def test_plane_count_helpers_and_bad_input():
    for k in (1, 2, 8):
        assert F.history_from_planes(F.num_planes(k)) == k
    for bad in (11, 13, 0):
        with pytest.raises(ValueError, match="not a valid feature layout"):
            F.history_from_planes(bad)
    state = B.new_state(1, 5, history=4)
    for k in (0, 5):
        with pytest.raises(ValueError, match="history"):
            F.encode(state, Rules(), history=k)
    with pytest.raises(ValueError, match="must be"):
        F.pack_planes(np.zeros((2, 12, 5, 4), np.float32))
    bits, scalars = F.pack_planes(np.zeros((2, 12, 5, 5), np.float32))
    with pytest.raises(ValueError, match="do not fit"):
        F.unpack_planes(bits, scalars, 6, 1)
    with pytest.raises(ValueError, match="do not fit"):
        F.unpack_planes(bits, scalars[:1], 5, 1)


def test_version_2_rules_planes_and_version_1_layout_unchanged():
    """Version 2 adds the scoring and tax planes before komi; version 1 is the old 2k+10 layout
    (komi at 2k+9), the same planes as version 2 without the three rules planes."""
    state = B.state_for(preset("japanese"), 1, 5, history=2)
    B.play(state, [7], preset("japanese"))  # white to move: komi +6.5/15
    k = 2
    for name, expected in {"japanese": (1, 1, 0), "chinese": (0, 0, 0), "stone-scoring": (0, 1, 1),
                           "ancient-territory": (1, 1, 1)}.items():
        rules = preset(name).with_komi(6.5)
        v2 = F.encode(state, rules, history=k)[0]
        assert F.num_planes(k) == 2 * k + 13 == v2.shape[0] and F.feature_layout(v2.shape[0]) == (2, k)
        for plane, value in zip((2 * k + 9, 2 * k + 10, 2 * k + 11), expected):
            assert (v2[plane] == value).all(), (name, plane)
        assert (v2[-1] == 6.5 / F.KOMI_SCALE).all()
        v1 = F.encode(state, rules, history=k, version=1)[0]
        assert v1.shape[0] == 2 * k + 10 and F.feature_layout(v1.shape[0]) == (1, k)
        np.testing.assert_array_equal(v1[: 2 * k + 9], v2[: 2 * k + 9])
        np.testing.assert_array_equal(v1[2 * k + 9], v2[-1])  # komi, last in both
        for version, planes in ((1, v1), (2, v2)):  # bit-packing: the komi scalar plane stays last
            bits, scalars = F.pack_planes(planes[None])
            assert scalars[0, 0] == np.float32(6.5 / F.KOMI_SCALE)
            np.testing.assert_array_equal(F.unpack_planes(bits, scalars, 5, k, version)[0], planes)


def test_version_1_networks_refuse_territory_rules_unless_substituting():
    assert F.check_rules_supported(preset("chinese"), 1, substitute=False) is None
    assert F.check_rules_supported(preset("japanese"), 2, substitute=False) is None
    for name in ("japanese", "korean", "stone-scoring"):
        with pytest.raises(F.RulesNotSupported, match="feature version 1.*area scoring.*rules-substitute"):
            F.check_rules_supported(preset(name), 1, substitute=False)
        assert "trained under area scoring" in F.check_rules_supported(preset(name), 1, substitute=True)
    with pytest.raises(ValueError, match="feature version 3"):
        F.num_planes(2, 3)


# ---- white's handicap bonus in the komi plane --------------------------------------------------

# White's bonus for 2 and 3 handicap stones: N (chinese), N-1 (aga), none (japanese).
HANDICAP_BONUS = {"chinese": {2: 2, 3: 3}, "aga": {2: 1, 3: 2}, "japanese": {2: 0, 3: 0}}


def _komi_planes(state: B.BoardState, rules: Rules) -> dict[int, np.ndarray]:
    """The komi plane of each feature version (last in both)."""
    return {version: F.encode(state, rules, history=2, version=version)[0, -1] for version in (1, 2)}


@pytest.mark.parametrize("stones", [2, 3])
@pytest.mark.parametrize("name", sorted(HANDICAP_BONUS))
def test_komi_plane_carries_whites_handicap_bonus_as_the_count_applies_it(name, stones):
    """KataGo's self komi: komi + white's handicap bonus, from the side to move's view, in both
    versions; plane * KOMI_SCALE is the count's komi + bonus term from that side's view."""
    n = 9
    rules = preset(name).with_komi(5.5)
    setup = [(B.BLACK, a) for a in fixed_handicap_actions(n, stones)]
    game = BoardHistory(n, rules, history=2, setup=setup, first_to_play=B.WHITE)
    white_gets = 5.5 + HANDICAP_BONUS[name][stones]
    assert game.handicap() == stones and float(game.state.komi[0]) == white_gets
    for state, sign in ((game.snapshot(), 1.0), (game.position_for(B.BLACK), -1.0)):  # white, then black to move
        count = scoring.count(state.board[0], n, rules, captured=tuple(state.captured[0]), handicap=game.handicap())
        assert count.komi + count.bonus == white_gets
        for version, plane in _komi_planes(state, rules).items():
            assert (plane == np.float32(sign * white_gets / F.KOMI_SCALE)).all(), (version, sign)
            assert plane[0, 0] * F.KOMI_SCALE == pytest.approx(sign * (count.komi + count.bonus), abs=1e-5)
    # The bonus stays with the moves played, an undo, and follows the rules and komi.
    game.play(B.WHITE, coords.gtp_to_action("E5", n))
    assert (_komi_planes(game.state, rules)[2] == np.float32(-white_gets / F.KOMI_SCALE)).all()
    game.undo()
    assert float(game.state.komi[0]) == white_gets
    game.set_rules(preset("tromp-taylor").with_komi(5.5))  # no bonus
    assert (_komi_planes(game.state, game.rules)[1] == np.float32(5.5 / F.KOMI_SCALE)).all()
    game.set_rules(preset("chinese").with_komi(5.5))
    game.set_komi(0.5)
    assert float(game.state.komi[0]) == 0.5 + stones


@pytest.mark.parametrize("name", ["chinese", "aga", "japanese", "tromp-taylor"])
def test_positions_without_a_handicap_bonus_encode_as_before(name):
    """No handicap stones (none, a lone black stone, a setup with white stones), or rules without a
    bonus: the planes are bit for bit those of the plain state (``state_for``: the rules' komi)."""
    n = 9
    rules = preset(name)
    a, b = coords.gtp_to_action("C3", n), coords.gtp_to_action("G7", n)
    setups = [[], [(B.BLACK, a)], [(B.BLACK, a), (B.WHITE, b)]]
    if HANDICAP_BONUS.get(name, {2: 0})[2] == 0:
        setups.append([(B.BLACK, a), (B.BLACK, b)])
    for setup in setups:
        game = BoardHistory(n, rules, history=2, setup=setup, first_to_play=B.WHITE)
        plain = B.state_for(rules, 1, n, history=2)
        if setup:
            B.setup_stones(plain, 0, [x for _, x in setup], [c for c, _ in setup], B.WHITE, rules)
        else:
            plain.to_play[0] = B.WHITE
        assert game.state.komi[0] == plain.komi[0] == np.float32(rules.komi)
        for version in (1, 2):
            got = F.encode(game.state, rules, history=2, version=version)
            assert got.tobytes() == F.encode(plain, rules, history=2, version=version).tobytes(), (setup, version)
            assert (got[0, -1] == np.float32(rules.komi / F.KOMI_SCALE)).all()
