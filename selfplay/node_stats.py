"""Score and ownership statistics of search nodes, for analysis: each node's own evaluation is
stored, and a node's subtree values (the visit-weighted mean over every evaluation made below it,
as KataGo averages them) are summed up on request.

Off in self-play, unless the search has a score utility (``selfplay.utility``), whose dynamic
center after a tree reuse is the kept root's mean score (``root_score_mean``; scores only): a
search built without them allocates zero-width arrays and the kernels skip them. The search calls ``record_eval_row`` when a leaf is evaluated and ``record_terminal_row``
when it first reaches a finished game; the rest runs only when someone asks for the values.

Point of view: as ``selfplay.tree``, each node's numbers are from the view of the player to move
AT THAT NODE (score: points that player leads by; ownership: +1 = that player owns the point).

Why this is the subtree mean: a node's ``visits`` count every evaluation that was backed up through
it, and the evaluations made AT the node (its own network call, or every visit of a terminal
node) number ``visits - sum of its children's visits``. Summing each node's own evaluation with
that weight over the subtree gives exactly the sums a backup along every path would have made,
without an n*n-wide backup in the search's hot loop. (After a tree reuse that dropped nodes, the
dropped subtrees' visits count as the parent's own evaluations: a small bias, no error.)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from go_engine import board as B
from go_engine.compiled import row_kernel
from selfplay.tree import NO_PARENT, Tree


class NodeStats(NamedTuple):
    """Each node's own evaluation; zero-width arrays when the search does not track them."""

    score: np.ndarray  # [B, N] float32         score lead of the node's evaluation (side to move at the node), or [B, 0]
    ownership: np.ndarray  # [B, N, n*n] float32  ownership of the node's evaluation (side to move), or [B, 0, 0]


class SubtreeValues(NamedTuple):
    """Visit-weighted means over each node's subtree (one row), side to move at the node."""

    score_mean: np.ndarray  # [N] float64
    score_stdev: np.ndarray  # [N] float64     spread of the evaluations' score leads
    ownership: np.ndarray  # [N, n*n] float64   mean ownership ([N, 0] when ownership is not tracked)
    ownership_stdev: np.ndarray  # [N, n*n] float64


def new_stats(batch: int, capacity: int, n: int, scores: bool, ownership: bool) -> NodeStats:
    """Arrays for ``batch`` trees of ``capacity`` nodes; ownership implies scores."""
    scores = scores or ownership
    return NodeStats(
        score=np.zeros((batch, capacity if scores else 0), np.float32),
        ownership=np.zeros((batch, capacity if ownership else 0, n * n if ownership else 0), np.float32),
    )


@row_kernel
def record_eval_row(stats: NodeStats, b: int, node: int, s: int, scores: np.ndarray, ownership: np.ndarray) -> None:
    """Store batch slot ``s``'s score ([k] float32) and ownership ([k, n*n] float32) as ``node``'s."""
    if stats.score.shape[1] == 0:
        return
    stats.score[b, node] = scores[s]
    if stats.ownership.shape[1] > 0:
        for i in range(stats.ownership.shape[2]):
            stats.ownership[b, node, i] = ownership[s, i]


@row_kernel
def record_terminal_row(stats: NodeStats, b: int, node: int, s: B.BoardState, owner: np.ndarray, margin: float) -> None:
    """A finished game's exact values: ``owner`` ([n*n] int8, +1 black) is its final ownership
    and ``margin`` black's count after komi (as ``mcts.terminal_margin`` left them)."""
    if stats.score.shape[1] == 0:
        return
    sign = 1.0 if s.to_play[b] == B.BLACK else -1.0
    stats.score[b, node] = sign * margin
    if stats.ownership.shape[1] > 0:
        for i in range(owner.shape[0]):
            stats.ownership[b, node, i] = sign * owner[i]


@row_kernel
def remap_row(stats: NodeStats, b: int, remap: np.ndarray, count: int) -> None:
    """Follow ``tree.reroot_row``'s renumbering (``remap[:count]``: new id or -1); new ids never
    exceed old ones, so ascending order reads each node before it is overwritten."""
    if stats.score.shape[1] == 0:
        return
    for i in range(count):
        j = remap[i]
        if j < 0 or j == i:
            continue
        stats.score[b, j] = stats.score[b, i]
        if stats.ownership.shape[1] > 0:
            for k in range(stats.ownership.shape[2]):
                stats.ownership[b, j, k] = stats.ownership[b, i, k]


@njit(cache=True)
def _subtree_sums(t: Tree, stats: NodeStats, b: int, s1: np.ndarray, s2: np.ndarray, o1: np.ndarray, o2: np.ndarray) -> None:
    """Per node: weighted sums of score, score^2, ownership, ownership^2 over its subtree (side to
    move at the node). Children have larger ids than parents, so one descending pass suffices."""
    m = t.num_nodes[b]
    own = o1.shape[1] > 0
    for i in range(m):
        s1[i] = 0.0
        s2[i] = 0.0
        if own:
            o1[i, :] = 0.0
            o2[i, :] = 0.0
    child_visits = np.zeros(m, np.int64)
    for i in range(1, m):
        p = t.parent[b, i]
        if p != NO_PARENT:
            child_visits[p] += t.visits[b, i]
    for i in range(m - 1, -1, -1):
        w = t.visits[b, i] - child_visits[i]
        if w > 0:
            v = float(stats.score[b, i])
            s1[i] += w * v
            s2[i] += w * v * v
            if own:
                for k in range(o1.shape[1]):
                    x = float(stats.ownership[b, i, k])
                    o1[i, k] += w * x
                    o2[i, k] += w * x * x
        p = t.parent[b, i]
        if i > 0 and p != NO_PARENT:
            # The parent's side to move is the child's opponent: means flip, squares do not.
            s1[p] -= s1[i]
            s2[p] += s2[i]
            if own:
                for k in range(o1.shape[1]):
                    o1[p, k] -= o1[i, k]
                    o2[p, k] += o2[i, k]


@njit(cache=True)
def root_score_mean(t: Tree, stats: NodeStats, b: int, sign: np.ndarray) -> float:
    """The root's subtree mean score (side to move at the root), as ``subtree_values`` gives it,
    without the other nodes' sums: each node's own evaluations weighted by its visits less its
    children's, counted with the sign of the root's view (``sign``: [N] float64 work space)."""
    total = float(t.visits[b, 0]) * stats.score[b, 0]
    sign[0] = 1.0
    for i in range(1, t.num_nodes[b]):
        p = t.parent[b, i]
        if p == NO_PARENT:
            continue
        sign[i] = -sign[p]  # parents come before children
        n = float(t.visits[b, i])
        # Node i's own weight is its visits less its children's: here it adds n at i and takes n at its parent.
        total += n * (sign[i] * stats.score[b, i] - sign[p] * stats.score[b, p])
    return total / max(float(t.visits[b, 0]), 1.0)


def subtree_values(t: Tree, stats: NodeStats, b: int) -> SubtreeValues:
    """Means and standard deviations over every node's subtree in row ``b`` (nodes 0..num_nodes-1)."""
    if stats.score.shape[1] == 0:
        raise ValueError("this search does not track scores (build it with track_scores=True)")
    m = int(t.num_nodes[b])
    width = stats.ownership.shape[2] if stats.ownership.shape[1] > 0 else 0
    s1, s2 = np.zeros(m), np.zeros(m)
    o1, o2 = np.zeros((m, width)), np.zeros((m, width))
    _subtree_sums(t, stats, b, s1, s2, o1, o2)
    n = np.maximum(t.visits[b, :m].astype(np.float64), 1.0)
    mean = s1 / n
    own = o1 / n[:, None]
    return SubtreeValues(
        score_mean=mean,
        score_stdev=np.sqrt(np.maximum(s2 / n - mean * mean, 0.0)),
        ownership=own,
        ownership_stdev=np.sqrt(np.maximum(o2 / n[:, None] - own * own, 0.0)),
    )

