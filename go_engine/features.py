"""Network input features, defined once and versioned (the version goes into every checkpoint).

Planes for a position with history length ``k`` (all from the point of view of the side to move),
each ``[n, n]``, row 0 at the top. Version 2 (``FEATURE_VERSION``, ``C = 2k + 13``):

====================  ==========================================================================
``0 .. k-1``          own stones now, 1 move ago, ..., k-1 moves ago (before the game start: the
                      initial position, handicap stones included)
``k .. 2k-1``         opponent stones, same order
``2k``                1 everywhere when black is to move
``2k+1 .. 2k+3``      stones (either colour) whose chain has exactly 1, exactly 2, 3 or more liberties
``2k+4``              empty points forbidden only by the ko rule (simple ko or superko)
``2k+5``              1 on the board (lets the convolution padding tell edges apart)
``2k+6``              1 everywhere when multi-stone suicide is allowed
``2k+7``              1 everywhere under a superko rule (positional or situational)
``2k+8``              1 everywhere under situational superko
``2k+9``              1 everywhere under territory scoring (``rules.ScoringRule.TERRITORY``)
``2k+10``             1 everywhere under a tax (seki or all: eyes of groups in seki count for nobody)
``2k+11``             1 everywhere under tax ``all`` (2 points charged per independently alive group)
``2k+12``             white's komi and handicap bonus from the side to move's view / 15 (the only
                      non-binary plane; last)
====================  ==========================================================================

Version 1 (``C = 2k + 10``, the networks trained before rules became inputs) is the same without
planes ``2k+9 .. 2k+11``: its komi plane is ``2k+9``. Such a network knows area scoring only; the
products refuse to play territory rules with it unless told to substitute. The two versions' plane
counts differ in parity (even for 1, odd for 2), so a ``[C, n, n]`` buffer says which layout it
holds (``feature_layout``) and the compiled encoder writes whichever it is given.

The komi plane is KataGo's self komi: the komi plus white's handicap bonus (0, N or N-1 points
for N handicap stones, as the rules' count applies it: ``rules.white_komi``), which is what
``BoardState.komi`` holds (``history.BoardHistory`` sets it from the game's setup stones, so GTP,
analysis and the arena all encode it; ``sgf.replay`` too). The bonus moves the final count exactly
as komi does, so one plane carries both, in either version. A game without handicap stones (all
of self-play), or rules without a bonus, encodes exactly as before.

The legal-move mask is ``board.legal_mask``. Records store planes packed (``pack_planes``): the
binary planes bit-packed, the komi plane as one scalar per position.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from go_engine import board as B
from go_engine import coords
from go_engine.compiled import parallel_twins, parallel_worth_it, row_kernel
from go_engine.rules import Rules

FEATURE_VERSION = 2
FEATURE_VERSIONS = (1, 2)  # the layouts this code encodes (1: area-only networks)
KOMI_SCALE = 15.0
NUM_SCALARS = 1  # non-binary planes carried by pack_planes as scalars (the komi plane)
_EXTRA = {1: 10, 2: 13}  # C - 2k per version


def num_planes(history: int, version: int = FEATURE_VERSION) -> int:
    """``C`` for a history length ``k`` under feature ``version``."""
    if version not in _EXTRA:
        raise ValueError(f"feature version {version!r} is not one of {FEATURE_VERSIONS}")
    return 2 * history + _EXTRA[version]


def feature_layout(num_planes_: int) -> tuple[int, int]:
    """``(version, k)`` of a ``C``-plane layout (odd C: version 2, even C: version 1)."""
    version = 2 if num_planes_ % 2 else 1
    k = (num_planes_ - _EXTRA[version]) // 2
    if k < 1:
        raise ValueError(f"{num_planes_} planes is not a valid feature layout")
    return version, k


def history_from_planes(num_planes_: int) -> int:
    return feature_layout(num_planes_)[1]


@njit(cache=True, inline="always")
def _layout(C: int) -> tuple[int, int]:
    """``feature_layout`` inside the kernels: (version, k)."""
    if C % 2 == 1:
        return 2, (C - 13) // 2
    return 1, (C - 10) // 2


@row_kernel
def encode_row(s: B.BoardState, b: int, ko_rule: int, suicide_rule: int, scoring_rule: int, tax_rule: int, out: np.ndarray) -> None:
    """Fill ``out`` ([C, n, n] float32, either version's C) with the features of game ``b``."""
    encode_legal_row(s, b, ko_rule, suicide_rule, scoring_rule, tax_rule, out, None)


@row_kernel
def encode_legal_row(s: B.BoardState, b: int, ko_rule: int, suicide_rule: int, scoring_rule: int, tax_rule: int, out: np.ndarray, legal) -> int:
    """``encode_row``, and where ``legal`` ([A] bool) is given also ``board.legal_row`` into it
    from the same legality scan (the ko plane needs one); returns the legal count (0 without ``legal``)."""
    return encode_legal_row_newest(s, b, ko_rule, suicide_rule, scoring_rule, tax_rule, out, legal, _layout(out.shape[0])[1], False)


@row_kernel
def encode_legal_row_newest(s: B.BoardState, b: int, ko_rule: int, suicide_rule: int, scoring_rule: int, tax_rule: int, out: np.ndarray, legal, history_steps: int, constants_kept: bool) -> int:
    """``encode_legal_row`` that writes only the ``history_steps`` newest steps of the stone
    history (planes ``i`` and ``k + i`` for ``i < history_steps``) and leaves the older ones as
    they are, and with ``constants_kept`` leaves the planes that are uniform over the board (side
    to move, rules, komi) as they are too: for a caller whose ``out`` already holds them (the
    search, whose leaves at one depth below one root share those steps, the side to move, the
    rules and the komi). Every other element of ``out`` is written exactly once."""
    W = coords.stride_of(s.board.shape[1])
    n = W - 2
    version, k = _layout(out.shape[0])
    _history_planes(s, b, out, k, min(k, history_steps), n, W)
    _liberty_planes(s, b, out, k, n, W)
    if not constants_kept:
        _uniform_planes(s, b, out, k, version, ko_rule, suicide_rule, scoring_rule, tax_rule, n)
    return _legal_and_ko(s, b, ko_rule, suicide_rule, legal, out[2 * k + 4], n)


@njit(cache=True, inline="always")
def _history_planes(s: B.BoardState, b: int, out: np.ndarray, k: int, steps: int, n: int, W: int) -> None:
    """Planes ``i`` (own stones) and ``k + i`` (the opponent's) for the ``steps`` newest history
    steps; before the game's start the oldest stored position repeats."""
    K = s.history.shape[1]
    me = s.to_play[b]
    opp = 3 - me
    now = s.num_moves[b]
    for i in range(steps):
        slot = (now - i) % K if i < K else now % K
        for r in range(n):
            for c in range(n):
                v = s.history[b, slot, (r + 1) * W + c + 1]
                out[i, r, c] = 1.0 if v == me else 0.0
                out[k + i, r, c] = 1.0 if v == opp else 0.0


@njit(cache=True, inline="always")
def _liberty_planes(s: B.BoardState, b: int, out: np.ndarray, k: int, n: int, W: int) -> None:
    """Planes ``2k+1 .. 2k+3`` (stones whose chain has 1, 2, 3+ liberties), and the ko plane
    ``2k+4`` zeroed for the legality scan to set."""
    for r in range(n):
        for c in range(n):
            p = (r + 1) * W + c + 1
            v = s.board[b, p]
            stone = v == B.BLACK or v == B.WHITE
            libs = s.chain_libs[b, s.chain_head[b, p]] if stone else 0
            out[2 * k + 1, r, c] = 1.0 if stone and libs == 1 else 0.0
            out[2 * k + 2, r, c] = 1.0 if stone and libs == 2 else 0.0
            out[2 * k + 3, r, c] = 1.0 if stone and libs != 1 and libs != 2 else 0.0
            out[2 * k + 4, r, c] = 0.0


@njit(cache=True, inline="always")
def _uniform_planes(s: B.BoardState, b: int, out: np.ndarray, k: int, version: int, ko_rule: int, suicide_rule: int,
                    scoring_rule: int, tax_rule: int, n: int) -> None:
    """The planes that hold one value everywhere: black to move, on-board, the rules (version 2
    adds scoring and tax), and the komi plane (last)."""
    komi = s.komi[b] / KOMI_SCALE  # white's komi + handicap bonus; negated for black
    if s.to_play[b] == B.BLACK:
        komi = -komi
    _fill(out, 2 * k, 1.0 if s.to_play[b] == B.BLACK else 0.0, n)
    _fill(out, 2 * k + 5, 1.0, n)
    _fill(out, 2 * k + 6, 1.0 if suicide_rule == B.SUICIDE_ALLOWED else 0.0, n)
    _fill(out, 2 * k + 7, 1.0 if ko_rule != B.KO_SIMPLE else 0.0, n)
    _fill(out, 2 * k + 8, 1.0 if ko_rule == B.KO_SITUATIONAL else 0.0, n)
    if version == 2:
        _fill(out, 2 * k + 9, 1.0 if scoring_rule == 1 else 0.0, n)
        _fill(out, 2 * k + 10, 1.0 if tax_rule != 0 else 0.0, n)
        _fill(out, 2 * k + 11, 1.0 if tax_rule == 2 else 0.0, n)
    _fill(out, out.shape[0] - 1, komi, n)


@njit(cache=True, inline="always")
def _fill(out: np.ndarray, plane: int, value: float, n: int) -> None:
    for r in range(n):
        for c in range(n):
            out[plane, r, c] = value


@njit(cache=True, inline="always")
def _legal_and_ko(s: B.BoardState, b: int, ko_rule: int, suicide_rule: int, legal, ko_plane: np.ndarray, n: int) -> int:
    """One legality scan sets the ko plane and, where ``legal`` is given, the legal mask (pass
    always legal; nothing once the game is over); returns the legal count (0 without ``legal``)."""
    count = 0
    if s.done[b]:
        if legal is not None:
            for a in range(n * n + 1):
                legal[a] = False
    else:
        B.scan_statuses_row(s, b, 0, n * n, ko_rule, suicide_rule, legal, ko_plane)
        if legal is not None:
            legal[n * n] = True
            for a in range(n * n + 1):
                count += legal[a]
    return count


def _encode_all(s: B.BoardState, ko_rule: int, suicide_rule: int, scoring_rule: int, tax_rule: int, out: np.ndarray) -> None:
    for b in prange(s.board.shape[0]):
        encode_legal_row(s, b, ko_rule, suicide_rule, scoring_rule, tax_rule, out[b], None)


_encode_all, _encode_all_serial = parallel_twins(_encode_all)


def encode(state: B.BoardState, rules: Rules, history: int | None = None, version: int = FEATURE_VERSION) -> np.ndarray:
    """``[B, C, n, n] float32`` features of layout ``version``; ``history`` defaults to the state's
    history length. Version 1 has no rules planes beyond ko and suicide: the caller decides whether
    its network may play ``rules`` (``check_rules_supported``)."""
    k = state.history.shape[1] if history is None else history
    if not 1 <= k <= state.history.shape[1]:
        raise ValueError(f"history {k} must be in [1, {state.history.shape[1]}] (the state's history)")
    n = state.size
    out = np.zeros((state.batch_size, num_planes(k, version), n, n), np.float32)
    (_encode_all if parallel_worth_it(state.batch_size, 32) else _encode_all_serial)(
        state, int(rules.ko), int(rules.suicide), int(rules.scoring), int(rules.tax), out)
    return out


class RulesNotSupported(ValueError):
    """Rules a network's feature version cannot represent (territory scoring or a tax for version 1)."""


def rules_supported(rules: Rules, version: int) -> bool:
    """Whether a network of feature ``version`` was able to learn ``rules``: version 1 has no
    scoring or tax planes and was trained under area scoring without tax."""
    return version >= 2 or (not rules.is_territory and int(rules.tax) == 0)


def check_rules_supported(rules: Rules, version: int, substitute: bool, where: str = "this network") -> str | None:
    """``None`` when ``version`` represents ``rules``; else, with ``substitute``, the warning to give
    (it plays them with area-trained judgement), and without it ``RulesNotSupported`` naming the problem."""
    if rules_supported(rules, version):
        return None
    what = f"{rules.name() or 'these'} rules (scoring {rules.to_dict()['scoring']}, tax {rules.to_dict()['tax']})"
    if not substitute:
        raise RulesNotSupported(
            f"{where} has feature version {version}, trained under area scoring without tax; it cannot play {what}. "
            f"Use a network of feature version {FEATURE_VERSION} or later, or pass the rules-substitute option to play "
            "them anyway with the area-trained network")
    return (f"{where} has feature version {version} and was trained under area scoring: it plays {what} "
            "with area-trained judgement (the rules-substitute option)")


def pack_planes(planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[T, C, n, n]`` float planes (either version) -> (``[T, ceil((C-1) n^2 / 8)] uint8`` bits,
    ``[T, 1] float32`` komi scalars). Exact inverse: ``unpack_planes``."""
    if planes.ndim != 4 or planes.shape[-1] != planes.shape[-2]:
        raise ValueError(f"planes must be [T, C, n, n], got shape {planes.shape}")
    T = planes.shape[0]
    binary = planes[:, :-1].reshape(T, -1) > 0.5
    bits = np.packbits(binary, axis=1)
    scalars = np.ascontiguousarray(planes[:, -1, 0, 0].reshape(T, 1).astype(np.float32))
    return bits, scalars


def unpack_planes(bits: np.ndarray, scalars: np.ndarray, n: int, history: int, version: int = FEATURE_VERSION) -> np.ndarray:
    C = num_planes(history, version)
    T = bits.shape[0]
    count = (C - 1) * n * n
    if bits.shape[1] != (count + 7) // 8 or scalars.shape != (T, NUM_SCALARS):
        raise ValueError(
            f"packed planes of shape {bits.shape}/{scalars.shape} do not fit n={n}, history={history}, feature version {version}"
        )
    out = np.empty((T, C, n, n), np.float32)
    out[:, :-1] = np.unpackbits(bits, axis=1, count=count).reshape(T, C - 1, n, n)
    out[:, -1] = scalars[:, :1, None]
    return out
