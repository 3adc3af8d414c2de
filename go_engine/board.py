"""Batched Go positions and the compiled rules kernels: play, legality, area scoring (``scoring.count_row``), random games.

State layout (KataGo's board, batched as pgx does): every array has a leading batch axis ``B`` and
the board is flat with a one-point wall border (see ``coords``: ``P = (n+2)**2`` points). Chains
are circular linked lists (``chain_next``) whose stones all point at one head (``chain_head``);
the head stores the chain's liberty count, size and Zobrist xor. A single game is a batch of one.

Kernels named ``*_row`` act on one row and are what other compiled code (the search) calls;
``play_row_assume_legal`` has the precondition in its name. Rule choices arrive as integers
(``rules.KoRule`` / ``rules.SuicideRule`` values), never as objects.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from go_engine import coords
from go_engine import scoring
from go_engine.compiled import parallel_twins, parallel_worth_it, row_kernel
from go_engine.rules import KoRule, Rules, SuicideRule

EMPTY = 0
BLACK = 1
WHITE = 2
WALL = 3
NO_POINT = -1  # sentinel for "no ko point" / "pass"
NO_MOVE = -1  # last_move before the first move
NO_CHAIN = -1  # an unused slot of ``_adjacent_chains``' heads

# Move status codes returned by ``move_status_row``.
LEGAL = 0
OCCUPIED = 1
SUICIDE = 2
KO_FORBIDDEN = 3  # forbidden only by the ko rule (simple ko or superko)
GAME_OVER = 4

# Rule choices as plain integers (frozen into the compiled kernels).
KO_SIMPLE = int(KoRule.SIMPLE)
KO_POSITIONAL = int(KoRule.POSITIONAL)
KO_SITUATIONAL = int(KoRule.SITUATIONAL)
SUICIDE_FORBIDDEN = int(SuicideRule.FORBIDDEN)
SUICIDE_ALLOWED = int(SuicideRule.ALLOWED)

MAX_POINTS = coords.num_points(coords.MAX_SIZE)


def _zobrist_table() -> np.ndarray:
    rng = np.random.default_rng(0x60_2019)
    table = rng.integers(1, 2**63 - 1, size=(4, MAX_POINTS + 1), dtype=np.int64).astype(np.uint64)
    table[EMPTY] = 0
    table[WALL] = 0
    return table


# Row 0 (EMPTY) and 3 (WALL) are zero; the last column of row BLACK is the side-to-move key and
# the last column of row WHITE the base key of an empty board (so no position hashes to 0, the
# empty sentinel of the superko set).
ZOBRIST = _zobrist_table()  # [4, MAX_POINTS + 1] uint64, constant
SIDE_KEY = ZOBRIST[BLACK, MAX_POINTS]
BASE_KEY = ZOBRIST[WHITE, MAX_POINTS]


class BoardState(NamedTuple):
    """A batch of positions. Scalars per game are ``[B]`` arrays so the tuple stays immutable."""

    board: np.ndarray  # [B, P] int8      EMPTY/BLACK/WHITE/WALL
    chain_head: np.ndarray  # [B, P] int16  head point of the stone's chain (stones only)
    chain_next: np.ndarray  # [B, P] int16  next stone of the circular chain list
    chain_libs: np.ndarray  # [B, P] int16  liberties (valid at heads)
    chain_size: np.ndarray  # [B, P] int16  stones (valid at heads)
    chain_hash: np.ndarray  # [B, P] uint64 xor of the chain stones' Zobrist keys (at heads)
    to_play: np.ndarray  # [B] int8        BLACK or WHITE
    ko_point: np.ndarray  # [B] int16      point the side to move may not take back (simple ko), or NO_POINT
    passes: np.ndarray  # [B] int8         consecutive passes
    num_moves: np.ndarray  # [B] int32     moves played, passes included
    pos_hash: np.ndarray  # [B] uint64     Zobrist hash of the stones (plus BASE_KEY)
    seen: np.ndarray  # [B, S] uint64      open-addressed set of superko keys; 0 = empty slot
    history: np.ndarray  # [B, K, P] int8  last K boards, ring indexed by num_moves % K (features)
    komi: np.ndarray  # [B] float32      white's komi, plus the handicap bonus in a handicap game (``rules.white_komi``)
    done: np.ndarray  # [B] bool           two passes, resignation or the move cap
    resigned: np.ndarray  # [B] int8       colour that resigned, or EMPTY
    last_move: np.ndarray  # [B] int16     last action played, or -1 at the start
    # [B, P] bool: a stone has stood on the point since the superko set was started. Every position
    # in the set is made of such points, so a move elsewhere (that is not a suicide) cannot repeat
    # one and needs no probe of the set.
    ever_occupied: np.ndarray
    captured: np.ndarray  # [B, 2] int32   stones of colour c taken off the board (captures and suicides) at [b, c - 1]

    @property
    def batch_size(self) -> int:
        return self.board.shape[0]

    @property
    def size(self) -> int:
        return int(round(np.sqrt(self.board.shape[1]))) - 2


def default_capacity(n: int) -> int:
    """Moves a game may last when the rules set no cap (4 n^2: far beyond any real game)."""
    return 4 * n * n


def move_cap(rules: Rules, n: int) -> int:
    return rules.max_moves if rules.max_moves is not None else default_capacity(n)


def capacity(state: BoardState) -> int:
    """Most moves a game in ``state`` may last (what its superko set was sized for)."""
    n = state.size
    return state.seen.shape[1] // 2 - n * n - 2


def _check_capacity(state: BoardState, cap: int) -> None:
    if cap > capacity(state):
        raise ValueError(
            f"games may last {cap} moves but the state holds {capacity(state)}: "
            "make it with state_for(rules, ...) or new_state(..., max_moves=cap)"
        )


def new_state(batch: int, n: int, komi: float | np.ndarray = 7.5, history: int = 8, max_moves: int | None = None) -> BoardState:
    """Empty boards, black to move. ``max_moves`` sizes the superko set (defaults to ``default_capacity``)."""
    coords.check_size(n)
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    if history < 1:
        raise ValueError(f"history must be >= 1, got {history}")
    cap = max_moves if max_moves is not None else default_capacity(n)
    slots = 1
    while slots < 2 * (cap + n * n + 2):
        slots *= 2
    P = coords.num_points(n)
    state = BoardState(
        board=np.zeros((batch, P), np.int8),
        chain_head=np.zeros((batch, P), np.int16),
        chain_next=np.zeros((batch, P), np.int16),
        chain_libs=np.zeros((batch, P), np.int16),
        chain_size=np.zeros((batch, P), np.int16),
        chain_hash=np.zeros((batch, P), np.uint64),
        to_play=np.zeros(batch, np.int8),
        ko_point=np.zeros(batch, np.int16),
        passes=np.zeros(batch, np.int8),
        num_moves=np.zeros(batch, np.int32),
        pos_hash=np.zeros(batch, np.uint64),
        seen=np.zeros((batch, slots), np.uint64),
        history=np.zeros((batch, history, P), np.int8),
        komi=np.zeros(batch, np.float32),
        done=np.zeros(batch, np.bool_),
        resigned=np.zeros(batch, np.int8),
        last_move=np.zeros(batch, np.int16),
        ever_occupied=np.zeros((batch, P), np.bool_),
        captured=np.zeros((batch, 2), np.int32),
    )
    state.komi[:] = komi
    reset(state)
    return state


def state_for(rules: Rules, batch: int, n: int, history: int = 8) -> BoardState:
    return new_state(batch, n, komi=rules.komi, history=history, max_moves=move_cap(rules, n))


@row_kernel
def reset_row(s: BoardState, b: int) -> None:
    """Empty board, black to move (komi kept)."""
    P = s.board.shape[1]
    W = coords.stride_of(P)
    for p in range(P):
        r = p // W
        c = p % W
        s.board[b, p] = WALL if (r == 0 or c == 0 or r == W - 1 or c == W - 1) else EMPTY
        s.chain_head[b, p] = 0
        s.chain_next[b, p] = 0
        s.chain_libs[b, p] = 0
        s.chain_size[b, p] = 0
        s.chain_hash[b, p] = 0
        s.ever_occupied[b, p] = False
    s.to_play[b] = BLACK
    s.ko_point[b] = NO_POINT
    s.passes[b] = 0
    s.num_moves[b] = 0
    s.pos_hash[b] = BASE_KEY
    s.seen[b, :] = 0
    s.done[b] = False
    s.resigned[b] = EMPTY
    s.last_move[b] = NO_MOVE
    s.captured[b, 0] = 0
    s.captured[b, 1] = 0
    for k in range(s.history.shape[1]):
        for p in range(P):
            s.history[b, k, p] = s.board[b, p]
    _seen_insert(s, b, s.pos_hash[b])  # black to move: the same key under every ko rule


def _reset_all(s: BoardState) -> None:
    for b in prange(s.board.shape[0]):
        reset_row(s, b)


_reset_all, _reset_all_serial = parallel_twins(_reset_all)


def reset(state: BoardState) -> None:
    (_reset_all if parallel_worth_it(state.batch_size, 64) else _reset_all_serial)(state)


@row_kernel
def copy_row(src: BoardState, bs: int, dst: BoardState, bd: int) -> None:
    """Copy game ``bs`` of ``src`` into row ``bd`` of ``dst`` (same board size and capacity)."""
    copy_position_row(src, bs, dst, bd)
    for i in range(src.seen.shape[1]):
        dst.seen[bd, i] = src.seen[bs, i]


@row_kernel
def copy_position_row(src: BoardState, bs: int, dst: BoardState, bd: int) -> None:
    """``copy_row`` without the superko set (``dst``'s is left as it is): for a scratch state that
    shares its superko set with ``src`` and undoes its insertions (``play_row_assume_legal``)."""
    # Element loops, not slice assignments: those build views and check for overlap on every copy,
    # and the search copies a root per simulation.
    P = src.board.shape[1]
    for p in range(P):
        dst.board[bd, p] = src.board[bs, p]
        dst.chain_head[bd, p] = src.chain_head[bs, p]
        dst.chain_next[bd, p] = src.chain_next[bs, p]
        dst.chain_libs[bd, p] = src.chain_libs[bs, p]
        dst.chain_size[bd, p] = src.chain_size[bs, p]
        dst.chain_hash[bd, p] = src.chain_hash[bs, p]
        dst.ever_occupied[bd, p] = src.ever_occupied[bs, p]
    dst.to_play[bd] = src.to_play[bs]
    dst.ko_point[bd] = src.ko_point[bs]
    dst.passes[bd] = src.passes[bs]
    dst.num_moves[bd] = src.num_moves[bs]
    dst.pos_hash[bd] = src.pos_hash[bs]
    for k in range(src.history.shape[1]):
        for p in range(P):
            dst.history[bd, k, p] = src.history[bs, k, p]
    dst.komi[bd] = src.komi[bs]
    dst.done[bd] = src.done[bs]
    dst.resigned[bd] = src.resigned[bs]
    dst.last_move[bd] = src.last_move[bs]
    dst.captured[bd, 0] = src.captured[bs, 0]
    dst.captured[bd, 1] = src.captured[bs, 1]


def take_rows(state: BoardState, rows) -> BoardState:
    """A new state holding copies of the given rows (numpy fancy indexing)."""
    rows = np.asarray(rows, dtype=np.int64)
    return BoardState(*(np.ascontiguousarray(field[rows]) for field in state))


# ---- hashing and the superko set --------------------------------------------------------------


@njit(cache=True, inline="always")
def _rule_key(pos_hash: np.uint64, next_to_play: int, ko_rule: int) -> np.uint64:
    # Key of a position in the superko set: the stones, plus the side to move for situational superko.
    if ko_rule == KO_SITUATIONAL and next_to_play == WHITE:
        return pos_hash ^ SIDE_KEY
    return pos_hash


@njit(cache=True, inline="always")
def _seen_probe(s: BoardState, b: int, key: np.uint64) -> int:
    """The slot of game ``b``'s superko set holding ``key``, else the empty slot where it would go;
    -1 if neither (a full set: a state too small for its game, which must not hang). Linear
    probing: clearing the slots of the latest insertions, newest first (``unsee_row``), restores
    the set exactly."""
    mask = s.seen.shape[1] - 1
    i = np.int64(key & np.uint64(mask))
    for _ in range(mask + 1):
        k = s.seen[b, i]
        if k == 0 or k == key:
            return i
        i = (i + 1) & mask
    return -1


@njit(cache=True, inline="always")
def _seen_insert(s: BoardState, b: int, key: np.uint64) -> int:
    """Add ``key`` to game ``b``'s superko set; returns the slot it took, or -1 if it was there already."""
    i = _seen_probe(s, b, key)
    if i < 0 or s.seen[b, i] != 0:
        return -1
    s.seen[b, i] = key
    return i


@njit(cache=True, inline="always")
def _seen_contains(s: BoardState, b: int, key: np.uint64) -> bool:
    i = _seen_probe(s, b, key)
    return i >= 0 and s.seen[b, i] == key


@row_kernel
def unsee_row(s: BoardState, b: int, slots: np.ndarray, count: int) -> None:
    """Undo the superko-set insertions ``slots[:count]`` (as returned by ``play_row_assume_legal``,
    oldest first) of game ``b``, newest first; -1 entries inserted nothing."""
    for j in range(count - 1, -1, -1):
        if slots[j] >= 0:
            s.seen[b, slots[j]] = 0


@row_kernel
def _rebuild_seen_row(s: BoardState, b: int, ko_rule: int) -> None:
    # Only the current position is known after a setup (handicap placement, a loaded SGF).
    s.seen[b, :] = 0
    _seen_insert(s, b, _rule_key(s.pos_hash[b], s.to_play[b], ko_rule))


# ---- neighbours and chains -----------------------------------------------------------------------


@njit(cache=True, inline="always")
def _has_empty_neighbour(s: BoardState, b: int, p: int, W: int) -> bool:
    return s.board[b, p - W] == EMPTY or s.board[b, p - 1] == EMPTY or s.board[b, p + 1] == EMPTY or s.board[b, p + W] == EMPTY


@njit(cache=True, inline="always")
def _adjacent_chains(s: BoardState, b: int, p: int, W: int):
    """``(heads, empty)``: the heads of the distinct chains with a stone next to point ``p`` (a
    4-tuple in neighbour order, NO_CHAIN after the last) and the number of empty neighbours. In
    scalars, so a move allocates nothing."""
    h0 = NO_CHAIN
    h1 = NO_CHAIN
    h2 = NO_CHAIN
    h3 = NO_CHAIN
    empty = 0
    for d in range(4):
        q = coords.neighbour(p, d, W)
        c = s.board[b, q]
        if c == EMPTY:
            empty += 1
        elif c != WALL:
            h = np.int64(s.chain_head[b, q])
            if h != h0 and h != h1 and h != h2:
                if h0 == NO_CHAIN:
                    h0 = h
                elif h1 == NO_CHAIN:
                    h1 = h
                elif h2 == NO_CHAIN:
                    h2 = h
                else:
                    h3 = h
    return (h0, h1, h2, h3), empty


# ---- legality ------------------------------------------------------------------------------------


@row_kernel
def move_status_row(s: BoardState, b: int, p: int, ko_rule: int, suicide_rule: int) -> int:
    """Why a move by the side to move at point ``p`` is (il)legal: LEGAL, OCCUPIED, SUICIDE,
    KO_FORBIDDEN or GAME_OVER. ``p == NO_POINT`` is a pass, legal until the game is over."""
    if s.done[b]:
        return GAME_OVER
    if p == NO_POINT:
        return LEGAL
    if s.board[b, p] != EMPTY:
        return OCCUPIED  # walls included: only on-board points map to actions
    a = coords.point_action(p, coords.stride_of(s.board.shape[1]) - 2)
    return scan_statuses_row(s, b, a, a + 1, ko_rule, suicide_rule, None, None)


@njit(cache=True, inline="always")
def _chain_status(s: BoardState, b: int, p: int, W: int, ko_rule: int, suicide_rule: int) -> int:
    """``scan_statuses_row``'s slow path for the empty point ``p``, from the chains next to it:
    LEGAL, SUICIDE or KO_FORBIDDEN."""
    me = s.to_play[b]
    heads, empty = _adjacent_chains(s, b, p, W)
    has_liberty = empty > 0
    own_neighbour = False
    captures = False
    new_hash = s.pos_hash[b] ^ ZOBRIST[me, p]
    for h in heads:
        if h == NO_CHAIN:
            break
        if s.board[b, h] == me:
            own_neighbour = True
            if s.chain_libs[b, h] > 1:
                has_liberty = True
        elif s.chain_libs[b, h] == 1:  # an opponent chain the move removes
            captures = True
            new_hash ^= s.chain_hash[b, h]
    self_capture = not has_liberty and not captures
    if self_capture:
        if suicide_rule != SUICIDE_ALLOWED or not own_neighbour:
            return SUICIDE  # single-stone suicide is never legal; multi-stone suicide only when allowed
        # The stone and every adjacent own chain are removed.
        new_hash = s.pos_hash[b]
        for h in heads:
            if h != NO_CHAIN and s.board[b, h] == me:
                new_hash ^= s.chain_hash[b, h]
    if ko_rule == KO_SIMPLE:
        return KO_FORBIDDEN if p == s.ko_point[b] else LEGAL
    if (self_capture or s.ever_occupied[b, p]) and _seen_contains(s, b, _rule_key(new_hash, 3 - me, ko_rule)):
        return KO_FORBIDDEN  # superko: the resulting position is in the seen set
    return LEGAL


@row_kernel
def scan_statuses_row(s: BoardState, b: int, a_begin: int, a_end: int, ko_rule: int, suicide_rule: int, legal, ko_plane) -> int:
    """``move_status_row`` of the board actions ``a_begin .. a_end-1`` of a game that is not over:
    where ``legal`` ([A] bool) is given, ``legal[a]`` = LEGAL; where ``ko_plane`` ([n, n] float32)
    is given, 1.0 on KO_FORBIDDEN points (left as they are elsewhere). Returns the last status.

    The rules of legality live here only, as one loop over the points (a ``row_kernel``, so a
    call for a single point costs a few nanoseconds). Most empty points are decided by the fast
    path: a neighbouring empty point rules out suicide, and a point no stone has stood on since
    the superko set started (``ever_occupied``) cannot recreate a position in it."""
    W = coords.stride_of(s.board.shape[1])
    n = W - 2
    status = LEGAL
    for a in range(a_begin, a_end):
        p = coords.action_point(a, n)
        status = LEGAL
        if s.board[b, p] != EMPTY:
            status = OCCUPIED
        elif _has_empty_neighbour(s, b, p, W) and (p != s.ko_point[b] if ko_rule == KO_SIMPLE else not s.ever_occupied[b, p]):
            # The common case, decided without the chains: a move next to an empty point is no
            # suicide, and one on a point where no stone stood cannot repeat a position.
            status = LEGAL
        else:
            status = _chain_status(s, b, p, W, ko_rule, suicide_rule)
        if legal is not None:
            legal[a] = status == LEGAL
        if ko_plane is not None and status == KO_FORBIDDEN:
            ko_plane[a // n, a % n] = 1.0
    return status


@row_kernel
def legal_row(s: BoardState, b: int, ko_rule: int, suicide_rule: int, out: np.ndarray) -> int:
    """Fill ``out`` ([A] bool, pass last) with the legal moves of game ``b``; return how many."""
    n = coords.stride_of(s.board.shape[1]) - 2
    if s.done[b]:
        out[:] = False
        return 0
    scan_statuses_row(s, b, 0, n * n, ko_rule, suicide_rule, out, None)
    out[n * n] = True
    count = 0
    for a in range(n * n + 1):
        count += out[a]
    return count


def _legal_all(s: BoardState, ko_rule: int, suicide_rule: int, out: np.ndarray) -> None:
    for b in prange(s.board.shape[0]):
        legal_row(s, b, ko_rule, suicide_rule, out[b])


_legal_all, _legal_all_serial = parallel_twins(_legal_all)


def legal_mask(state: BoardState, rules: Rules) -> np.ndarray:
    """``[B, A] bool`` legal moves (pass last); all false in finished games."""
    n = state.size
    out = np.zeros((state.batch_size, n * n + 1), np.bool_)
    (_legal_all if parallel_worth_it(state.batch_size, 64) else _legal_all_serial)(state, int(rules.ko), int(rules.suicide), out)
    return out


# ---- playing -----------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _is_liberty_of(s: BoardState, b: int, q: int, head: int, W: int) -> bool:
    for d in range(4):
        r = coords.neighbour(q, d, W)
        if s.board[b, r] != EMPTY and s.board[b, r] != WALL and s.chain_head[b, r] == head:
            return True
    return False


@row_kernel
def _merge_chains(s: BoardState, b: int, keep: int, other: int, W: int) -> int:
    """Merge chain ``other`` into chain ``keep`` (both heads); return the head of the result."""
    if s.chain_size[b, other] > s.chain_size[b, keep]:
        keep, other = other, keep
    new_libs = 0
    q = other
    while True:
        for d in range(4):
            r = coords.neighbour(q, d, W)
            if s.board[b, r] == EMPTY and not _is_liberty_of(s, b, r, keep, W):
                new_libs += 1
        s.chain_head[b, q] = keep
        q = s.chain_next[b, q]
        if q == other:
            break
    # Splice the two circular lists.
    keep_next = s.chain_next[b, keep]
    s.chain_next[b, keep] = s.chain_next[b, other]
    s.chain_next[b, other] = keep_next
    s.chain_libs[b, keep] += new_libs
    s.chain_size[b, keep] += s.chain_size[b, other]
    s.chain_hash[b, keep] ^= s.chain_hash[b, other]
    return keep


@row_kernel
def _remove_chain(s: BoardState, b: int, head: int, W: int) -> int:
    """Take a chain off the board, giving each distinct adjacent chain one liberty per freed point."""
    removed = 0
    q = head
    while True:
        s.board[b, q] = EMPTY
        removed += 1
        q = s.chain_next[b, q]
        if q == head:
            break
    q = head
    while True:
        heads, _ = _adjacent_chains(s, b, q, W)
        for h in heads:
            if h != NO_CHAIN:
                s.chain_libs[b, h] += 1
        q = s.chain_next[b, q]
        if q == head:
            break
    s.pos_hash[b] ^= s.chain_hash[b, head]
    return removed


@row_kernel
def _record_position(s: BoardState, b: int, ko_rule: int, max_moves: int) -> int:
    s.num_moves[b] += 1
    K = s.history.shape[1]
    slot = s.num_moves[b] % K
    for p in range(s.board.shape[1]):
        s.history[b, slot, p] = s.board[b, p]
    slot_taken = _seen_insert(s, b, _rule_key(s.pos_hash[b], s.to_play[b], ko_rule))
    if s.passes[b] >= 2 or s.num_moves[b] >= max_moves:
        s.done[b] = True
    return slot_taken


@row_kernel
def place_stone_row(s: BoardState, b: int, p: int, color: int) -> int:
    """Put a stone of ``color`` on empty point ``p`` and resolve captures (opponent first, then
    own suicide), counting the removed stones in ``captured``. Does not touch the side to move, ko
    point or history. Returns the number of opponent stones captured, and, as a side effect, leaves
    the ko point unset."""
    W = coords.stride_of(s.board.shape[1])
    opp = 3 - color
    s.board[b, p] = color
    s.ever_occupied[b, p] = True
    s.chain_head[b, p] = p
    s.chain_next[b, p] = p
    s.chain_size[b, p] = 1
    s.chain_hash[b, p] = ZOBRIST[color, p]
    s.pos_hash[b] ^= ZOBRIST[color, p]
    heads, libs = _adjacent_chains(s, b, p, W)
    for h in heads:
        if h != NO_CHAIN:
            s.chain_libs[b, h] -= 1  # p was one liberty of every distinct adjacent chain
    s.chain_libs[b, p] = libs
    head = p
    for h in heads:
        if h != NO_CHAIN and s.board[b, h] == color:
            head = _merge_chains(s, b, head, h, W)
    captured = 0
    for h in heads:
        if h != NO_CHAIN and s.board[b, h] == opp and s.chain_libs[b, h] == 0:
            captured += _remove_chain(s, b, h, W)
    if captured > 0:
        s.captured[b, opp - 1] += captured
    if s.chain_libs[b, head] == 0:
        s.captured[b, color - 1] += _remove_chain(s, b, head, W)
    return captured


@row_kernel
def play_row_assume_legal(s: BoardState, b: int, p: int, ko_rule: int, max_moves: int) -> int:
    """Play the side to move at point ``p`` (``NO_POINT`` passes). The move must be legal.
    Returns the superko-set slot the new position took (-1: it was there already), for ``unsee_row``."""
    me = s.to_play[b]
    W = coords.stride_of(s.board.shape[1])
    n = W - 2
    if p == NO_POINT:
        s.passes[b] += 1
        s.ko_point[b] = NO_POINT
        s.last_move[b] = n * n  # the pass action
    else:
        s.passes[b] = 0
        captured = place_stone_row(s, b, p, me)
        s.ko_point[b] = NO_POINT
        if captured == 1 and s.board[b, p] == me:
            h = s.chain_head[b, p]
            if s.chain_size[b, h] == 1 and s.chain_libs[b, h] == 1:
                # The single captured stone left the only liberty: that point is the ko.
                for d in range(4):
                    q = coords.neighbour(p, d, W)
                    if s.board[b, q] == EMPTY:
                        s.ko_point[b] = q
        s.last_move[b] = coords.point_action(p, n)
    s.to_play[b] = 3 - me
    return _record_position(s, b, ko_rule, max_moves)


@row_kernel
def play_action_row(s: BoardState, b: int, a: int, ko_rule: int, suicide_rule: int, max_moves: int) -> bool:
    """Play action ``a`` if legal and return True; leave the game unchanged and return False if not."""
    n = coords.stride_of(s.board.shape[1]) - 2
    if a < 0 or a > n * n:
        return False
    if s.done[b]:
        return False
    p = coords.move_point(a, n)
    if p != NO_POINT and scan_statuses_row(s, b, a, a + 1, ko_rule, suicide_rule, None, None) != LEGAL:
        return False
    play_row_assume_legal(s, b, p, ko_rule, max_moves)
    return True


def _play_all(s: BoardState, actions: np.ndarray, ko_rule: int, suicide_rule: int, max_moves: int, ok: np.ndarray) -> None:
    for b in prange(s.board.shape[0]):
        if actions[b] >= 0:
            ok[b] = play_action_row(s, b, actions[b], ko_rule, suicide_rule, max_moves)
        else:
            ok[b] = True


_play_all, _play_all_serial = parallel_twins(_play_all)


def play(state: BoardState, actions, rules: Rules) -> np.ndarray:
    """Play one action per game (``[B]`` ints, ``-1`` skips a row). Returns ``[B] bool``: False
    where the move was illegal (that game is left unchanged)."""
    actions = np.ascontiguousarray(np.broadcast_to(np.asarray(actions, dtype=np.int64), (state.batch_size,)))
    ok = np.zeros(state.batch_size, np.bool_)
    cap = move_cap(rules, state.size)
    _check_capacity(state, cap)
    (_play_all if parallel_worth_it(state.batch_size, 64) else _play_all_serial)(state, actions, int(rules.ko), int(rules.suicide), cap, ok)
    return ok


def resign(state: BoardState, rows, color=None) -> None:
    """Record a resignation by ``color`` (default: the side to move) in the given rows."""
    for b in np.atleast_1d(np.asarray(rows, dtype=np.int64)):
        state.resigned[b] = state.to_play[b] if color is None else color
        state.done[b] = True


@row_kernel
def setup_stones_row(s: BoardState, b: int, actions: np.ndarray, colors: np.ndarray, to_play: int, ko_rule: int) -> bool:
    """Add stones (handicap, SGF AB/AW) to game ``b``; False if a point is occupied or any chain
    would be left without a liberty. The superko history restarts from the resulting position."""
    P = s.board.shape[1]
    n = coords.stride_of(P) - 2
    for i in range(actions.shape[0]):
        a = actions[i]
        if a < 0 or a >= n * n:
            return False
        p = coords.action_point(a, n)
        if s.board[b, p] != EMPTY:
            return False
        # A setup stone that captures or has no liberty would silently change the drawn position.
        if place_stone_row(s, b, p, colors[i]) > 0 or s.board[b, p] == EMPTY:
            return False
    s.to_play[b] = to_play
    s.ko_point[b] = NO_POINT
    for k in range(s.history.shape[1]):
        for p in range(P):
            s.history[b, k, p] = s.board[b, p]
    _rebuild_seen_row(s, b, ko_rule)
    return True


def setup_stones(state: BoardState, row: int, actions, colors, to_play: int, rules: Rules) -> None:
    """Place setup stones in one row; raises ``ValueError`` (state of that row undefined: reset it)."""
    actions = np.asarray(actions, dtype=np.int64).reshape(-1)
    colors = np.broadcast_to(np.asarray(colors, dtype=np.int64), actions.shape).copy()
    if len(set(actions.tolist())) != len(actions):
        raise ValueError("setup stones repeat a point")
    # The kernel indexes without bounds checks: validate what it cannot.
    if not 0 <= int(row) < state.batch_size:
        raise ValueError(f"row {row} is outside a batch of {state.batch_size}")
    if not np.isin(colors, (BLACK, WHITE)).all() or int(to_play) not in (BLACK, WHITE):
        raise ValueError(f"setup colours and to_play must be BLACK ({BLACK}) or WHITE ({WHITE})")
    if not setup_stones_row(state, row, actions, colors, to_play, int(rules.ko)):
        raise ValueError("setup stones are off the board, on occupied points, capture, or leave a chain without liberties")


# ---- scoring -------------------------------------------------------------------------------------


@row_kernel
def _score_row(s: BoardState, b: int, owner: np.ndarray, work: np.ndarray, score: np.ndarray) -> None:
    score[b] = scoring.count_row(s, b, 0, 0, 0, 0.0, owner, work)  # area, no tax, no bonus


def _score_all(s: BoardState, owner: np.ndarray, work: np.ndarray, score: np.ndarray) -> None:
    for b in prange(s.board.shape[0]):
        _score_row(s, b, owner[b], work[b], score)


_score_all, _score_all_serial = parallel_twins(_score_all)


def score(state: BoardState) -> tuple[np.ndarray, np.ndarray]:
    """Area score of every game: ``([B] float32 black - white - komi, [B, n*n] int8 ownership)``.
    Resignation is not considered here (see ``outcome``)."""
    n = state.size
    owner = np.zeros((state.batch_size, n * n), np.int8)
    margin = np.zeros(state.batch_size, np.float32)
    work = scoring.new_work(n, state.batch_size)  # [B, WORK_ROWS, P] count work space
    (_score_all if parallel_worth_it(state.batch_size, 64) else _score_all_serial)(state, owner, work, margin)
    return margin, owner


def outcome(state: BoardState) -> np.ndarray:
    """``[B] int8`` result from black's view: +1 black wins, -1 white wins, 0 draw (finished or not)."""
    margin, _ = score(state)
    result = np.sign(margin).astype(np.int8)
    result[state.resigned == BLACK] = -1
    result[state.resigned == WHITE] = 1
    return result


# ---- random games ----------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _splitmix(x: np.uint64) -> np.uint64:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    z = x
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@row_kernel
def is_own_eye_row(s: BoardState, b: int, p: int, color: int) -> bool:
    """A simple eye: every neighbour is ``color`` (or wall) and at most one diagonal (none on the
    edge) is the opponent's. Random players never fill these, so random games end."""
    W = coords.stride_of(s.board.shape[1])
    for d in range(4):
        c = s.board[b, coords.neighbour(p, d, W)]
        if c != color and c != WALL:
            return False
    bad = 0
    edge = False
    for d in range(4):
        c = s.board[b, coords.diagonal(p, d, W)]
        if c == WALL:
            edge = True
        elif c == 3 - color:
            bad += 1
    return bad == 0 if edge else bad <= 1


# Uniform draws over all actions tried before the exact candidate scan (see ``random_game_row``).
REJECTION_TRIES = 16
ROW_SEED_PRIME = 0x100000001B3  # row b's random game is seeded with splitmix(seed * this + b)


@njit(cache=True)
def random_game_row(s: BoardState, b: int, seed: np.uint64, ko_rule: int, suicide_rule: int, max_moves: int, avoid_eyes: bool, tries: int) -> int:
    """Play uniformly random legal moves (pass included; with ``avoid_eyes`` own simple eyes are
    not filled and pass is only chosen when nothing else is legal) until the game ends. Returns
    the number of moves played. Deterministic for a given seed, whatever the thread count.

    Each move first draws up to ``tries`` actions uniformly and keeps the first
    allowed one (uniform over the allowed moves, without listing them); only when all fail does it
    list the empty points and draw from them without replacement. Each phase picks uniformly among
    the allowed moves, so their mixture does too."""
    n = coords.stride_of(s.board.shape[1]) - 2
    cand = np.empty(n * n + 1, np.int32)
    rng = seed
    played = 0
    draw_from = n * n if avoid_eyes else n * n + 1  # pass is the last action
    while not s.done[b]:
        me = s.to_play[b]
        chosen = NO_POINT
        tries_left = tries
        m = -1  # candidates listed in cand[:m] for the exact phase; -1: not listed yet
        while True:
            if tries_left > 0:
                tries_left -= 1
                rng = _splitmix(rng)
                a = np.int64(rng % np.uint64(draw_from))
            else:
                if m < 0:
                    m = 0
                    for e in range(draw_from):
                        if e == n * n or s.board[b, coords.action_point(e, n)] == EMPTY:
                            cand[m] = e
                            m += 1
                if m == 0:
                    break  # nothing allowed: pass
                # Without replacement: a rejected candidate is never drawn again.
                rng = _splitmix(rng)
                i = int(rng % np.uint64(m))
                a = np.int64(cand[i])
                m -= 1
                cand[i] = cand[m]
            if a == n * n:
                break  # pass: always legal while the game goes on
            p = coords.action_point(a, n)
            if s.board[b, p] == EMPTY and (not avoid_eyes or not is_own_eye_row(s, b, p, me)) and scan_statuses_row(s, b, a, a + 1, ko_rule, suicide_rule, None, None) == LEGAL:
                chosen = p
                break
        play_row_assume_legal(s, b, chosen, ko_rule, max_moves)
        played += 1
    return played


def _random_games_all(s: BoardState, seed: int, ko_rule: int, suicide_rule: int, max_moves: int, avoid_eyes: bool, lengths: np.ndarray) -> None:
    for b in prange(s.board.shape[0]):
        row_seed = _splitmix(np.uint64(seed) * np.uint64(ROW_SEED_PRIME) + np.uint64(b))
        lengths[b] = random_game_row(s, b, row_seed, ko_rule, suicide_rule, max_moves, avoid_eyes, REJECTION_TRIES)


_random_games_all, _random_games_all_serial = parallel_twins(_random_games_all)


def play_random_games(state: BoardState, rules: Rules, seed: int, avoid_eyes: bool = True, max_moves: int | None = None) -> np.ndarray:
    """Finish every game in ``state`` with random moves, in parallel over the batch. Returns
    ``[B] int32`` moves played per game."""
    lengths = np.zeros(state.batch_size, np.int32)
    cap = max_moves if max_moves is not None else move_cap(rules, state.size)
    _check_capacity(state, cap)
    (_random_games_all if parallel_worth_it(state.batch_size, 4) else _random_games_all_serial)(state, int(seed) & 0x7FFFFFFFFFFFFFFF, int(rules.ko), int(rules.suicide), cap, avoid_eyes, lengths)
    return lengths

