"""Search trees as arrays with a leading batch axis (mctx layout), allocated once and reused.

Node ``i`` of row ``b`` is created by the ``i``-th simulation that reached a new node (node 0 is
the root), so a parent's id is always smaller than its children's ids and any prefix of the node
ids is itself a tree. Per-node arrays are ``[B, N]``, per-child arrays ``[B, N, A]``.

Point of view: every per-node value (``value_sum``, ``raw_value``) is from the view of the player
to move AT THAT NODE (the view the evaluator reports), so the parent sees child ``c``'s
Q as ``-value_sum[c] / visits[c]``.

Values are the search's utility (``selfplay.utility``): the win/loss value, plus a score utility
when the search has one. Then the tree also keeps the win/loss part alone (``win_loss_sum``,
``raw_win_loss``) for what must not see the score (win rates, resignation); without one those
arrays are zero-width and the win/loss value is ``value_sum`` itself (``win_loss_arrays``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from go_engine.compiled import row_kernel

ROOT = 0  # node id of every row's root
NO_PARENT = -1  # parent of the root
NO_ACTION = -1  # action into the root
UNVISITED = -1  # children[b, i, a]: a legal action whose child node was not created yet
ILLEGAL = -2  # children[b, i, a]: an illegal action (or the node is not expanded)


class Tree(NamedTuple):
    """A batch of search trees; see the module docstring for the invariants."""

    visits: np.ndarray  # [B, N] int32     simulations that passed through the node (its own evaluation included)
    value_sum: np.ndarray  # [B, N] float32 sum of backed-up values, side to move at the node
    value_sq_sum: np.ndarray  # [B, N] float32 sum of squared backed-up values (for the LCB)
    raw_value: np.ndarray  # [B, N] float32 evaluator value (exact value at terminals), side to move at the node
    parent: np.ndarray  # [B, N] int32     parent node, NO_PARENT at the root
    action: np.ndarray  # [B, N] int32     action from the parent, NO_ACTION at the root
    expanded: np.ndarray  # [B, N] bool     priors and legal children are set
    terminal: np.ndarray  # [B, N] bool     the game is over at this node (two passes or move cap)
    children: np.ndarray  # [B, N, A] int32 child node id, UNVISITED or ILLEGAL
    prior: np.ndarray  # [B, N, A] float32 prior probabilities (0 where illegal); the root's may hold noise
    num_nodes: np.ndarray  # [B] int32     nodes in use (ids 0 .. num_nodes-1)
    win_loss_sum: np.ndarray  # [B, N] float32 (or [B, 0]) sum of the backed-up win/loss values when values hold a score utility
    raw_win_loss: np.ndarray  # [B, N] float32 (or [B, 0]) evaluator win/loss value (exact at terminals) when values hold a score utility

    @property
    def batch_size(self) -> int:
        return self.visits.shape[0]

    @property
    def capacity(self) -> int:
        return self.visits.shape[1]

    @property
    def num_actions(self) -> int:
        return self.children.shape[2]


def new_tree(batch: int, capacity: int, num_actions: int, win_loss: bool = False) -> Tree:
    """Empty trees (each row: an unexpanded root), allocated once per worker; ``win_loss``: values
    will hold a score utility, so the win/loss part gets arrays of its own."""
    if batch < 1 or capacity < 2 or num_actions < 2:
        raise ValueError(f"tree needs batch >= 1, capacity >= 2, actions >= 2; got {batch}, {capacity}, {num_actions}")
    tree = Tree(
        visits=np.zeros((batch, capacity), np.int32),
        value_sum=np.zeros((batch, capacity), np.float32),
        value_sq_sum=np.zeros((batch, capacity), np.float32),
        raw_value=np.zeros((batch, capacity), np.float32),
        parent=np.full((batch, capacity), NO_PARENT, np.int32),
        action=np.full((batch, capacity), NO_ACTION, np.int32),
        expanded=np.zeros((batch, capacity), np.bool_),
        terminal=np.zeros((batch, capacity), np.bool_),
        children=np.full((batch, capacity, num_actions), ILLEGAL, np.int32),
        prior=np.zeros((batch, capacity, num_actions), np.float32),
        num_nodes=np.ones(batch, np.int32),
        win_loss_sum=np.zeros((batch, capacity if win_loss else 0), np.float32),
        raw_win_loss=np.zeros((batch, capacity if win_loss else 0), np.float32),
    )
    return tree


@njit(cache=True, inline="always")
def children_visits(t: Tree, b: int, node: int) -> int:
    """Sum of the visits of ``node``'s children (its visits less its own evaluations)."""
    total = 0
    for a in range(t.children.shape[2]):
        c = t.children[b, node, a]
        if c >= 0:
            total += t.visits[b, c]
    return total


@njit(cache=True, inline="always")
def action_visits(t: Tree, b: int, node: int, a: int) -> int:
    """Visits through ``node``'s action ``a``: its child's visits, 0 while the child node is not
    created yet, -1 where ``a`` is illegal (so ``n < 0`` skips it and ``n > 0`` means visited)."""
    c = t.children[b, node, a]
    if c >= 0:
        return t.visits[b, c]
    return 0 if c == UNVISITED else -1


@row_kernel
def clear_node(t: Tree, b: int, i: int, parent: int, action: int) -> None:
    """Make node ``i`` a fresh unexpanded node under ``parent``."""
    t.visits[b, i] = 0
    t.value_sum[b, i] = 0.0
    t.value_sq_sum[b, i] = 0.0
    t.raw_value[b, i] = 0.0
    t.parent[b, i] = parent
    t.action[b, i] = action
    t.expanded[b, i] = False
    t.terminal[b, i] = False
    if t.win_loss_sum.shape[1] > 0:
        t.win_loss_sum[b, i] = 0.0
        t.raw_win_loss[b, i] = 0.0


@row_kernel
def reset_row(t: Tree, b: int) -> None:
    """Row ``b`` becomes a single unexpanded root (nodes past it are stale and never read)."""
    clear_node(t, b, ROOT, NO_PARENT, NO_ACTION)
    t.children[b, ROOT, :] = ILLEGAL
    t.num_nodes[b] = 1


@row_kernel
def reroot_row(t: Tree, b: int, new_root: int, max_keep: int, remap: np.ndarray) -> int:
    """Make the subtree under ``new_root`` the whole tree of row ``b``, renumbered densely in
    creation order (so statistics are kept exactly and parents stay before children). At most
    ``max_keep`` nodes are kept; the dropped ones (the latest created) become UNVISITED children.
    ``remap`` is an ``[N] int32`` work array. Returns the number of nodes kept."""
    count = t.num_nodes[b]
    remap[:count] = -1
    remap[new_root] = 0
    kept = 1
    for i in range(new_root + 1, count):
        p = t.parent[b, i]
        if p >= new_root and remap[p] >= 0 and kept < max_keep:
            remap[i] = kept
            kept += 1
    # new ids never exceed old ids, so copying in ascending order reads every node before overwriting it
    A = t.children.shape[2]
    for i in range(new_root, count):
        j = remap[i]
        if j < 0:
            continue
        t.visits[b, j] = t.visits[b, i]
        t.value_sum[b, j] = t.value_sum[b, i]
        t.value_sq_sum[b, j] = t.value_sq_sum[b, i]
        t.raw_value[b, j] = t.raw_value[b, i]
        t.expanded[b, j] = t.expanded[b, i]
        t.terminal[b, j] = t.terminal[b, i]
        if t.win_loss_sum.shape[1] > 0:
            t.win_loss_sum[b, j] = t.win_loss_sum[b, i]
            t.raw_win_loss[b, j] = t.raw_win_loss[b, i]
        if j == 0:
            t.parent[b, j] = NO_PARENT
            t.action[b, j] = NO_ACTION
        else:
            t.parent[b, j] = remap[t.parent[b, i]]
            t.action[b, j] = t.action[b, i]
        for a in range(A):
            c = t.children[b, i, a]
            if c >= 0:
                c = remap[c] if remap[c] >= 0 else UNVISITED
            t.children[b, j, a] = c
            t.prior[b, j, a] = t.prior[b, i, a]
    t.num_nodes[b] = kept
    return kept


def row_to_dict(tree: Tree, b: int) -> dict[str, list]:
    """The used part of row ``b`` as plain lists (golden files, debugging)."""
    m = int(tree.num_nodes[b])
    return {
        "num_nodes": m,
        "visits": tree.visits[b, :m].tolist(),
        "value_sum": [round(float(v), 5) for v in tree.value_sum[b, :m]],
        "raw_value": [round(float(v), 5) for v in tree.raw_value[b, :m]],
        "parent": tree.parent[b, :m].tolist(),
        "action": tree.action[b, :m].tolist(),
        "expanded": tree.expanded[b, :m].astype(int).tolist(),
        "terminal": tree.terminal[b, :m].astype(int).tolist(),
        "children": tree.children[b, :m].tolist(),
        "prior": [[round(float(p), 5) for p in row] for row in tree.prior[b, :m]],
        **({"win_loss_sum": [round(float(v), 5) for v in tree.win_loss_sum[b, :m]],
            "raw_win_loss": [round(float(v), 5) for v in tree.raw_win_loss[b, :m]]} if tree.win_loss_sum.shape[1] else {}),
    }


def child_visits(tree: Tree, b: int, node: int = ROOT) -> np.ndarray:
    """``[A] int32`` visits of each child of ``node`` (0 for unvisited or illegal)."""
    idx = tree.children[b, node]  # [A]
    return np.where(idx >= 0, tree.visits[b, np.maximum(idx, 0)], 0).astype(np.int32)


def child_q(tree: Tree, b: int, node: int = ROOT) -> np.ndarray:
    """``[A] float32`` mean value (utility) of each visited child from ``node``'s side to move (NaN where unvisited)."""
    return _child_means(tree, tree.value_sum, b, node)


def child_win_loss(tree: Tree, b: int, node: int = ROOT) -> np.ndarray:
    """``[A] float32`` mean win/loss value of each visited child from ``node``'s side to move (NaN
    where unvisited): ``child_q`` without the score utility."""
    return _child_means(tree, win_loss_arrays(tree)[0], b, node)


def win_loss_arrays(tree: Tree) -> tuple[np.ndarray, np.ndarray]:
    """``(sums [B, N], raw [B, N])`` of the win/loss values: ``win_loss_sum`` / ``raw_win_loss`` when
    the values hold a score utility, else ``value_sum`` / ``raw_value`` (the same thing then)."""
    if tree.win_loss_sum.shape[1] > 0:
        return tree.win_loss_sum, tree.raw_win_loss
    return tree.value_sum, tree.raw_value


def _child_means(tree: Tree, sums: np.ndarray, b: int, node: int) -> np.ndarray:
    idx = tree.children[b, node]
    safe = np.maximum(idx, 0)
    n = tree.visits[b, safe].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = -sums[b, safe] / n
    return np.where((idx >= 0) & (n > 0), q, np.nan).astype(np.float32)
