"""What the search's kernels carry from step to step: ``KernelParams`` (the scalars of the search
config and the move cap) and ``RowState`` (each row's bookkeeping, its rules and work space),
built once per ``selfplay.mcts.BatchedMCTS`` with its tree."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from alphazero.config.search import SearchConfig
from go_engine import board as B
from go_engine import scoring as S
from go_engine.rules import Rules
from selfplay import utility as U


class KernelParams(NamedTuple):
    """Scalars the kernels need (from ``SearchConfig`` and the move cap; the rules are per row, in ``RowState``)."""

    c_puct_init: float
    c_puct_base: float
    fpu_reduction: float
    fpu_reduction_root: float
    forced_k: float
    gumbel_c_visit: float
    gumbel_c_scale: float
    max_moves: int
    score_utility: bool  # values hold win/loss + score utility (``selfplay.utility``)
    static_score_factor: float
    static_score_scale: float  # points: STATIC_SCORE_SCALE * sqrt(board area)
    dynamic_score_factor: float
    dynamic_score_scale: float  # points: dynamic_score_center_scale * sqrt(board area), also the center's cap
    score_center_zero_weight: float


class RowState(NamedTuple):
    """Per-game search bookkeeping and work space, allocated once with the tree."""

    sims_left: np.ndarray  # [B] int32      simulations still to run in the current search (0: idle)
    root_pending: np.ndarray  # [B] bool     the root must be evaluated first (not counted as a simulation)
    use_gumbel: np.ndarray  # [B] bool       Gumbel root/interior selection in this row's search
    forced: np.ndarray  # [B] bool           forced playouts at this root
    noise_eps: np.ndarray  # [B] float32     weight of ``noise`` mixed into the root priors when the root is expanded
    noise: np.ndarray  # [B, A] float32      Dirichlet sample over the root's legal moves
    gumbel: np.ndarray  # [B, A] float32     Gumbel(0, 1) sample per root action
    halving: np.ndarray  # [B, N] int32      Gumbel root: actions brought past each visit level (``gumbel.halving_level_widths``)
    level: np.ndarray  # [B] int32           Gumbel root: current sequential-halving level (never decreases within a search)
    leaf: np.ndarray  # [B] int32            node picked this step, or -1 (idle row)
    slot: np.ndarray  # [B] int32            row of the evaluation batch holding the leaf, or -1 (not evaluated)
    path: np.ndarray  # [B, N] int32         actions from the root to the leaf (work)
    seen_slots: np.ndarray  # [B, N] int64   superko-set slots taken by the path's positions (work)
    planes_depth: np.ndarray  # [B] int32    leaf depth whose stone-history planes planes[b] holds for this root, or -1
    qbuf: np.ndarray  # [B, A] float32       work space for Gumbel selection
    pbuf: np.ndarray  # [B, A] float32       work space for Gumbel selection
    owner: np.ndarray  # [B, n*n] int8       work space for exact terminal scoring
    score_work: np.ndarray  # [B, WORK_ROWS, P] int32  work space of ``scoring.count_row``
    ko_rule: np.ndarray  # [B] int32         the row's rules: ``KoRule`` value
    suicide_rule: np.ndarray  # [B] int32    ``SuicideRule`` value
    scoring_rule: np.ndarray  # [B] int32    ``ScoringRule`` value
    tax_rule: np.ndarray  # [B] int32        ``TaxRule`` value
    leaf_depth: np.ndarray  # [B] int32      plies from the root to this step's leaf
    avoid: np.ndarray  # [B, 2, A] int32     avoid/allowMoves: action banned at depths < this, for the root's side to move (0) / the other side (1)
    avoid_depth: np.ndarray  # [B] int32     the largest of ``avoid[b]`` (0: no restriction in this row's search)
    wide_noise: np.ndarray  # [B] float32    KataGo's wideRootNoise at this row's root (0: off)
    wide_seed: np.ndarray  # [B] uint64      seed of the wide-root-noise draws
    score_center: np.ndarray  # [B] float32  score utility's dynamic center, root's side to move's view, fixed for a search
    center_stale: np.ndarray  # [B] bool     the root changed since score_center was set (set anew when a search starts)


def kernel_params(config: SearchConfig, rules: Rules, n: int) -> KernelParams:
    """The kernels' scalars for searches under ``config`` on an ``n`` x ``n`` board (the move cap by ``rules``)."""
    sqrt_area = float(n)  # square boards
    return KernelParams(
        c_puct_init=float(config.c_puct_init),
        c_puct_base=float(config.c_puct_base),
        fpu_reduction=float(config.fpu_reduction),
        fpu_reduction_root=float(config.fpu_reduction_root),
        forced_k=float(config.forced_playouts_k),
        gumbel_c_visit=float(config.gumbel_c_visit),
        gumbel_c_scale=float(config.gumbel_c_scale),
        max_moves=int(B.move_cap(rules, n)),
        score_utility=bool(config.uses_score_utility),
        static_score_factor=float(config.static_score_utility_factor),
        static_score_scale=U.STATIC_SCORE_SCALE * sqrt_area,
        dynamic_score_factor=float(config.dynamic_score_utility_factor),
        dynamic_score_scale=float(config.dynamic_score_center_scale) * sqrt_area,
        score_center_zero_weight=float(config.dynamic_score_center_zero_weight),
    )


def new_rows(batch: int, capacity: int, num_actions: int, n: int, rules: Rules) -> RowState:
    """``batch`` idle rows searching under ``rules``, for trees of ``capacity`` nodes (N) over
    ``num_actions`` actions (A) on an ``n`` x ``n`` board."""
    A, N = num_actions, capacity
    starts = (  # (fields, shape after the batch axis, dtype, value before any search)
        (("sims_left", "level", "leaf_depth", "avoid_depth"), (), np.int32, 0),
        (("leaf", "slot", "planes_depth"), (), np.int32, -1),
        (("ko_rule", "suicide_rule", "scoring_rule", "tax_rule"), (), np.int32, 0),  # set_row_rules below
        (("root_pending", "use_gumbel", "forced"), (), np.bool_, False),
        (("center_stale",), (), np.bool_, True),
        (("noise_eps", "wide_noise", "score_center"), (), np.float32, 0.0),
        (("wide_seed",), (), np.uint64, 0),
        (("noise", "gumbel", "qbuf", "pbuf"), (A,), np.float32, 0.0),
        (("avoid",), (2, A), np.int32, 0),
        (("halving", "path"), (N,), np.int32, 0),
        (("seen_slots",), (N,), np.int64, 0),
        (("owner",), (n * n,), np.int8, 0),
    )
    fields = {name: np.full((batch, *shape), value, dtype) for names, shape, dtype, value in starts for name in names}
    rows = RowState(score_work=S.new_work(n, batch), **fields)
    set_row_rules(rows, slice(None), rules)
    return rows


class BackupRows(NamedTuple):
    """The fields of ``RowState`` that expanding and backing up use: the same arrays, fewer of
    them. Every array a compiled call receives is unboxed on each call (about 0.2 us), and the
    backup kernel runs once per simulation step: with a search of one game that is most of its cost."""

    sims_left: np.ndarray
    root_pending: np.ndarray
    noise_eps: np.ndarray
    noise: np.ndarray
    leaf: np.ndarray
    slot: np.ndarray
    leaf_depth: np.ndarray
    avoid: np.ndarray
    avoid_depth: np.ndarray
    score_center: np.ndarray
    center_stale: np.ndarray


def backup_rows(rows: RowState) -> BackupRows:
    """``rows``' ``BackupRows`` view (shares its arrays: a write through either is seen by both)."""
    return BackupRows(*(getattr(rows, name) for name in BackupRows._fields))


def set_row_rules(st: RowState, b: int | slice, rules: Rules) -> None:
    """Row ``b`` (or a slice of rows) searches under ``rules``: ko, suicide, scoring, tax."""
    st.ko_rule[b], st.suicide_rule[b] = int(rules.ko), int(rules.suicide)
    st.scoring_rule[b], st.tax_rule[b] = int(rules.scoring), int(rules.tax)
    st.planes_depth[b] = -1  # the rules planes changed
