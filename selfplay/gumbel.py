"""Gumbel MuZero's search (Danihelka et al. 2022, as in mctx), all of it: the sequential-halving
schedule (read from the root's visit counts, so a reused root works), completed Q-values by the
mixed value approximation, sigma(q) and the improved policy; the selection kernels at the root and
below it (``root_action``, ``interior_action``), and after a search the move played
(``chosen_action``) and the policy target (``policy_target``). ``selfplay.mcts`` only dispatches
here when a row searches with Gumbel."""

from __future__ import annotations

import math

import numpy as np

from go_engine.compiled import row_kernel
from selfplay.tree import ILLEGAL, ROOT, Tree, action_visits, child_visits, children_visits

TINY_PRIOR = 1e-30  # floor of a prior before taking its log (a legal move never gets -inf)
MIN_Q_SPAN = 1e-8  # floor of max Q - min Q when sigma rescales completed Q to [0, 1]
NO_VISIT_COUNT = 2147483647  # int32 max: no action has more visits than the level


def halving_level_widths(max_considered: int, total: int, levels: int) -> np.ndarray:
    """``[levels] int32``: ``widths[L]`` root actions are brought from L to L + 1 visits by sequential
    halving over ``max_considered`` actions planned for ``total`` root visits (mctx's schedule):
    every phase gives each remaining action the same visits, then keeps the better half, down to
    two. Widths never grow with L; past the planned phases they stay at two (one if m <= 1)."""
    if max_considered <= 1:
        return np.ones(levels, dtype=np.int32)
    log2max = int(math.ceil(math.log2(max_considered)))
    widths = np.full(levels, 2, dtype=np.int32)  # the last phase (two actions) repeats forever
    level = 0
    num_considered = max_considered
    while num_considered > 2 and level < levels:
        extra = max(1, int(total / (log2max * num_considered)))
        widths[level : level + extra] = num_considered
        level += extra
        num_considered = max(2, num_considered // 2)
    return widths


def root_schedule(rng: np.random.Generator, num_actions: int, full_search: bool, max_considered: int, num_legal: int, planned_visits: int,
                  levels: int) -> tuple[np.ndarray, np.ndarray]:
    """A search's root plan: ``(gumbel [A] float32, widths [levels] int32)``. The Gumbel(0, 1)
    sample of a full search (zeros for a cheap one: no exploration noise, the best prior first)
    and the halving widths over min(``max_considered``, legal moves) actions planned for the
    root's ``planned_visits`` after the search, so visits a reused root kept count toward the
    levels (on a fresh root: exactly mctx's schedule for the search's simulations)."""
    gumbel = rng.gumbel(size=num_actions).astype(np.float32) if full_search else np.zeros(num_actions, np.float32)
    return gumbel, halving_level_widths(min(max_considered, num_legal), planned_visits, levels)


def considered_visit_sequence(max_considered: int, simulations: int) -> np.ndarray:
    """``[simulations] int32``: before root simulation ``k`` of a fresh search only considered
    actions with exactly ``seq[k]`` visits may be chosen (mctx's ``get_sequence_of_considered_visits``):
    level L repeated ``widths[L]`` times."""
    widths = halving_level_widths(max_considered, simulations, simulations)
    return np.repeat(np.arange(simulations, dtype=np.int32), widths)[:simulations]


@row_kernel
def halving_level(t: Tree, b: int, widths: np.ndarray, level: int) -> int:
    """Sequential-halving level of row ``b``'s root: the smallest L >= ``level`` at which fewer than
    ``widths[L]`` ([W] int32, the last entry repeating) legal root actions have more than L visits.

    This reads the schedule from the visit counts instead of a simulation index, so it works on a
    reused root: an action's existing visits count toward the levels' targets, the search tops up
    the others. On a fresh root it gives exactly mctx's sequence (the level of simulation k is
    ``considered_visit_sequence[k]``). The level never decreases while a search adds visits, so a
    caller may resume from the last one."""
    A = t.children.shape[2]
    W = widths.shape[0]
    L = level
    while True:
        above = 0
        next_level = NO_VISIT_COUNT
        for a in range(A):
            n = action_visits(t, b, ROOT, a)  # -1 or 0 where illegal or unvisited: never above L >= 0
            if n > L:
                above += 1
                next_level = min(next_level, n)
        if above < widths[min(L, W - 1)]:
            return L
        # Up to the next visit count the same actions are above L and widths never grow: skip there.
        L = next_level


@row_kernel
def halving_action(t: Tree, b: int, level: int, gumbel: np.ndarray, c_visit: float, c_scale: float, qbuf: np.ndarray) -> int:
    """Root action at sequential-halving ``level``: among the legal actions with the most visits not
    above ``level`` (on a fresh root: exactly ``level``), argmax gumbel + log prior + sigma(completed
    Q); at level 0 this realises Gumbel top-k sampling, since unvisited actions share one completed
    Q. ``gumbel`` is ``[A] float32``, ``qbuf`` ``[A] float32`` work space."""
    A = t.children.shape[2]
    sigma_completed_q(t, b, ROOT, c_visit, c_scale, qbuf)
    target = -1
    for a in range(A):
        n = action_visits(t, b, ROOT, a)  # -1 where illegal: never above the target
        if target < n <= level:
            target = n
    best = -1
    best_score = -1e300
    fallback = -1
    fallback_score = -1e300
    for a in range(A):
        n = action_visits(t, b, ROOT, a)
        if n < 0:
            continue
        score = gumbel[a] + math.log(max(t.prior[b, ROOT, a], TINY_PRIOR)) + qbuf[a]
        if n == target and score > best_score:
            best_score = score
            best = a
        if score > fallback_score:
            fallback_score = score
            fallback = a
    return best if best >= 0 else fallback


@row_kernel
def sigma_completed_q(t: Tree, b: int, node: int, c_visit: float, c_scale: float, out: np.ndarray) -> None:
    """Fill ``out`` ([A] float32) with sigma(completed Q) of ``node``'s legal children, from the
    node's side to move: visited children keep their Q, unvisited ones get the mixed value
    (raw value blended with the prior-weighted Q of the visited ones); then min-max rescaled to
    [0, 1] and multiplied by (c_visit + max child visits) * c_scale. Illegal entries are 0."""
    A = out.shape[0]
    sum_n = 0
    max_n = 0
    sum_p = 0.0
    weighted = 0.0
    for a in range(A):
        c = t.children[b, node, a]
        if c >= 0 and t.visits[b, c] > 0:
            n = t.visits[b, c]
            q = -t.value_sum[b, c] / n
            p = max(t.prior[b, node, a], TINY_PRIOR)
            sum_n += n
            max_n = max(max_n, n)
            sum_p += p
            weighted += p * q
    raw = t.raw_value[b, node]
    mixed = raw if sum_n == 0 else (raw + sum_n * (weighted / sum_p)) / (sum_n + 1)
    lo = 1e30
    hi = -1e30
    for a in range(A):
        c = t.children[b, node, a]
        if c == ILLEGAL:
            out[a] = 0.0
            continue
        q = mixed
        if c >= 0 and t.visits[b, c] > 0:
            q = -t.value_sum[b, c] / t.visits[b, c]
        out[a] = q
        lo = min(lo, q)
        hi = max(hi, q)
    span = max(hi - lo, MIN_Q_SPAN)
    scale = (c_visit + max_n) * c_scale
    for a in range(A):
        if t.children[b, node, a] != ILLEGAL:
            out[a] = scale * (out[a] - lo) / span


@row_kernel
def improved_policy(t: Tree, b: int, node: int, c_visit: float, c_scale: float, qbuf: np.ndarray, out: np.ndarray) -> None:
    """``out`` ([A] float32) = softmax(log prior + sigma(completed Q)) over legal children (the
    Gumbel policy target); ``qbuf`` ([A] float32) is work space."""
    sigma_completed_q(t, b, node, c_visit, c_scale, qbuf)
    A = out.shape[0]
    top = -1e30
    for a in range(A):
        if t.children[b, node, a] != ILLEGAL:
            out[a] = math.log(max(t.prior[b, node, a], TINY_PRIOR)) + qbuf[a]
            top = max(top, out[a])
    total = 0.0
    for a in range(A):
        if t.children[b, node, a] != ILLEGAL:
            out[a] = math.exp(out[a] - top)
            total += out[a]
        else:
            out[a] = 0.0
    for a in range(A):
        out[a] /= total


# ---- selection inside the search (called by ``selfplay.mcts.descend_row``) -----------------------


@row_kernel
def root_action(t: Tree, b: int, widths: np.ndarray, levels: np.ndarray, gumbel: np.ndarray, c_visit: float, c_scale: float, qbuf: np.ndarray) -> int:
    """Sequential halving at row ``b``'s root (``halving_level`` from ``levels[b]`` on, reused visits
    included; the level reached is stored back), then ``halving_action`` at that level. ``widths``
    is the row's ``[N] int32`` schedule, ``levels`` ``[B] int32``."""
    level = halving_level(t, b, widths, levels[b])
    levels[b] = level
    return halving_action(t, b, level, gumbel, c_visit, c_scale, qbuf)


@row_kernel
def interior_action(t: Tree, b: int, node: int, c_visit: float, c_scale: float, qbuf: np.ndarray, pbuf: np.ndarray) -> int:
    """Deterministic non-root selection: argmax improved_policy(a) - n(a) / (1 + sum n); ``qbuf``
    and ``pbuf`` are ``[A] float32`` work space."""
    A = t.children.shape[2]
    improved_policy(t, b, node, c_visit, c_scale, qbuf, pbuf)
    total = children_visits(t, b, node)
    best = -1
    best_score = -1e300
    for a in range(A):
        n = action_visits(t, b, node, a)
        if n < 0:
            continue
        score = pbuf[a] - n / (1.0 + total)
        if score > best_score:
            best_score = score
            best = a
    return best


# ---- after the search ----------------------------------------------------------------------------


def policy_target(t: Tree, b: int, c_visit: float, c_scale: float, qbuf: np.ndarray) -> np.ndarray:
    """``[A] float32`` training target of row ``b``'s root: the improved policy; ``qbuf`` is work space."""
    out = np.zeros(t.children.shape[2], np.float32)
    improved_policy(t, b, ROOT, c_visit, c_scale, qbuf, out)
    return out


def chosen_action(t: Tree, b: int, widths: np.ndarray, gumbel: np.ndarray, c_visit: float, c_scale: float) -> int:
    """The move a Gumbel search plays: among the most visited considered actions, argmax gumbel +
    log prior + sigma(completed Q). Visits count up to one above the current halving level: on a
    reused root an action kept with more visits than the search's survivors competes with them,
    not alone. ``widths`` ([N] int32) and ``gumbel`` ([A] float32) are the row's root plan."""
    A = t.children.shape[2]
    q = np.zeros(A, np.float32)
    sigma_completed_q(t, b, ROOT, c_visit, c_scale, q)
    level = halving_level(t, b, widths, 0)
    visits = np.minimum(child_visits(t, b), level + 1)  # on a fresh root: the visits themselves
    legal = t.children[b, ROOT] != ILLEGAL
    score = gumbel + np.log(np.maximum(t.prior[b, ROOT], TINY_PRIOR)) + q
    score = np.where(legal & (visits == visits.max()), score, -np.inf)
    return int(np.argmax(score))
