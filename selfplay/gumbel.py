"""Gumbel root search pieces (Danihelka et al. 2022, as in mctx): sequential-halving visit schedule,
completed Q-values by the mixed value approximation, sigma(q), and the improved policy."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from go_engine.compiled import row_kernel
from selfplay.tree import Tree

TINY_PRIOR = 1e-30  # floor of a prior before taking its log (a legal move never gets -inf)


def considered_visit_sequence(max_considered: int, simulations: int) -> np.ndarray:
    """``[simulations] int32``: before root simulation ``k`` only considered actions with exactly
    ``seq[k]`` visits may be chosen (mctx's ``get_sequence_of_considered_visits``). Sequential
    halving: each phase gives every remaining action the same visits, then keeps the better half."""
    if max_considered <= 1:
        return np.arange(simulations, dtype=np.int32)
    log2max = int(math.ceil(math.log2(max_considered)))
    sequence: list[int] = []
    visits = [0] * max_considered
    num_considered = max_considered
    while len(sequence) < simulations:
        extra = max(1, int(simulations / (log2max * num_considered)))
        for _ in range(extra):
            sequence.extend(visits[:num_considered])
            for i in range(num_considered):
                visits[i] += 1
        num_considered = max(2, num_considered // 2)
    return np.asarray(sequence[:simulations], dtype=np.int32)


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
        if c == -2:  # ILLEGAL
            out[a] = 0.0
            continue
        q = mixed
        if c >= 0 and t.visits[b, c] > 0:
            q = -t.value_sum[b, c] / t.visits[b, c]
        out[a] = q
        lo = min(lo, q)
        hi = max(hi, q)
    span = max(hi - lo, 1e-8)
    scale = (c_visit + max_n) * c_scale
    for a in range(A):
        if t.children[b, node, a] != -2:
            out[a] = scale * (out[a] - lo) / span


@row_kernel
def improved_policy(t: Tree, b: int, node: int, c_visit: float, c_scale: float, qbuf: np.ndarray, out: np.ndarray) -> None:
    """``out`` ([A] float32) = softmax(log prior + sigma(completed Q)) over legal children (the
    Gumbel policy target); ``qbuf`` ([A] float32) is work space."""
    sigma_completed_q(t, b, node, c_visit, c_scale, qbuf)
    A = out.shape[0]
    top = -1e30
    for a in range(A):
        if t.children[b, node, a] != -2:
            out[a] = math.log(max(t.prior[b, node, a], TINY_PRIOR)) + qbuf[a]
            top = max(top, out[a])
    total = 0.0
    for a in range(A):
        if t.children[b, node, a] != -2:
            out[a] = math.exp(out[a] - top)
            total += out[a]
        else:
            out[a] = 0.0
    for a in range(A):
        out[a] /= total
