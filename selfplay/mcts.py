"""Batched MCTS: one search step picks one leaf in each of B games, evaluates all leaves in one
evaluator call, then expands and backs up; numba kernels do select/replay/encode and expand/backup.

A step is ``select_leaves`` (compiled, prange over games: PUCT or Gumbel descent (``selfplay.gumbel``
holds all of Gumbel's selection and targets; this module dispatches to it), the path's moves
replayed on a scratch copy of the root with ``board.copy_position_row`` + ``board.play_row_assume_legal``,
then ``features.encode_legal_row`` of each leaf: its planes and legal moves, compacted into the
first k rows of the evaluation batch) -> ``evaluator(planes, legal)``
(the only Python call, knowing nothing of the tree) -> ``expand_and_backup`` (compiled).

Rows run independent searches of their own length: a row whose search ended idles (contributes no
leaf) until ``start`` gives it a new one, so a game driver can play moves row by row. Terminal
leaves (two passes or the move cap) are valued exactly by the row's rules count
(``scoring.count_row``: area, every stone on the board alive; or territory + prisoners, with the
tax, stones inside the opponent's pass-alive territory dead) and never evaluated. Each row has its own rules (``set_rules``): one search serves a mix of
rule sets, as self-play's ``rules_mix`` draws them.
Values follow ``selfplay.tree``: each node's from the view of its own side to move. They are the
search's utility (``selfplay.utility``): the win/loss value, plus a score utility when the config
has one (then the evaluator must return its score lead, a terminal leaf's lead is its count, and the
tree keeps the win/loss part apart for ``root_value`` and the win rates reported).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from numba import njit, prange

from alphazero.config.search import SearchConfig
from go_engine import board as B
from go_engine import coords
from go_engine import features as F
from go_engine import scoring as S
from go_engine.compiled import row_kernel
from go_engine.rules import Rules
from selfplay import gumbel as G
from selfplay import move_choice
from selfplay import node_stats as NS
from selfplay import utility as U
from selfplay.search_state import BackupRows, KernelParams, RowState, backup_rows, kernel_params, new_rows, set_row_rules
from selfplay.tree import ILLEGAL, NO_PARENT, ROOT, UNVISITED, Tree, action_visits, child_q, child_visits, children_visits, clear_node, new_tree, reroot_row, reset_row, win_loss_arrays

# An evaluator: (planes [B, C, n, n] float32, legal [B, A] bool) -> (logits [B, A], value [B]) or
# (logits, value, aux dict). Values are P(win) - P(loss) from the side to move's view. It must not
# write into its inputs: the search keeps history planes from one step to the next.
Evaluator = Callable[[np.ndarray, np.ndarray], tuple]

FORCED_BONUS = 1e9  # added to the PUCT score of a child still owed forced playouts


# ---- kernels --------------------------------------------------------------------------------


@row_kernel
def terminal_margin(s: B.BoardState, b: int, st: RowState) -> float:
    """Black's margin of finished row ``b`` by the row's rules count (``scoring.count_row``; white's
    handicap bonus, where the game has one, is in the roots' komi: ``rules.white_komi``);
    ``st.owner[b]`` ([n*n] int8) gets the final ownership, stones included."""
    margin = S.count_row(s, b, st.scoring_rule[b], st.tax_rule[b], st.suicide_rule[b], 0.0, st.owner[b], st.score_work[b])
    S.stone_ownership_row(s, b, st.owner[b])
    return margin


@row_kernel
def leaf_score_utility(lead: float, st: RowState | BackupRows, b: int, depth: int, prm: KernelParams) -> float:
    """Score utility of a node ``depth`` plies below row ``b``'s root whose side to move leads by
    ``lead``: the row's dynamic center is the root's side to move's, so odd depths see it negated."""
    center = st.score_center[b] if depth % 2 == 0 else -st.score_center[b]
    return U.score_utility(lead, center, prm.static_score_factor, prm.static_score_scale, prm.dynamic_score_factor, prm.dynamic_score_scale)


@row_kernel
def puct_action(t: Tree, b: int, node: int, prm: KernelParams, forced: bool) -> int:
    """PUCT child of ``node``: argmax Q + c * P * sqrt(N) / (1 + n), c = c_init + log((N + c_base + 1) / c_base),
    N the node's visits; ties go to the lowest action. Unvisited children get Q = parent Q - fpu *
    sqrt(sum of visited priors), so the best of them is the one with the highest prior: one pass
    scores the visited children and finds that prior."""
    A = t.children.shape[2]
    N = t.visits[b, node]
    child_sum = children_visits(t, b, node) if forced else 0
    cp = prm.c_puct_init + math.log((N + prm.c_puct_base + 1.0) / prm.c_puct_base)
    explore = cp * math.sqrt(max(N, 1))
    visited_prior = 0.0
    best = -1
    best_score = -1e300
    best_unvisited = -1
    unvisited_prior = -1.0
    for a in range(A):
        n = action_visits(t, b, node, a)
        if n < 0:
            continue
        p = t.prior[b, node, a]
        if n > 0:
            visited_prior += p
            score = -t.value_sum[b, t.children[b, node, a]] / n + explore * p / (1.0 + n)
            if forced and p > 0.0 and n < math.sqrt(prm.forced_k * p * child_sum):
                score += FORCED_BONUS
            if score > best_score:
                best_score = score
                best = a
        elif p > unvisited_prior:
            unvisited_prior = p
            best_unvisited = a
    if best_unvisited >= 0:
        fpu = prm.fpu_reduction_root if node == ROOT else prm.fpu_reduction
        score = t.value_sum[b, node] / max(N, 1) - fpu * math.sqrt(visited_prior) + explore * unvisited_prior
        if forced and prm.forced_k * unvisited_prior * child_sum > 0.0:  # n = 0 < sqrt(k p sum)
            score += FORCED_BONUS
        if score > best_score or (score == best_score and best_unvisited < best):
            best = best_unvisited
    return best


# splitmix64 constants: the wide-root-noise draws are a hash of (seed, root visits, action), so a
# search is reproducible whatever thread runs its row.
_MIX_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


@row_kernel
def _mix64(x: np.uint64) -> np.uint64:
    z = x + _MIX_GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


@row_kernel
def _unit(x: np.uint64) -> float:
    """A uniform draw in (0, 1] from 53 bits of ``x``."""
    return (float(x >> np.uint64(11)) + 1.0) * (1.0 / 9007199254740992.0)


@row_kernel
def wide_root_bonus(seed: np.uint64, visits: int, a: int, num_actions: int, w: float) -> float:
    """KataGo's wideRootNoise Q bonus for root child ``a`` at this selection: with probability 1/2,
    ``w * |N(0, 1)|``, else 0."""
    h = _mix64(seed ^ np.uint64(visits * num_actions + a))
    if h & np.uint64(1):
        return 0.0
    h2 = _mix64(h)
    z = math.sqrt(-2.0 * math.log(_unit(h2))) * math.cos(2.0 * math.pi * _unit(_mix64(h2)))
    return w * abs(z)


@row_kernel
def wide_root_action(t: Tree, st: RowState, b: int, prm: KernelParams) -> int:
    """PUCT at the root under KataGo's wideRootNoise ``w``: each child's prior is flattened to
    ``p ** (1 / (4w + 1))`` in the exploration term and, per selection and child, its Q (the fpu value
    for an unvisited one) gets ``wide_root_bonus``, so the search spreads wider than the policy and
    values alone would send it. Noise is different for every child, so each unvisited child is
    scored on its own (``puct_action``'s best-unvisited shortcut does not hold)."""
    A = t.children.shape[2]
    N = t.visits[b, ROOT]
    w = float(st.wide_noise[b])
    power = 1.0 / (4.0 * w + 1.0)
    cp = prm.c_puct_init + math.log((N + prm.c_puct_base + 1.0) / prm.c_puct_base)
    explore = cp * math.sqrt(max(N, 1))
    visited_prior = 0.0
    for a in range(A):
        if action_visits(t, b, ROOT, a) > 0:
            visited_prior += t.prior[b, ROOT, a]
    fpu_q = t.value_sum[b, ROOT] / max(N, 1) - prm.fpu_reduction_root * math.sqrt(visited_prior)
    seed = st.wide_seed[b]
    best = -1
    best_score = -1e300
    for a in range(A):
        n = action_visits(t, b, ROOT, a)
        if n < 0:
            continue
        q = -t.value_sum[b, t.children[b, ROOT, a]] / n if n > 0 else fpu_q
        p = float(t.prior[b, ROOT, a]) ** power
        score = q + wide_root_bonus(seed, N, a, A, w) + explore * p / (1.0 + n)
        if score > best_score:
            best_score = score
            best = a
    return best


@row_kernel
def descend_row(t: Tree, st: RowState, b: int, prm: KernelParams) -> int:
    """Walk from the root to a new child (created here: node i on the i-th new simulation) or to
    a terminal node; the actions taken go to ``st.path[b]``. Returns the leaf; its depth is
    the leaf's number of ancestors (recovered by ``replay_path``)."""
    node = ROOT
    depth = 0
    while True:
        if t.terminal[b, node]:
            return node
        if st.use_gumbel[b] and node == ROOT:
            a = G.root_action(t, b, st.halving[b], st.level, st.gumbel[b], prm.gumbel_c_visit, prm.gumbel_c_scale, st.qbuf[b])
        elif st.use_gumbel[b]:
            a = G.interior_action(t, b, node, prm.gumbel_c_visit, prm.gumbel_c_scale, st.qbuf[b], st.pbuf[b])
        elif node == ROOT and st.wide_noise[b] > 0.0:
            a = wide_root_action(t, st, b, prm)
        else:
            a = puct_action(t, b, node, prm, st.forced[b] and node == ROOT)
        st.path[b, depth] = a
        depth += 1
        c = t.children[b, node, a]
        if c < 0:
            c = t.num_nodes[b]
            clear_node(t, b, c, node, a)
            t.children[b, node, a] = c
            t.num_nodes[b] = c + 1
            return c
        node = c


@row_kernel
def replay_path(t: Tree, st: RowState, b: int, leaf: int, roots: B.BoardState, scratch: B.BoardState, prm: KernelParams) -> int:
    """Scratch row ``b`` := the root position with the path's moves played; returns the path's
    length. The scratch state shares the roots' superko set: the slots the path's positions took
    go to ``st.seen_slots[b]``, and ``select_row`` clears them once the leaf is encoded."""
    depth = 0
    node = leaf
    while t.parent[b, node] != NO_PARENT:
        depth += 1
        node = t.parent[b, node]
    B.copy_position_row(roots, b, scratch, b)
    n = coords.stride_of(roots.board.shape[1]) - 2
    for i in range(depth):
        st.seen_slots[b, i] = B.play_row_assume_legal(scratch, b, coords.move_point(st.path[b, i], n), st.ko_rule[b], prm.max_moves)
    return depth


@row_kernel
def select_row(t: Tree, st: RowState, b: int, roots: B.BoardState, scratch: B.BoardState, prm: KernelParams, planes: np.ndarray, legal: np.ndarray, stats: NS.NodeStats) -> None:
    """Pick row ``b``'s leaf and leave its position in scratch row ``b``. A leaf that needs the
    evaluator is encoded into ``planes[b]`` / ``legal[b]`` at once (the scratch row is still in
    cache) and marked ``st.slot[b]`` = 0 (its real slot is assigned afterwards); -1 marks one
    that does not. On return the roots' superko set is as it was."""
    st.leaf[b] = -1
    st.slot[b] = -1
    depth = 0
    if st.root_pending[b]:
        B.copy_position_row(roots, b, scratch, b)
        st.leaf[b] = ROOT
        st.slot[b] = 0
    elif st.sims_left[b] > 0:
        leaf = descend_row(t, st, b, prm)
        st.leaf[b] = leaf
        if not t.terminal[b, leaf]:
            depth = replay_path(t, st, b, leaf, roots, scratch, prm)
            if scratch.done[b]:
                t.terminal[b, leaf] = True
                margin = terminal_margin(scratch, b, st)
                black = 1.0 if margin > 0 else (-1.0 if margin < 0 else 0.0)
                t.raw_value[b, leaf] = black if scratch.to_play[b] == B.BLACK else -black
                if prm.score_utility:  # the count's margin is the lead: an exact score utility too
                    lead = margin if scratch.to_play[b] == B.BLACK else -margin
                    t.raw_win_loss[b, leaf] = t.raw_value[b, leaf]
                    t.raw_value[b, leaf] += leaf_score_utility(lead, st, b, depth, prm)
                NS.record_terminal_row(stats, b, leaf, scratch, st.owner[b], margin)
            else:
                st.slot[b] = 0
    st.leaf_depth[b] = depth
    if st.slot[b] == 0:
        # Leaves at one depth below one root share all but their ``depth`` newest history steps:
        # when planes[b] holds the previous such leaf, only those are written. One legality scan
        # serves both the ko plane and the legal mask (superko sees the path).
        kept = st.planes_depth[b] == depth  # then the side to move, rules and komi planes are kept too
        steps = depth if kept else planes.shape[1]  # C exceeds the history: all
        F.encode_legal_row_newest(scratch, b, st.ko_rule[b], st.suicide_rule[b], st.scoring_rule[b], st.tax_rule[b],
                                  planes[b], legal[b], steps, kept)
        st.planes_depth[b] = depth
    B.unsee_row(scratch, b, st.seen_slots[b], depth)


@row_kernel
def compact_slots(slot: np.ndarray, planes: np.ndarray, legal: np.ndarray, planes_depth: np.ndarray) -> int:
    """Number the rows needing evaluation 0..k-1 in row order and move their inputs from
    ``planes[b]`` / ``legal[b]`` to ``planes[slot]`` / ``legal[slot]``; returns k. A slot never
    exceeds its row, so ascending rows read every input before it is overwritten. Row ``slot``'s
    own planes are gone then (``planes_depth`` -1)."""
    k = 0
    for b in range(slot.shape[0]):
        if slot[b] < 0:
            continue
        slot[b] = k
        if k != b:
            planes_depth[k] = -1
            for c in range(planes.shape[1]):
                for r in range(planes.shape[2]):
                    for q in range(planes.shape[3]):
                        planes[k, c, r, q] = planes[b, c, r, q]
            for a in range(legal.shape[1]):
                legal[k, a] = legal[b, a]
        k += 1
    return k


# Every write to a NamedTuple's array happens inside a called row function: numba 0.68 drops
# writes made directly in a prange body through a tuple attribute (st.leaf[b] = ...).
@njit(cache=True, parallel=True)
def select_leaves(t: Tree, st: RowState, roots: B.BoardState, scratch: B.BoardState, prm: KernelParams, planes: np.ndarray, legal: np.ndarray, stats: NS.NodeStats) -> int:
    """Pick one leaf per active row, replay it, and encode the ones that need the evaluator into
    ``planes[:k]`` ([B, C, n, n] float32) and ``legal[:k]`` ([B, A] bool). Returns k."""
    for b in prange(t.visits.shape[0]):
        select_row(t, st, b, roots, scratch, prm, planes, legal, stats)
    return compact_slots(st.slot, planes, legal, st.planes_depth)


@row_kernel
def expand_row(t: Tree, st: BackupRows, b: int, node: int, logits: np.ndarray, legal: np.ndarray) -> None:
    """Priors = softmax of the legal logits; children UNVISITED where legal, ILLEGAL elsewhere."""
    A = logits.shape[0]
    # float32 throughout: a float32 exp is about three times cheaper than numba's float64 one, and
    # the priors are stored as float32 anyway.
    top = np.float32(-1e30)
    for a in range(A):
        if legal[a] and logits[a] > top:
            top = logits[a]
    total = np.float32(0.0)
    for a in range(A):
        if legal[a]:
            e = math.exp(min(logits[a] - top, np.float32(0.0)))
            t.prior[b, node, a] = e
            t.children[b, node, a] = UNVISITED
            total += e
        else:
            t.prior[b, node, a] = 0.0
            t.children[b, node, a] = ILLEGAL
    scale = np.float32(1.0) / total
    for a in range(A):
        t.prior[b, node, a] *= scale
    t.expanded[b, node] = True
    if node == ROOT and st.noise_eps[b] > 0.0:
        eps = st.noise_eps[b]
        for a in range(A):
            if legal[a]:
                t.prior[b, node, a] = (1.0 - eps) * t.prior[b, node, a] + eps * st.noise[b, a]
        st.noise_eps[b] = 0.0


@row_kernel
def restrict_row(t: Tree, st: BackupRows, b: int, node: int, depth: int) -> None:
    """avoidMoves/allowMoves below the root (KataGo's avoidMoveUntilByLoc): the children of
    ``node``, ``depth`` plies down, that are banned for its side to move at that depth become
    ILLEGAL, so the search never enters them (priors kept, as KataGo does off the root). A node
    where every legal move is banned keeps them all."""
    side = depth & 1
    A = t.children.shape[2]
    left = 0
    for a in range(A):
        if t.children[b, node, a] != ILLEGAL and st.avoid[b, side, a] <= depth:
            left += 1
    if left == 0:
        return
    for a in range(A):
        if st.avoid[b, side, a] > depth:
            t.children[b, node, a] = ILLEGAL


@row_kernel
def backup_row(t: Tree, b: int, leaf: int, value: float, win_loss: float) -> None:
    """Add ``value`` (leaf's side to move) along the path, flipping sign at every ply; and
    ``win_loss``, its win/loss part, where the tree keeps it apart (a score utility)."""
    node = leaf
    v = value
    w = win_loss
    apart = t.win_loss_sum.shape[1] > 0
    while node != NO_PARENT:
        t.visits[b, node] += 1
        t.value_sum[b, node] += v
        t.value_sq_sum[b, node] += v * v
        if apart:
            t.win_loss_sum[b, node] += w
        v = -v
        w = -w
        node = t.parent[b, node]


@row_kernel
def expand_backup_row(t: Tree, st: BackupRows, b: int, logits: np.ndarray, values: np.ndarray, legal: np.ndarray, stats: NS.NodeStats, scores: np.ndarray, ownership: np.ndarray, prm: KernelParams) -> None:
    leaf = st.leaf[b]
    if leaf < 0:
        return
    s = st.slot[b]
    if s >= 0:
        v = values[s]
        w = v
        if prm.score_utility:
            if leaf == ROOT and st.root_pending[b]:  # a fresh root: the search's center is its score
                st.score_center[b] = U.dynamic_center(scores[s], prm.score_center_zero_weight, prm.dynamic_score_scale)
                st.center_stale[b] = False
            t.raw_win_loss[b, leaf] = w
            v = np.float32(w + leaf_score_utility(scores[s], st, b, st.leaf_depth[b], prm))
        t.raw_value[b, leaf] = v
        expand_row(t, st, b, leaf, logits[s], legal[s])
        if st.avoid_depth[b] > st.leaf_depth[b] > 0:
            restrict_row(t, st, b, leaf, st.leaf_depth[b])
        NS.record_eval_row(stats, b, leaf, s, scores, ownership)
    else:
        v = t.raw_value[b, leaf]
        w = t.raw_win_loss[b, leaf] if prm.score_utility else v
    backup_row(t, b, leaf, v, w)
    if leaf == ROOT and st.root_pending[b]:
        st.root_pending[b] = False
    else:
        st.sims_left[b] -= 1


@njit(cache=True, parallel=True)
def expand_and_backup(t: Tree, st: BackupRows, logits: np.ndarray, values: np.ndarray, legal: np.ndarray, stats: NS.NodeStats, scores: np.ndarray, ownership: np.ndarray, prm: KernelParams) -> None:
    """Expand every evaluated leaf from ``logits[slot]`` ([k, A]) / ``values[slot]`` ([k]) and back
    up every leaf of this step (terminal leaves with their exact value); with ``stats`` tracked,
    store each evaluated leaf's ``scores[slot]`` ([k]) and ``ownership[slot]`` ([k, n*n]); with a
    score utility (``prm``), back up value + the score utility of ``scores[slot]``."""
    for b in prange(t.visits.shape[0]):
        expand_backup_row(t, st, b, logits, values, legal, stats, scores, ownership, prm)


@row_kernel
def root_legal_row(roots: B.BoardState, b: int, ko_rule: int, suicide_rule: int, out: np.ndarray) -> int:
    return B.legal_row(roots, b, ko_rule, suicide_rule, out)


# ---- orchestration --------------------------------------------------------------------------


def search_sizes(config: SearchConfig, roots: B.BoardState, history: int | None, max_simulations: int | None) -> tuple[int, int]:
    """``(history, max_simulations)`` of a search over ``roots``, checked: by default every history
    step the roots keep and the config's simulations."""
    steps = roots.history.shape[1]
    history = steps if history is None else history
    if not 1 <= history <= steps:
        raise ValueError(f"history {history} must be in [1, {steps}] (the roots' history)")
    simulations = config.simulations if max_simulations is None else max_simulations
    if simulations < 1:
        raise ValueError(f"max_simulations must be >= 1, got {simulations}")
    return history, simulations


def checked_outputs(out: tuple, legal: np.ndarray, stats: NS.NodeStats, score_utility: bool, empty: tuple) -> tuple:
    """The evaluator's answer ``out`` for the k leaves of ``legal`` ([k, A] bool), checked, as the
    kernels take it: ``(logits [k, A], values [k], scores [k], ownership [k, n*n])`` float32. Scores
    and ownership only where ``stats`` tracks them (zeros for what the evaluator does not
    predict), else ``empty``'s zero-size ones."""
    k, A = legal.shape
    logits = np.ascontiguousarray(out[0], dtype=np.float32)
    values = np.ascontiguousarray(out[1], dtype=np.float32)
    if logits.shape != (k, A) or values.shape != (k,):
        raise ValueError(f"evaluator returned logits {logits.shape} and value {values.shape} for a batch of {k}; expected ({k}, {A}) and ({k},)")
    if not (np.isfinite(values).all() and np.isfinite(logits[legal]).all()):
        raise ValueError("evaluator returned NaN or inf for a legal move or a value")
    if stats.score.shape[1] == 0:
        return logits, values, empty[2], empty[3]
    aux = out[2] if len(out) > 2 else {}
    if score_utility and "score" not in aux:
        raise ValueError("the search's score utility (static/dynamic_score_utility_factor > 0) needs the evaluator's "
                         "score lead (aux 'score'); this evaluator returns none")
    scores = np.ascontiguousarray(aux["score"], np.float32) if "score" in aux else np.zeros(k, np.float32)
    n2 = A - 1
    if stats.ownership.shape[1] == 0:
        ownership = empty[3]
    elif "ownership" in aux:
        ownership = np.ascontiguousarray(aux["ownership"], np.float32)
    else:
        ownership = np.zeros((k, n2), np.float32)
    if scores.shape != (k,) or (ownership.shape[0] and ownership.shape != (k, n2)):
        raise ValueError(f"evaluator returned score {scores.shape} and ownership {ownership.shape} for a batch of {k}; expected ({k},) and ({k}, {n2})")
    return logits, values, scores, ownership


def plan_root(t: Tree, st: RowState, b: int, cfg: SearchConfig, rng: np.random.Generator, full: bool, legal: np.ndarray, num_legal: int, planned_visits: int) -> None:
    """Row ``b``'s root noise for the search it starts. With Gumbel: the Gumbel sample (zeros for a
    cheap search) and the halving widths over the root's ``planned_visits``. Else, for a full
    search: Dirichlet noise over the ``legal`` ([A] bool) moves, mixed into the priors now when
    the root is expanded, else when it is, and forced playouts as configured; a cheap one gets none."""
    st.use_gumbel[b] = cfg.gumbel
    st.noise_eps[b] = 0.0
    st.forced[b] = False
    if cfg.gumbel:
        st.gumbel[b], st.halving[b] = G.root_schedule(rng, t.num_actions, full, cfg.gumbel_considered, num_legal, planned_visits, t.capacity)
        st.level[b] = 0
    elif full and cfg.dirichlet_epsilon > 0.0:
        noise = np.zeros(t.num_actions, np.float64)
        noise[legal] = rng.dirichlet(np.full(num_legal, cfg.dirichlet_alpha_scale / num_legal))
        st.noise[b] = noise.astype(np.float32)
        st.forced[b] = cfg.forced_playouts_k > 0.0
        if t.expanded[b, ROOT]:
            eps = cfg.dirichlet_epsilon
            t.prior[b, ROOT, legal] = (1.0 - eps) * t.prior[b, ROOT, legal] + eps * st.noise[b, legal]
        else:
            st.noise_eps[b] = cfg.dirichlet_epsilon


class BatchedMCTS:
    """Searches over the games in ``roots`` (a ``BoardState`` the caller owns and plays moves on).

    ``start(rows, ...)`` begins a search in some rows; ``step()`` advances every active row by one
    simulation with one evaluator call; ``advance(row, action)`` re-roots a row after a move.
    ``search(...)`` runs whole searches for all rows at once (a single game is a batch of one).
    ``rules`` are every row's until ``set_rules`` gives a row others; ``feature_version`` is the
    input layout of the evaluator's network (``features.num_planes``)."""

    def __init__(self, config: SearchConfig, rules: Rules, roots: B.BoardState, evaluator: Evaluator, history: int | None = None, max_simulations: int | None = None, max_moves: int | None = None,
                 track_scores: bool = False, track_ownership: bool = False, feature_version: int = F.FEATURE_VERSION) -> None:
        nb, n = roots.batch_size, roots.size
        self.config = config
        self.rules = rules
        self.roots = roots
        self.evaluator = evaluator
        self.history, self.max_simulations = search_sizes(config, roots, history, max_simulations)
        A = n * n + 1
        self.num_actions = A
        self.params = kernel_params(config, rules, n)
        if max_moves is not None:
            self.params = self.params._replace(max_moves=int(max_moves))
        self.tree = new_tree(nb, config.capacity(self.max_simulations), A, win_loss=config.uses_score_utility)
        N = self.tree.capacity
        self.rows = new_rows(nb, N, A, n, rules)
        self.backup = backup_rows(self.rows)  # what expand_and_backup needs of it
        # The scratch rows (leaf positions) share the roots' superko set: a leaf's path inserts its
        # positions and removes them again within the step (``select_row``), so a simulation
        # copies no superko set.
        self.scratch = B.BoardState(*(np.zeros_like(field) for field in roots))._replace(seen=roots.seen)
        self.feature_version = feature_version
        self.planes = np.zeros((nb, F.num_planes(self.history, feature_version), n, n), np.float32)  # [B, C, n, n]
        self.legal = np.zeros((nb, A), np.bool_)  # [B, A]
        # Analysis statistics (selfplay.node_stats), off unless asked for: zero-width arrays then.
        # A score utility keeps each node's score: after a tree reuse its center is the kept root's mean.
        self.stats = NS.new_stats(nb, N, n, track_scores or config.uses_score_utility, track_ownership)
        # What the kernels get for a step without evaluations, and for the statistics not tracked.
        self._no_outputs = (np.zeros((0, A), np.float32), np.zeros(0, np.float32), np.zeros(0, np.float32), np.zeros((0, 0), np.float32))
        self._remap = np.zeros(N, np.int32)
        self._sign = np.zeros(N, np.float64)  # work space of ``node_stats.root_score_mean``
        self._legal_row = np.zeros(A, np.bool_)
        self.evaluations = 0  # leaves sent to the evaluator, for statistics
        self.searches = 0  # searches started, for statistics
        self.simulations_started = 0  # new simulations those searches were given
        self.kept_visits = 0  # root child visits the started searches found already there (tree reuse)

    def set_rules(self, b: int, rules: Rules) -> None:
        """Row ``b`` searches under ``rules`` (ko, suicide, scoring, tax) from its next search on;
        its komi is the roots' ``komi[b]``. Call between searches (after ``reset``)."""
        set_row_rules(self.rows, b, rules)

    # ---- starting and running searches ----------------------------------------------------------
    def start(self, rows, simulations: int | np.ndarray, rng: np.random.Generator, full_search: bool | np.ndarray = False, keep_tree: bool | None = None) -> None:
        """Begin a search of ``simulations`` new simulations in each of ``rows``. A full search of a
        self-play game gets Dirichlet noise (or fresh Gumbel noise) and forced playouts as
        configured; a cheap one none. The search starts from the row's tree as ``advance`` left it
        when the config reuses trees, else from a fresh root; ``keep_tree=True`` always continues
        the row's tree (a search run in chunks), False always starts fresh."""
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        sims = np.broadcast_to(np.asarray(simulations, dtype=np.int64), rows.shape)
        full = np.broadcast_to(np.asarray(full_search, dtype=np.bool_), rows.shape)
        keep = self.config.reuses_tree if keep_tree is None else keep_tree
        for b, s, f in zip(rows.tolist(), sims.tolist(), full.tolist()):
            self._start_row(b, s, rng, f, keep)

    def _start_row(self, b: int, simulations: int, rng: np.random.Generator, full: bool, keep_tree: bool) -> None:
        """``start`` in row ``b``: checks, the tree kept or fresh, the counters, the root's center and plan."""
        cfg, st, t = self.config, self.rows, self.tree
        if not 1 <= simulations <= self.max_simulations:
            raise ValueError(f"simulations must be in [1, {self.max_simulations}] (the tree's budget), got {simulations}")
        if self.roots.done[b]:
            raise ValueError(f"row {b}: the game is over; reset it before searching")
        if not keep_tree:
            self._fresh_row(b)
        free = t.capacity - int(t.num_nodes[b])
        if free < simulations:
            raise ValueError(f"row {b}: {free} free tree nodes for {simulations} simulations (advance() keeps room)")
        kept = int(child_visits(t, b).sum()) if t.expanded[b, ROOT] else 0
        self.searches += 1
        self.simulations_started += simulations
        self.kept_visits += kept
        st.sims_left[b] = simulations
        st.planes_depth[b] = -1  # the root may have changed since the last search
        st.root_pending[b] = not t.expanded[b, ROOT]
        if cfg.uses_score_utility and st.center_stale[b] and t.expanded[b, ROOT]:
            # A kept root: the center is its subtree's mean score (a fresh root's is set by its evaluation).
            expected = NS.root_score_mean(t, self.stats, b, self._sign)
            st.score_center[b] = U.dynamic_center(expected, cfg.dynamic_score_center_zero_weight, self.params.dynamic_score_scale)
            st.center_stale[b] = False
        num_legal = root_legal_row(self.roots, b, int(st.ko_rule[b]), int(st.suicide_rule[b]), self._legal_row)
        plan_root(t, st, b, cfg, rng, full, self._legal_row, num_legal, kept + simulations)

    def restrict(self, b: int, until: np.ndarray) -> None:
        """avoidMoves/allowMoves for row ``b``'s tree (kept while its searches continue it; a fresh
        root, ``advance`` or ``reset`` clears them):
        ``until`` ([2, A] ints) bans action a at depths below ``until[side, a]`` for the root's side
        to move (side 0) and the other side (1), depth 0 being the root. Below the root the search
        applies it when it expands a node; the root itself is the caller's (its priors are the
        caller's to renormalise, and a banned root move must not be searched before that)."""
        until = np.asarray(until)
        if until.shape != (2, self.num_actions) or (until < 0).any():
            raise ValueError(f"until must be [2, {self.num_actions}] non-negative ints, got {until.shape}")
        self.rows.avoid[b] = until
        self.rows.avoid_depth[b] = int(until.max())

    def restrict_root(self, b: int, temperature: float = 1.0) -> None:
        """Row ``b``'s ``restrict`` bans at its root, and a root policy temperature: call once the
        root is expanded and before any child is searched. Banned children become illegal and the
        allowed priors are renormalised, as KataGo does; a ban that leaves nothing to search is
        ignored (the root keeps every legal move)."""
        t = self.tree
        prior = t.prior[b, ROOT].astype(np.float64)
        legal = t.children[b, ROOT] != ILLEGAL
        allowed = legal & (self.rows.avoid[b, 0] == 0) if self.rows.avoid_depth[b] > 0 else legal
        if not allowed.any():
            allowed = legal
        if temperature != 1.0 or not np.array_equal(allowed, legal):
            p = np.where(allowed, np.maximum(prior, 1e-30) ** (1.0 / temperature), 0.0)
            t.prior[b, ROOT] = (p / p.sum()).astype(np.float32)
            t.children[b, ROOT, legal & ~allowed] = ILLEGAL

    def widen_root(self, b: int, noise: float, seed: int) -> None:
        """KataGo's wideRootNoise for row ``b``'s tree (cleared with the restrictions):
        root priors flattened and random Q bonuses (``wide_root_action``); 0 leaves the search as is."""
        if not (noise >= 0.0 and math.isfinite(noise)):
            raise ValueError(f"wide root noise must be a finite number >= 0, got {noise}")
        self.rows.wide_noise[b] = noise
        self.rows.wide_seed[b] = np.uint64(seed % 2**64)

    def _clear_options(self, b: int) -> None:
        self.rows.avoid_depth[b] = 0
        self.rows.wide_noise[b] = 0.0
        self.rows.center_stale[b] = True  # a new root: the next search sets its own center

    def _fresh_row(self, b: int) -> None:
        reset_row(self.tree, b)
        self._clear_options(b)

    def active(self) -> np.ndarray:
        """``[B] bool``: rows whose search is still running."""
        return (self.rows.sims_left > 0) | self.rows.root_pending

    def step(self) -> int:
        """One simulation in every active row with one evaluator call; returns the leaves evaluated."""
        k = select_leaves(self.tree, self.rows, self.roots, self.scratch, self.params, self.planes, self.legal, self.stats)
        logits, values, scores, ownership = self._no_outputs
        if k > 0:
            legal = self.legal[:k]
            out = self.evaluator(self.planes[:k], legal)
            logits, values, scores, ownership = checked_outputs(out, legal, self.stats, self.params.score_utility, self._no_outputs)
        expand_and_backup(self.tree, self.backup, logits, values, self.legal, self.stats, scores, ownership, self.params)
        self.evaluations += k
        return k

    def subtree_values(self, b: int) -> NS.SubtreeValues:
        """Row ``b``'s per-node score and ownership means/stdevs over each subtree (needs
        ``track_scores`` or ``track_ownership``); side to move at each node."""
        return NS.subtree_values(self.tree, self.stats, b)

    def search(self, rng: np.random.Generator, simulations: int | None = None, full_search: bool = False, rows=None) -> None:
        """Start a search in ``rows`` (default all) and step until every one has finished."""
        rows = np.arange(self.roots.batch_size) if rows is None else rows
        self.start(rows, self.max_simulations if simulations is None else simulations, rng, full_search)
        while self.active().any():
            self.step()

    # ---- results -----------------------------------------------------------------------------
    def root_visits(self, b: int) -> np.ndarray:
        """``[A] int32`` visits of the root's children."""
        return child_visits(self.tree, b)

    def root_value(self, b: int) -> float:
        """Mean win/loss value of row ``b``'s root, side to move's view (without the score utility:
        what resignation and win rates read)."""
        t = self.tree
        return float(win_loss_arrays(t)[0][b, ROOT] / max(t.visits[b, ROOT], 1))

    def root_utility(self, b: int) -> float:
        """Mean utility of row ``b``'s root, side to move's view (what the search maximises; the
        same as ``root_value`` without a score utility)."""
        t = self.tree
        return float(t.value_sum[b, ROOT] / max(t.visits[b, ROOT], 1))

    def policy_target(self, b: int) -> np.ndarray:
        """``[A] float32`` training target: Gumbel improved policy, or visit shares (forced
        playouts pruned when configured)."""
        t, cfg = self.tree, self.config
        if self.rows.use_gumbel[b]:
            return G.policy_target(t, b, cfg.gumbel_c_visit, cfg.gumbel_c_scale, self.rows.qbuf[b])
        visits = self.root_visits(b).astype(np.float64)
        if self.rows.forced[b] and cfg.prune_forced_playouts:
            visits = move_choice.prune_forced_playouts(
                visits, t.prior[b, ROOT].astype(np.float64), child_q(t, b).astype(np.float64), int(t.visits[b, ROOT]),
                cfg.c_puct_init, cfg.c_puct_base, cfg.forced_playouts_k,
            )  # fmt: skip
        total = visits.sum()
        if total <= 0:
            visits = self.root_visits(b).astype(np.float64)
            total = visits.sum()
        return (visits / total).astype(np.float32)

    def choose_action(self, b: int, temperature: float, rng: np.random.Generator) -> int:
        """Self-play move: Gumbel's chosen action, else a visit-count sample at ``temperature``."""
        if self.rows.use_gumbel[b]:
            return self.gumbel_action(b)
        return move_choice.sample_by_visits(self.root_visits(b), temperature, rng)

    def gumbel_action(self, b: int) -> int:
        """Row ``b``'s Gumbel move (``gumbel.chosen_action``)."""
        cfg = self.config
        return G.chosen_action(self.tree, b, self.rows.halving[b], self.rows.gumbel[b], cfg.gumbel_c_visit, cfg.gumbel_c_scale)

    def best_action_lcb(self, b: int) -> int:
        """Play (not self-play): max lower confidence bound among well-visited children, else max visits."""
        t = self.tree
        idx = t.children[b, ROOT]
        safe = np.maximum(idx, 0)
        visits = np.where(idx >= 0, t.visits[b, safe], 0)
        sums = np.where(idx >= 0, -t.value_sum[b, safe], 0.0)
        sq = np.where(idx >= 0, t.value_sq_sum[b, safe], 0.0)
        return move_choice.lcb_action(visits, sums, sq, self.config.lcb_z, self.config.lcb_min_visit_fraction)

    # ---- moving on -----------------------------------------------------------------------------
    def advance(self, b: int, action: int) -> None:
        """After ``action`` was played in row ``b``: its subtree becomes the tree (tree reuse), or
        the row starts from a fresh root. Call after playing the move on ``roots``."""
        t = self.tree
        child = int(t.children[b, ROOT, action]) if t.expanded[b, ROOT] else -1
        max_keep = t.capacity - self.max_simulations
        self._clear_options(b)  # depths count from the root: a new root drops them
        if not self.config.reuses_tree or child < 0 or max_keep < 1 or not t.expanded[b, child]:
            reset_row(t, b)
        else:
            count = int(t.num_nodes[b])
            reroot_row(t, b, child, max_keep, self._remap)
            NS.remap_row(self.stats, b, self._remap, count)
        self.rows.sims_left[b] = 0
        self.rows.root_pending[b] = False

    def stop(self, b: int) -> None:
        """End row ``b``'s search now (its tree keeps what was searched); the row goes idle."""
        self.rows.sims_left[b] = 0
        self.rows.root_pending[b] = False

    def reset(self, b: int) -> None:
        """Forget row ``b``'s tree (a new game started there)."""
        self._fresh_row(b)
        self.rows.sims_left[b] = 0
        self.rows.root_pending[b] = False

