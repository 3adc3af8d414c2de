"""Final counts of a finished board: area or territory (Japanese) scoring, the seki tax, prisoners, komi
and white's handicap bonus, as pure functions of one position.

The count follows KataGo (``ANALYSIS_AND_RULES.md`` section 4.4):

* **area**: stones plus empty regions that reach one colour only (Tromp-Taylor). With a tax, the
  empty points count only inside *independent-life* regions (below); tax ``all`` also charges 2
  points per such region.
* **territory**: empty points of one colour's independent-life regions (tax ``seki``: eyes of groups
  in seki and dame count for nobody; tax ``none``: every one-colour empty region counts), plus
  prisoners (opponent stones taken off the board, by capture or suicide, and dead stones removed
  for the count). KataGo's pass-alive shortcut first: stones inside the opponent's *pass-alive
  territory* (``pass_alive_work``, Benson's algorithm) are dead, taken off as the opponent's
  prisoners, and that territory counts for its owner whatever the tax.
* white adds komi and, for ``N`` handicap stones, the rules' bonus (0, N or N-1).

**Independent-life regions** (KataGo's ``calculateIndependentLifeArea``): a maximal connected set of
one colour's stones and the empty points that reach only that colour, which contains no chain in
atari and touches no neutral empty point. KataGo expects the dame to be filled (its cleanup phases
do that); here they are filled first: every neutral point that a colour can occupy next to its own
stones without leaving any chain (its own or the opponent's) in atari is filled, until none is
left. A seki's shared liberties cannot be filled that way (either colour would put itself in
atari), so the groups around them keep a neutral neighbour and their eyes score nothing.

Precondition: the board is *finished*, i.e. dead stones are already off it (or passed in ``dead``,
or, under territory scoring, inside the opponent's pass-alive territory) and no ko or atari is
pending. What can still be scored wrongly, as in KataGo's rule: a living
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


@njit(cache=True, inline="always")
def _flood(board: np.ndarray, W: int, p0: int, colour_a: int, colour_b: int, label: int, labels: np.ndarray,
           stack: np.ndarray, outside: bool) -> tuple[int, int, int]:
    """Flood the connected set of points of colour ``colour_a`` or ``colour_b`` that holds ``p0``
    (a chain: both its colour; an empty region: both EMPTY), none of them labelled ``label`` on
    entry: ``labels`` = ``label`` on it. Returns its size (its points: ``stack[:size]``) and, with
    ``outside`` (a constant at each call, so the inlined code without it does none of this work),
    the colour bits (1 black, 2 white) of the stones next to it and the number of empty points next
    to it (a chain's liberties), labelled ``-label``; else 0 and 0."""
    stack[0] = p0
    labels[p0] = label
    top = 1
    head = 0
    bits = 0
    libs = 0
    while head < top:  # stack[:top] is the set found so far; stack[head:top] still to expand
        q = stack[head]
        head += 1
        for d in range(4):
            r = _neighbour(q, d, W)
            c = board[r]
            if c == colour_a or c == colour_b:
                if labels[r] != label:
                    labels[r] = label
                    stack[top] = r
                    top += 1
            elif not outside:
                continue
            elif c == EMPTY:
                if labels[r] != -label:
                    labels[r] = -label
                    libs += 1
            elif c == BLACK or c == WHITE:
                bits |= c
    return top, bits, libs


@njit(cache=True)
def _region_touches(board: np.ndarray, W: int, touch: np.ndarray, stack: np.ndarray) -> None:
    """``touch[p]`` (empty points) = colour bits (1 black, 2 white) its empty region reaches; -1 elsewhere."""
    P = board.shape[0]
    for p in range(P):
        touch[p] = -1 if board[p] != EMPTY else -2  # -2: empty, not flooded yet
    for p0 in range(P):
        if touch[p0] == -2:
            size, bits, _ = _flood(board, W, p0, EMPTY, EMPTY, -3, touch, stack, True)  # -3: in the region being flooded
            for i in range(size):
                touch[stack[i]] = bits


@njit(cache=True)
def _chain_liberties(board: np.ndarray, p: int, W: int, mark: np.ndarray, gen: int, stack: np.ndarray) -> int:
    """Liberties of the chain at stone ``p``; ``mark`` entries equal to ``gen`` or ``-gen`` are this call's."""
    return _flood(board, W, p, board[p], board[p], gen, mark, stack, True)[2]


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


@njit(cache=True, inline="always")
def _region_neighbour(board: np.ndarray, r: int, pla: int, g: int, cid: np.ndarray, rid: np.ndarray, stack: np.ndarray,
                      top: int) -> tuple[int, int]:
    """Point ``r``, next to a point of region ``g`` being flooded: (the head of the ``pla`` chain
    there, else -1; the stack's new top, ``r`` pushed where it joins the region)."""
    c = board[r]
    if c == pla:
        return cid[r], top
    if (c == EMPTY or c == 3 - pla) and rid[r] < 0:
        rid[r] = g
        stack[top] = r
        return -1, top + 1
    return -1, top


@njit(cache=True, inline="always")
def _keep_if_adjacent(v: np.ndarray, g: int, c0: int, c1: int, c2: int, c3: int) -> None:
    """Drop the candidate ``v[g]`` (a chain head, -1 for none) unless it is one of ``c0 .. c3``."""
    if v[g] >= 0 and v[g] != c0 and v[g] != c1 and v[g] != c2 and v[g] != c3:
        v[g] = -1


@njit(cache=True, _nrt=False)
def _label_chains(board: np.ndarray, W: int, pla: int, cid: np.ndarray, stack: np.ndarray, vcount: np.ndarray,
                  killed: np.ndarray) -> bool:
    """``pass_alive_work``'s chains: ``cid[p]`` (-1 on entry) = the head point of the chain of each
    ``pla`` stone, and its head's ``vcount`` and ``killed`` zeroed. Whether ``pla`` has a stone."""
    any_pla = False
    for p0 in range(board.shape[0]):
        if board[p0] == pla and cid[p0] < 0:
            _flood(board, W, p0, pla, pla, p0, cid, stack, False)
            vcount[p0] = 0
            killed[p0] = 0
            any_pla = True
    return any_pla


@njit(cache=True, _nrt=False)
def _label_regions(board: np.ndarray, W: int, pla: int, suicide_legal: bool, cid: np.ndarray, rid: np.ndarray,
                   stack: np.ndarray, v0: np.ndarray, v1: np.ndarray, v2: np.ndarray, v3: np.ndarray,
                   internal: np.ndarray, bdead: np.ndarray) -> int:
    """``pass_alive_work``'s regions: ``rid[p]`` (-1 on entry) = the index ``g`` of the region of
    each empty or opponent point in one; per region, ``v0..v3[g]`` = the chains (heads) it is vital
    to, -1 for none, ``internal[g]`` = its points next to no ``pla`` stone, ``bdead[g]`` = 0.
    Returns the number of regions."""
    n_regions = 0
    for p0 in range(board.shape[0]):
        if board[p0] != EMPTY or rid[p0] >= 0:
            continue
        g = n_regions
        n_regions += 1
        internal[g] = 0
        bdead[g] = 0
        rid[p0] = g
        stack[0] = p0
        top = 1
        head = 0
        while head < top:
            q = stack[head]
            head += 1
            c0, top = _region_neighbour(board, q - W, pla, g, cid, rid, stack, top)
            c1, top = _region_neighbour(board, q - 1, pla, g, cid, rid, stack, top)
            c2, top = _region_neighbour(board, q + 1, pla, g, cid, rid, stack, top)
            c3, top = _region_neighbour(board, q + W, pla, g, cid, rid, stack, top)
            if head == 1:  # the region's first point: its distinct chains are the candidates
                v0[g] = c0
                v1[g] = c1 if c1 != c0 else -1
                v2[g] = c2 if c2 != c0 and c2 != c1 else -1
                v3[g] = c3 if c3 != c0 and c3 != c1 and c3 != c2 else -1
            if c0 < 0 and c1 < 0 and c2 < 0 and c3 < 0:
                internal[g] += 1  # a point next to no pla stone
            if suicide_legal or board[q] == EMPTY:  # keep the candidates this point is a liberty of
                _keep_if_adjacent(v0, g, c0, c1, c2, c3)
                _keep_if_adjacent(v1, g, c0, c1, c2, c3)
                _keep_if_adjacent(v2, g, c0, c1, c2, c3)
                _keep_if_adjacent(v3, g, c0, c1, c2, c3)
    return n_regions


@njit(cache=True, inline="always")
def _count_candidate(v: np.ndarray, g: int, vcount: np.ndarray) -> None:
    if v[g] >= 0:
        vcount[v[g]] += 1


@njit(cache=True, inline="always")
def _count_vital(board: np.ndarray, pla: int, cid: np.ndarray, n_regions: int, v0: np.ndarray, v1: np.ndarray,
                 v2: np.ndarray, v3: np.ndarray, bdead: np.ndarray, vcount: np.ndarray) -> None:
    """``vcount[head]`` = the regions vital to each chain that border no killed chain."""
    for p in range(board.shape[0]):
        if board[p] == pla and cid[p] == p:
            vcount[p] = 0
    for g in range(n_regions):
        if not bdead[g]:
            _count_candidate(v0, g, vcount)
            _count_candidate(v1, g, vcount)
            _count_candidate(v2, g, vcount)
            _count_candidate(v3, g, vcount)


@njit(cache=True, _nrt=False)
def _benson_kill(board: np.ndarray, W: int, pla: int, cid: np.ndarray, rid: np.ndarray, n_regions: int,
                 v0: np.ndarray, v1: np.ndarray, v2: np.ndarray, v3: np.ndarray, bdead: np.ndarray,
                 vcount: np.ndarray, killed: np.ndarray) -> None:
    """Benson's iteration over ``pass_alive_work``'s chains and regions: until none dies, a chain
    with fewer than 2 vital regions bordering no killed chain is killed (``killed[head]``: 0 alive,
    2 killed this round, 1 killed before) and the regions it borders get ``bdead[g] = 1``."""
    P = board.shape[0]
    while True:
        _count_vital(board, pla, cid, n_regions, v0, v1, v2, v3, bdead, vcount)
        killed_any = False
        for p in range(P):
            if board[p] == pla and cid[p] == p and killed[p] == 0 and vcount[p] < 2:
                killed[p] = 2
                killed_any = True
        if not killed_any:
            return
        for p in range(P):
            if board[p] == pla and killed[cid[p]] == 2:
                for d in range(4):
                    r = _neighbour(p, d, W)
                    if rid[r] >= 0:
                        bdead[rid[r]] = 1
        for p in range(P):
            if board[p] == pla and cid[p] == p and killed[p] == 2:
                killed[p] = 1


@njit(cache=True, _nrt=False)
def pass_alive_work(board, W: int, pla: int, suicide_legal: bool, area: np.ndarray, rid: np.ndarray, cid: np.ndarray,
                    stack: np.ndarray, v0: np.ndarray, v1: np.ndarray, v2: np.ndarray, v3: np.ndarray,
                    internal: np.ndarray, bdead: np.ndarray, vcount: np.ndarray, killed: np.ndarray) -> None:
    """Benson's unconditional life for ``pla`` (KataGo's ``calculateAreaForPla`` without big
    territories): sets ``area[p] = pla`` on ``pla``'s pass-alive stones and pass-alive territory of
    ``board`` ([P], padded; read only) where ``area[p]`` is still EMPTY. Each other array is [P]
    int32 work space; nothing is allocated.

    A *region* is a maximal connected set of empty and opponent points holding at least one empty
    point. It is *vital* to a ``pla`` chain when every empty point of it (every point, opponent
    stones included, if multi-stone suicide is legal) is a liberty of that chain. Repeatedly, a
    chain with fewer than 2 vital regions not bordering a dead (non-pass-alive) chain dies; the
    survivors are pass-alive. Pass-alive territory: a region bordering only pass-alive chains with
    at most one point that is next to no ``pla`` stone (its opponent stones, if any, are dead)."""
    P = board.shape[0]
    for p in range(P):
        rid[p] = -1
        cid[p] = -1
    if not _label_chains(board, W, pla, cid, stack, vcount, killed):
        return
    n_regions = _label_regions(board, W, pla, suicide_legal, cid, rid, stack, v0, v1, v2, v3, internal, bdead)
    _benson_kill(board, W, pla, cid, rid, n_regions, v0, v1, v2, v3, bdead, vcount, killed)
    for p in range(P):
        if area[p] != EMPTY:
            continue
        if board[p] == pla:
            if killed[cid[p]] == 0:
                area[p] = pla
        elif rid[p] >= 0:
            g = rid[p]
            if internal[g] <= 1 and not bdead[g]:
                area[p] = pla


@njit(cache=True)
def pass_alive_area(board: np.ndarray, W: int, suicide_legal: bool, area: np.ndarray) -> None:
    """``area`` ([P] int8 or int32) = BLACK / WHITE on each colour's pass-alive stones and pass-alive
    territory of ``board`` ([P], padded), else EMPTY (black's first, as KataGo marks them)."""
    P = board.shape[0]
    w = np.empty((12, P), np.int32)
    for p in range(P):
        area[p] = EMPTY
    for pla in (BLACK, WHITE):
        pass_alive_work(board, W, pla, suicide_legal, area, w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[10])


WORK_ROWS = 13  # rows of a count's work array: [WORK_ROWS, P] int32 (``new_work``)


def new_work(n: int, batch: int | None = None) -> np.ndarray:
    """Work space of ``count_board_work`` / ``count_row``: ``[WORK_ROWS, P]`` (or ``[B, WORK_ROWS, P]``) int32."""
    shape = (WORK_ROWS, coords.num_points(n))
    return np.zeros(shape if batch is None else (batch, *shape), np.int32)


@njit(cache=True, inline="always")
def _pass_alive_both(board: np.ndarray, W: int, suicide_legal: bool, area: np.ndarray, work: np.ndarray) -> None:
    """``area`` (EMPTY on entry) = each colour's pass-alive stones and territory, black's first;
    ``work`` rows 0-8, 11 and 12 are its work space."""
    for pla in (BLACK, WHITE):
        pass_alive_work(board, W, pla, suicide_legal, area, work[0], work[1], work[2], work[3], work[4], work[5],
                        work[6], work[7], work[8], work[11], work[12])


@njit(cache=True, inline="always")
def _point_owner(c: int, touch: int, area: int, region: int, scoring: int, tax: int) -> int:
    """+1 / -1 where a point (its stone ``c``, and its ``touch``, ``area`` and ``region`` entries)
    counts for black / white, else 0."""
    if c == BLACK or c == WHITE:
        if scoring == 0:
            return 1 if c == BLACK else -1
        return 0
    if scoring == 1 and area != EMPTY:
        return 1 if area == BLACK else -1  # pass-alive territory
    if touch == BLACK or touch == WHITE:
        # Territory: a one-colour region, and with a tax only inside an independent one.
        if tax == 0 or region == touch:
            return 1 if touch == BLACK else -1
    return 0


@njit(cache=True, _nrt=False)
def count_board_work(board: np.ndarray, W: int, scoring: int, tax: int, suicide: int, owner: np.ndarray,
                     work: np.ndarray) -> tuple[int, int, int, int]:
    """Points of black and white (tax applied, before prisoners and komi), the black and the white
    stones found dead, and ``owner`` ([n*n] int8: +1 / -1 where a point counted for black / white,
    else 0) of a finished ``board`` ([P], padded; read only); ``work`` ([WORK_ROWS, P] int32) is
    work space. The one count: ``count``, ``count_row`` and ``board.score`` all run it.

    Area scoring: every stone on the board is alive. Territory scoring (KataGo's pass-alive
    shortcut): stones inside the opponent's pass-alive territory (``pass_alive_work``, with
    multi-stone suicide legal iff ``suicide`` is 1) are dead, taken off for the count (the caller
    adds them to the opponent's prisoners), and that territory counts for its owner whatever the
    tax; every other stone is alive and the rest is counted as under area rules' regions."""
    P = board.shape[0]
    n = W - 2
    touch, stack, region, filled, area, clean = work[0], work[1], work[2], work[3], work[9], work[10]
    for p in range(P):
        clean[p] = board[p]
        area[p] = EMPTY
    dead_black = 0
    dead_white = 0
    if scoring == 1:
        _pass_alive_both(board, W, suicide == 1, area, work)
        for p in range(P):
            c = board[p]
            if (c == BLACK or c == WHITE) and area[p] == 3 - c:
                clean[p] = EMPTY  # dead: inside the opponent's pass-alive territory
                if c == BLACK:
                    dead_black += 1
                else:
                    dead_white += 1
    _region_touches(clean, W, touch, stack)
    black_regions = 0
    white_regions = 0
    if tax != 0:
        for p in range(P):
            filled[p] = clean[p]
        fill_dame_work(filled, W, work[4], stack, work[5])
        black_regions, white_regions = independent_life_work(filled, W, region, work[4], stack, work[5], work[6], work[7], work[8])
    black = 0
    white = 0
    for a in range(n * n):
        p = (a // n + 1) * W + a % n + 1
        value = _point_owner(clean[p], touch[p], area[p], region[p], scoring, tax)
        owner[a] = value
        if value > 0:
            black += 1
        elif value < 0:
            white += 1
    if tax == 2:
        black -= 2 * black_regions
        white -= 2 * white_regions
    return black, white, dead_black, dead_white


@njit(cache=True, _nrt=False)
def count_row(s, b: int, scoring: int, tax: int, suicide: int, bonus: float, owner: np.ndarray, work: np.ndarray) -> float:
    """Black's margin of game ``b`` of a ``board.BoardState`` ``s`` counted as it stands (every stone
    alive but, under territory scoring, those inside the opponent's pass-alive territory; seki
    decided by independent-life regions): points by ``scoring`` (0 area, 1 territory), ``tax`` (0
    none, 1 seki, 2 all) and ``suicide`` (1: multi-stone suicide legal, for pass-alive), plus
    prisoners under territory scoring (``s.captured[b]`` and the dead stones), minus ``s.komi[b]``
    (which holds white's handicap bonus already in a ``history.BoardHistory`` position with
    handicap stones: ``rules.white_komi``) and ``bonus`` more points for white (the caller's
    handicap bonus where the komi does not hold it). ``owner`` ([n*n] int8) gets the counted points, ``work``
    ([WORK_ROWS, P] int32) is work space. The count of the self-play driver's final score and of
    the search's terminal values."""
    P = s.board.shape[1]
    W = int(np.sqrt(P) + 0.5)
    black, white, dead_black, dead_white = count_board_work(s.board[b], W, scoring, tax, suicide, owner, work)
    margin = float(black - white) - s.komi[b] - bonus
    if scoring == 1:
        # prisoners: white stones taken (or dead) minus black stones taken (or dead)
        margin += float(s.captured[b, 1] + dead_white - s.captured[b, 0] - dead_black)
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
    black_points, white_points, dead_black, dead_white = (
        int(x) for x in count_board_work(board, n + 2, int(rules.scoring), int(rules.tax), int(rules.suicide), owner, new_work(n)))
    bonus = handicap_bonus_points(rules.white_handicap_bonus, handicap)
    black_prisoners, white_prisoners = white_lost + dead_white, black_lost + dead_black
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
