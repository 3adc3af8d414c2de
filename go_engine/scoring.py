"""Final counts of a finished board: area or territory (Japanese) scoring, the seki tax, prisoners, komi
and white's handicap bonus, as pure functions of one position.

The count follows KataGo (``ANALYSIS_AND_RULES.md`` section 4.4):

* **area**: stones plus empty regions that reach one colour only (Tromp-Taylor). With a tax, the
  empty points count only inside *independent-life* regions (below); tax ``all`` also charges 2
  points per such region.
* **territory**: empty points of one colour's independent-life regions (tax ``seki``: eyes of groups
  in seki and dame count for nobody; tax ``none``: every one-colour empty region counts), plus
  prisoners (opponent stones taken off the board, by capture or suicide, and dead stones removed
  for the count).
* white adds komi and, for ``N`` handicap stones, the rules' bonus (0, N or N-1).

**Independent-life regions** (KataGo's ``calculateIndependentLifeArea``): a maximal connected set of
one colour's stones and the empty points that reach only that colour, which contains no chain in
atari and touches no neutral empty point. KataGo expects the dame to be filled (its cleanup phases
do that); here they are filled first: every neutral point that a colour can occupy next to its own
stones without leaving any chain (its own or the opponent's) in atari is filled, until none is
left. A seki's shared liberties cannot be filled that way (either colour would put itself in
atari), so the groups around them keep a neutral neighbour and their eyes score nothing.

Precondition: the board is *finished*, i.e. dead stones are already off it (or passed in ``dead``)
and no ko or atari is pending. What can still be scored wrongly, as in KataGo's rule: a living
group with a chain left in atari (an unresolved ko or a double-ko seki count as not independent,
which is right for the seki and wrong for an unfinished fight); dame whose filling needs a move
inside a territory (a "teire"); and ``dead`` stones chosen wrongly by the caller.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from go_engine import coords
from go_engine.rules import Rules, ScoringRule, handicap_bonus_points

EMPTY = 0
BLACK = 1
WHITE = 2
WALL = 3
_BOTH = BLACK | WHITE  # "touches" bits of an empty region reaching both colours


class Count(NamedTuple):
    """One finished position's count. Points are before komi; ``margin`` is black's view."""

    margin: float  # black - white, komi and bonus included
    black_points: int  # territory (territory scoring) or area (area scoring) of black, tax applied
    white_points: int
    black_prisoners: int  # white stones black took off (captured, suicided, or dead at the end)
    white_prisoners: int
    komi: float
    bonus: int  # white's handicap compensation (area scoring)
    owner: np.ndarray  # [n*n] int8  +1 / -1 where a point counted for black / white, else 0


@njit(cache=True, inline="always")
def _neighbour(p: int, d: int, W: int) -> int:
    return p - W if d == 0 else (p - 1 if d == 1 else (p + 1 if d == 2 else p + W))


@njit(cache=True)
def _region_touches(board: np.ndarray, W: int, touch: np.ndarray, stack: np.ndarray) -> None:
    """``touch[p]`` (empty points) = colour bits (1 black, 2 white) its empty region reaches; -1 elsewhere."""
    P = board.shape[0]
    for p in range(P):
        touch[p] = -1 if board[p] != EMPTY else -2  # -2: empty, not flooded yet
    for p0 in range(P):
        if touch[p0] != -2:
            continue
        top = 0
        stack[top] = p0
        top += 1
        touch[p0] = -3  # queued
        bits = 0
        size = 0
        while top > size:  # stack[:top] is the region; stack[size:top] still to expand
            q = stack[size]
            size += 1
            for d in range(4):
                r = _neighbour(q, d, W)
                c = board[r]
                if c == EMPTY:
                    if touch[r] == -2:
                        touch[r] = -3
                        stack[top] = r
                        top += 1
                elif c == BLACK or c == WHITE:
                    bits |= c
        for i in range(size):
            touch[stack[i]] = bits


@njit(cache=True)
def _chain_liberties(board: np.ndarray, p: int, W: int, mark: np.ndarray, gen: int, stack: np.ndarray) -> int:
    """Liberties of the chain at stone ``p``; ``mark`` entries equal to ``gen`` or ``-gen`` are this call's."""
    colour = board[p]
    top = 0
    stack[top] = p
    top += 1
    mark[p] = gen
    libs = 0
    head = 0
    while head < top:
        q = stack[head]
        head += 1
        for d in range(4):
            r = _neighbour(q, d, W)
            c = board[r]
            if c == colour and mark[r] != gen:
                mark[r] = gen
                stack[top] = r
                top += 1
            elif c == EMPTY and mark[r] != -gen:
                mark[r] = -gen
                libs += 1
    return libs


@njit(cache=True)
def fill_dame(board: np.ndarray, W: int) -> int:
    """Fill ``board`` ([P] int8, padded, changed in place) the way the cleanup phases would: a
    neutral empty point (its region reaches both colours) next to a colour's stone takes a stone of
    that colour (black tried first) if afterwards no chain next to it is in atari. Repeats until
    no such point is left; returns the number of stones placed."""
    P = board.shape[0]
    return fill_dame_work(board, W, np.empty(P, np.int32), np.empty(P, np.int32), np.zeros(P, np.int32))


@njit(cache=True, _nrt=False)
def fill_dame_work(board: np.ndarray, W: int, touch: np.ndarray, stack: np.ndarray, mark: np.ndarray) -> int:
    """``fill_dame`` with the caller's work arrays (each [P] int32), allocating nothing."""
    P = board.shape[0]
    for p in range(P):
        mark[p] = 0
    gen = 0
    placed = 0
    changed = True
    while changed:
        changed = False
        _region_touches(board, W, touch, stack)
        for p in range(P):
            if board[p] != EMPTY or touch[p] != _BOTH:
                continue
            for colour in (BLACK, WHITE):
                own = False
                for d in range(4):
                    if board[_neighbour(p, d, W)] == colour:
                        own = True
                if not own:
                    continue
                board[p] = colour
                gen += 1
                ok = _chain_liberties(board, p, W, mark, gen, stack) >= 2
                for d in range(4):
                    r = _neighbour(p, d, W)
                    if ok and board[r] == 3 - colour:
                        gen += 1
                        ok = _chain_liberties(board, r, W, mark, gen, stack) >= 2
                if ok:
                    placed += 1
                    changed = True
                    break
                board[p] = EMPTY
            if changed:
                break  # regions changed: recompute them
    return placed


@njit(cache=True)
def independent_life(board: np.ndarray, W: int, region: np.ndarray) -> tuple[int, int]:
    """KataGo's independent-life regions of a dame-filled ``board`` ([P] int8): ``region[p]`` ([P]
    int8) = BLACK / WHITE for the stones and empty points of an independent region of that colour,
    else EMPTY. Returns the number of black and of white regions (the ``all`` tax charges them)."""
    P = board.shape[0]
    return independent_life_work(board, W, region, np.empty(P, np.int32), np.empty(P, np.int32), np.empty(P, np.int32),
                                 np.empty(P, np.int32), np.empty(P, np.int32), np.empty(P, np.int32))


@njit(cache=True, _nrt=False)
def independent_life_work(board: np.ndarray, W: int, region: np.ndarray, touch: np.ndarray, stack: np.ndarray,
                          mark: np.ndarray, libs: np.ndarray, basic: np.ndarray, seen: np.ndarray) -> tuple[int, int]:
    """``independent_life`` with the caller's work arrays (each [P] int32), allocating nothing:
    ``libs`` = liberties of each stone's chain, ``basic`` = the colour a point belongs to (stone or
    one-colour empty region) else EMPTY, ``seen`` = flooded marks."""
    P = board.shape[0]
    for p in range(P):
        mark[p] = 0
        libs[p] = 0
        basic[p] = EMPTY
        seen[p] = 0
    _region_touches(board, W, touch, stack)
    gen = 0
    for p in range(P):
        c = board[p]
        if c == BLACK or c == WHITE:
            basic[p] = c
            if libs[p] == 0:
                gen += 1
                n_libs = _chain_liberties(board, p, W, mark, gen, stack)
                for q in range(P):
                    if mark[q] == gen:
                        libs[q] = n_libs
        elif c == EMPTY and (touch[p] == BLACK or touch[p] == WHITE):
            basic[p] = touch[p]
        region[p] = EMPTY
    black_regions = 0
    white_regions = 0
    for p0 in range(P):
        colour = basic[p0]
        if colour == EMPTY or seen[p0]:
            continue
        top = 0
        stack[top] = p0
        top += 1
        seen[p0] = 1
        head = 0
        independent = True
        while head < top:
            q = stack[head]
            head += 1
            if board[q] == colour and libs[q] == 1:
                independent = False  # a chain in atari (a ko, a double-ko seki)
            for d in range(4):
                r = _neighbour(q, d, W)
                if basic[r] == colour:
                    if not seen[r]:
                        seen[r] = 1
                        stack[top] = r
                        top += 1
                elif board[r] == EMPTY:
                    independent = False  # a neutral empty point: a seki's shared liberty, or unfilled dame
        if independent:
            for i in range(top):
                region[stack[i]] = colour
            if colour == BLACK:
                black_regions += 1
            else:
                white_regions += 1
    return black_regions, white_regions


WORK_ROWS = 9  # rows of a count's work array: [WORK_ROWS, P] int32 (``new_work``)


def new_work(n: int, batch: int | None = None) -> np.ndarray:
    """Work space of ``count_board_work`` / ``count_row``: ``[WORK_ROWS, P]`` (or ``[B, WORK_ROWS, P]``) int32."""
    shape = (WORK_ROWS, coords.num_points(n))
    return np.zeros(shape if batch is None else (batch, *shape), np.int32)


@njit(cache=True, _nrt=False)
def count_board_work(board: np.ndarray, W: int, scoring: int, tax: int, owner: np.ndarray, work: np.ndarray) -> tuple[int, int]:
    """Points of black and white (tax applied, before prisoners and komi) and ``owner`` ([n*n]
    int8: +1 / -1 where a point counted for black / white, else 0) of a finished ``board`` ([P],
    padded; read only), every stone on it alive; ``work`` ([WORK_ROWS, P] int32) is work space.
    The one count: ``count``, ``count_row`` and ``board.score`` all run it."""
    P = board.shape[0]
    n = W - 2
    touch, stack, region, filled = work[0], work[1], work[2], work[3]
    _region_touches(board, W, touch, stack)
    black_regions = 0
    white_regions = 0
    if tax != 0:
        for p in range(P):
            filled[p] = board[p]
        fill_dame_work(filled, W, work[4], stack, work[5])
        black_regions, white_regions = independent_life_work(filled, W, region, work[4], stack, work[5], work[6], work[7], work[8])
    black = 0
    white = 0
    for a in range(n * n):
        p = (a // n + 1) * W + a % n + 1
        c = board[p]
        value = 0
        if c == BLACK or c == WHITE:
            if scoring == 0:
                value = 1 if c == BLACK else -1
        elif touch[p] == BLACK or touch[p] == WHITE:
            # Territory: a one-colour region, and with a tax only inside an independent one.
            if tax == 0 or region[p] == touch[p]:
                value = 1 if touch[p] == BLACK else -1
        owner[a] = value
        if value > 0:
            black += 1
        elif value < 0:
            white += 1
    if tax == 2:
        black -= 2 * black_regions
        white -= 2 * white_regions
    return black, white


@njit(cache=True, _nrt=False)
def count_row(s, b: int, scoring: int, tax: int, bonus: float, owner: np.ndarray, work: np.ndarray) -> float:
    """Black's margin of game ``b`` of a ``board.BoardState`` ``s`` counted as it stands (every stone
    alive, seki decided by independent-life regions): points by ``scoring`` (0 area, 1 territory)
    and ``tax`` (0 none, 1 seki, 2 all), plus prisoners under territory scoring
    (``s.captured[b]``), minus ``s.komi[b]`` and white's handicap ``bonus`` points. ``owner`` ([n*n]
    int8) gets the counted points, ``work`` ([WORK_ROWS, P] int32) is work space. The count of the
    self-play driver's final score and of the search's terminal values."""
    P = s.board.shape[1]
    W = int(np.sqrt(P) + 0.5)
    black, white = count_board_work(s.board[b], W, scoring, tax, owner, work)
    margin = float(black - white) - s.komi[b] - bonus
    if scoring == 1:
        margin += float(s.captured[b, 1] - s.captured[b, 0])  # prisoners: white stones taken minus black stones taken
    return margin


@njit(cache=True, _nrt=False)
def stone_ownership_row(s, b: int, owner: np.ndarray) -> None:
    """Where ``owner`` ([n*n] int8, a count's) is 0 on a stone, the stone's colour (+1 black, -1
    white): the final ownership of a finished game (under territory scoring the count credits the
    empty points only; the stones standing at the end are their owner's all the same)."""
    P = s.board.shape[1]
    W = int(np.sqrt(P) + 0.5)
    n = W - 2
    for a in range(n * n):
        if owner[a] == 0:
            c = s.board[b, (a // n + 1) * W + a % n + 1]
            owner[a] = 1 if c == BLACK else (-1 if c == WHITE else 0)


def count(board_row: np.ndarray, n: int, rules: Rules, captured=(0, 0), handicap: int = 0, dead=None) -> Count:
    """The count of a finished position. ``board_row`` ([P] int8, padded: ``BoardState.board[b]``),
    ``captured`` = (black stones, white stones) taken off during the game (``BoardState.captured[b]``),
    ``handicap`` = black's handicap stones, ``dead`` = actions ([n*n] bool or a list) of stones to
    take off first (they become the opponent's prisoners)."""
    coords.check_size(n)
    black_lost, white_lost = (int(x) for x in captured)
    colours = np.array(board_row, dtype=np.int8).reshape(-1)
    board, dead_points = _padded_without(board_row, n, dead)
    black_lost += int(np.sum(colours[dead_points] == BLACK))
    white_lost += int(np.sum(colours[dead_points] == WHITE))
    owner = np.zeros(n * n, np.int8)
    black_points, white_points = (int(x) for x in count_board_work(board, n + 2, int(rules.scoring), int(rules.tax), owner, new_work(n)))
    bonus = handicap_bonus_points(rules.white_handicap_bonus, handicap)
    black_prisoners, white_prisoners = white_lost, black_lost
    margin = float(black_points - white_points) - rules.komi - bonus
    if rules.scoring == ScoringRule.TERRITORY:
        margin += black_prisoners - white_prisoners
    return Count(margin, black_points, white_points, black_prisoners, white_prisoners, rules.komi, bonus, owner)


def _padded_without(board_row: np.ndarray, n: int, dead) -> tuple[np.ndarray, np.ndarray]:
    """A copy of ``board_row`` ([P] int8) with the ``dead`` actions taken off, and their points."""
    board = np.array(board_row, dtype=np.int8).reshape(-1)
    if board.shape[0] != coords.num_points(n):
        raise ValueError(f"board_row has {board.shape[0]} points; a {n}x{n} board has {coords.num_points(n)}")
    dead = np.asarray([] if dead is None else dead)
    actions = np.flatnonzero(dead) if dead.dtype == np.bool_ else dead.astype(np.int64)
    points = coords.action_points(n)[actions]
    if not np.isin(board[points], (BLACK, WHITE)).all():
        raise ValueError("dead stones must be stones")
    board[points] = EMPTY
    return board, points


def seki_stones(board_row: np.ndarray, n: int, dead=None) -> np.ndarray:
    """``[n*n] bool``: the living stones (``dead`` ones taken off first) outside every
    independent-life region once the dame are filled: groups in seki (or left in atari)."""
    board, _ = _padded_without(board_row, n, dead)
    filled = board.copy()
    fill_dame(filled, n + 2)
    region = np.zeros_like(board)
    independent_life(filled, n + 2, region)
    points = coords.action_points(n)
    stones = board[points]
    return ((stones == BLACK) | (stones == WHITE)) & (region[points] != stones)


def gains_nothing_under_territory(board_row: np.ndarray, n: int, action: int, colour: int, dead=None,
                                  neutral: np.ndarray | None = None) -> bool:
    """Whether ``colour``'s move at ``action`` is worth nothing under territory scoring: played in an
    empty region (``dead`` stones taken off) that holds no dead stone and reaches ``colour``'s
    stones only (its own territory, which the stone fills) or both colours at a point ``neutral``
    ([n*n] bool, e.g. an ownership estimate near 0; None: every point) marks (a dame, worth
    nothing; a region both colours reach may also be a contested area), capturing nothing,
    putting no opponent chain in atari and touching no own chain of 2 liberties or fewer (so it is
    neither a threat nor a defence). Passing is then at least as good. A defence that touches no
    short-of-liberty chain (a teire against a cut two points away) is not recognised."""
    board, dead_points = _padded_without(board_row, n, dead)
    W = n + 2
    p = int(coords.action_to_point(action, n))
    if board[p] != EMPTY:
        return False
    touch = np.empty(board.shape[0], np.int32)
    stack = np.empty(board.shape[0], np.int32)
    _region_touches(board, W, touch, stack)
    if not touch[p] & colour:
        return False
    if touch[p] != colour and neutral is not None and not neutral[action]:
        return False
    if len(dead_points) and (touch[dead_points] == touch[p]).any():
        # A dead stone's point in a region with the same colour bits may be this region: flood to be sure.
        region = touch == -9  # all False
        region[p] = True
        frontier = [p]
        while frontier:
            q = frontier.pop()
            for r in (q - W, q - 1, q + 1, q + W):
                if board[r] == EMPTY and not region[r]:
                    region[r] = True
                    frontier.append(r)
        if region[dead_points].any():
            return False
    mark = np.zeros(board.shape[0], np.int32)
    before = board_row.reshape(-1)
    for r in (p - W, p - 1, p + 1, p + W):
        if before[r] == colour and _chain_liberties(before, r, W, mark, 1 + r, stack) <= 2:
            return False
    after = np.array(before, dtype=np.int8)
    after[p] = colour
    for r in (p - W, p - 1, p + 1, p + W):
        if after[r] == 3 - colour and _chain_liberties(after, r, W, mark, 1000 + r, stack) <= 1:
            return False  # a capture or an atari
    return True
