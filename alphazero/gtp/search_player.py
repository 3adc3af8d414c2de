"""The GTP player: batched MCTS (a batch of one) over the game's history, reporting for analysis.

Search runs in chunks of simulations so it can stop on a visit budget, a time budget, a GUI's new
input (analysis, pondering), or a full tree. The tree is kept between moves: when the game goes on
from the searched position (our move, the opponent's reply), the subtree is reused, so visits
spent pondering on the opponent's time count (when the search config reuses trees: ``tree_reuse``,
or ``gumbel_tree_reuse`` for Gumbel search; else each move starts afresh). Reported scores (and
ownership, when the network has an ownership head) are the search's: visit-weighted over each
move's subtree (``selfplay.node_stats``). Ownership for scoring and dead stones comes from the
network's ownership head when it has one, else from random play-outs of the position.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Callable

import numpy as np

from alphazero.analysis.results import principal_variation
from alphazero.config.search import SearchConfig
from alphazero.gtp.analysis import Candidate, SearchReport
from go_engine import board as B
from go_engine import coords
from go_engine import features as F
from go_engine.history import BoardHistory
from selfplay.mcts import BatchedMCTS
from selfplay.tree import ROOT, child_q, child_visits, child_win_loss

CHUNK = 8  # simulations between checks of the clock / input / report interval
MAX_TREE_SIMULATIONS = 20_000  # simulations one search may add (tree memory ~ 2 N * A * 8 bytes)
MAX_REPLAYED_MOVES = 4  # a game that moved on by more than this from the tree's root gets a new tree
PLAYOUTS_FOR_OWNERSHIP = 128
PV_LENGTH = 12  # moves of a candidate's principal variation


class SearchPlayer:
    """``visits`` per move unless a time budget is given; ``history`` and ``feature_version`` are
    the network's. A version-1 network (area only) refuses territory rules (``check_rules``) unless
    ``substitute_rules``, when it plays them with a warning."""

    def __init__(self, evaluator, search: SearchConfig, visits: int, history: int, seed: int = 0,
                 max_tree_simulations: int = MAX_TREE_SIMULATIONS, has_ownership: bool = False,
                 feature_version: int = F.FEATURE_VERSION, substitute_rules: bool = False) -> None:
        # Play uses no root noise and no forced playouts; the search is plain PUCT with LCB choice.
        self.search_config = replace(search, dirichlet_epsilon=0.0, forced_playouts_k=0.0, gumbel=False)
        self.evaluator = evaluator
        self.visits = visits
        self.history = history
        self.feature_version = feature_version
        self.substitute_rules = substitute_rules
        self.rng = np.random.default_rng(seed)
        self.max_tree_simulations = max(visits, max_tree_simulations)
        self.has_ownership = has_ownership
        self._mcts: BatchedMCTS | None = None  # the kept tree (a batch of one)
        self._key = None  # (size, rules) the tree was built for
        self._setup: list = []  # the game's setup and moves at the tree's root
        self._moves: list = []

    def check_rules(self, rules) -> str | None:
        """None when the network plays ``rules``; a warning when it substitutes area-trained play;
        ``features.RulesNotSupported`` naming the problem otherwise."""
        return F.check_rules_supported(rules, self.feature_version, self.substitute_rules, where="the network")

    # ---- the search --------------------------------------------------------------------------
    def _root_estimates(self, game: BoardHistory) -> tuple[float, np.ndarray | None]:
        """(score lead of the side to move, ownership [n*n] side to move) from the network, if it has them."""
        planes = F.encode(game.state, game.rules, history=self.history, version=self.feature_version)
        legal = B.legal_mask(game.state, game.rules)
        out = self.evaluator(planes, legal)
        aux = out[2] if len(out) > 2 else {}
        score = float(aux["score"][0]) if "score" in aux else 0.0
        ownership = np.asarray(aux["ownership"][0], np.float32) if "ownership" in aux else None
        return score, ownership

    def _tree_for(self, game: BoardHistory, allow_pass: bool, fresh: bool = False) -> BatchedMCTS:
        """The kept tree advanced to the game's position, or a fresh one (``fresh``: always)."""
        key = (game.size, game.rules)
        if self._mcts is None or self._key != key:
            state = B.take_rows(game.state, [0])
            self._mcts = BatchedMCTS(self.search_config, game.rules, state, self.evaluator, history=self.history,
                                     max_simulations=self.max_tree_simulations, max_moves=B.capacity(state),
                                     track_scores=True, track_ownership=self.has_ownership,
                                     feature_version=self.feature_version)
            self._key, self._setup, self._moves = key, None, []
        mcts = self._mcts
        roots = mcts.roots
        reusable = (
            allow_pass
            and not fresh
            and self._setup == game.setup
            and game.moves[: len(self._moves)] == self._moves
            and len(game.moves) - len(self._moves) <= MAX_REPLAYED_MOVES
        )
        if reusable:
            for colour, action in game.moves[len(self._moves):]:
                p = -1 if action == game.size * game.size else int(coords.action_to_point(action, game.size))
                if roots.to_play[0] != colour or B.move_status_row(roots, 0, p, int(game.rules.ko), int(game.rules.suicide)) != B.LEGAL:
                    reusable = False
                    break
                B.play_row_assume_legal(roots, 0, p, int(game.rules.ko), B.capacity(roots))
                roots.done[0] = False
                mcts.advance(0, action)
        if not reusable or roots.pos_hash[0] != game.state.pos_hash[0] or roots.to_play[0] != game.state.to_play[0]:
            B.copy_row(game.state, 0, roots, 0)
            mcts.reset(0)
        roots.done[0] = False  # GTP games go on after two passes (cleanup, disputes)
        if not allow_pass:
            roots.passes[0] = 0
        # A cleanup search (no pass) is not kept: its root differs from the game's; nor is a
        # restricted one (avoid/allow): its banned root moves were never searched.
        self._setup, self._moves = (list(game.setup), list(game.moves)) if allow_pass and not fresh else (None, [])
        return mcts

    def think(self, game: BoardHistory, seconds: float | None, report: Callable[[SearchReport], None] | None = None,
              report_every: float | None = None, should_stop: Callable[[], bool] | None = None,
              allow_pass: bool = True, restriction: np.ndarray | None = None) -> SearchReport:
        """Search until the root has ``visits`` visits (kept visits count), ``seconds`` pass, the
        tree is full, or ``should_stop()``; ``seconds`` None = the visit budget, inf = until stopped.
        ``restriction`` ([2, A] ints, ``BatchedMCTS.restrict``'s): avoid/allow, on a fresh tree."""
        mcts = self._tree_for(game, allow_pass, fresh=restriction is not None)
        t = mcts.tree
        if restriction is not None:
            mcts.restrict(0, restriction)
        root_ready = restriction is None
        score, ownership = self._root_estimates(game)
        started = time.monotonic()
        deadline = started + seconds if seconds is not None and math.isfinite(seconds) else None
        target = self.visits if seconds is None else None
        next_report = started + (report_every or 0.0)
        added = 0
        while added < self.max_tree_simulations:
            chunk = min(CHUNK, self.max_tree_simulations - added)
            if target is not None:
                chunk = min(chunk, target - int(t.visits[0, ROOT]))
            if chunk <= 0 or t.capacity - int(t.num_nodes[0]) < chunk:
                break
            mcts.start([0], chunk, self.rng, full_search=False, keep_tree=True)  # chunks continue one search
            while mcts.active().any():
                mcts.step()
                if not root_ready and t.expanded[0, ROOT]:
                    mcts.restrict_root(0)  # before any child is searched
                    root_ready = True
            added += chunk
            now = time.monotonic()
            if report is not None and report_every is not None and now >= next_report:
                report(self._report(mcts, game, score, ownership, allow_pass))
                next_report = now + report_every
            if deadline is not None and now >= deadline:
                break
            if should_stop is not None and should_stop():
                break
        return self._report(mcts, game, score, ownership, allow_pass)

    def _report(self, mcts: BatchedMCTS, game: BoardHistory, score: float, ownership, allow_pass: bool) -> SearchReport:
        t = mcts.tree
        n = game.size
        visits = child_visits(t, 0)
        q = child_q(t, 0)  # parent's (side to move's) view: utility
        wl = child_win_loss(t, 0)  # its win/loss part (the same without a score utility)
        utility = mcts.config.uses_score_utility
        prior = t.prior[0, ROOT]
        values = mcts.subtree_values(0)  # each node's side to move: a child's numbers flip sign for the root
        own = values.ownership.shape[1] > 0
        order = [int(a) for a in np.argsort(-visits, kind="stable") if visits[a] > 0]
        if not allow_pass:
            order = [a for a in order if a != n * n]
        candidates = []
        for a in order[:20]:
            child = int(t.children[0, ROOT, a])
            v = int(visits[a])
            mean = float(q[a])
            win = float(wl[a])
            var = float(t.value_sq_sum[0, child]) / v - mean * mean if v > 1 else 1.0
            stderr = math.sqrt(max(var, 0.0) / v) if v > 1 else 1.0
            pv, pv_visits = principal_variation(mcts, 0, a, PV_LENGTH)  # the most visited line, its visits
            candidates.append(Candidate(
                action=a, visits=v, winrate=(1.0 + win) / 2.0, prior=float(prior[a]),
                lcb=max(0.0, (1.0 + win - mcts.config.lcb_z * stderr) / 2.0),  # the utility's radius on the win rate
                score_lead=-float(values.score_mean[child]), pv=tuple(pv),
                score_stdev=float(values.score_stdev[child]), utility=mean, pv_visits=tuple(pv_visits),
                utility_lcb=mean - mcts.config.lcb_z * stderr if utility else None,
                ownership=-values.ownership[child] if own else None,
                ownership_stdev=values.ownership_stdev[child] if own else None,
            ))
        best = mcts.best_action_lcb(0)
        if not allow_pass and best == n * n:
            best = order[0] if order else n * n
        if candidates:
            # The chosen move first: GUIs show order 0 as the engine's choice.
            candidates.sort(key=lambda c: c.action != best)
        root_value = mcts.root_value(0)
        if t.visits[0, ROOT] > 0:
            score = float(values.score_mean[ROOT])
            if own:
                ownership = values.ownership[ROOT].astype(np.float32)
        return SearchReport(tuple(candidates), int(t.visits[0, ROOT]), (1.0 + root_value) / 2.0, score,
                            ownership, best if order or best != n * n else n * n,
                            score_stdev=float(values.score_stdev[ROOT]) if t.visits[0, ROOT] > 0 else 0.0,
                            ownership_stdev=values.ownership_stdev[ROOT].astype(np.float32) if own and t.visits[0, ROOT] > 0 else None,
                            utility=mcts.root_utility(0) if utility else None)

    # ---- ownership ---------------------------------------------------------------------------
    def ownership(self, game: BoardHistory) -> np.ndarray:
        """``[n*n] float32``, black's view: the ownership head if the network has one, else the
        mean final ownership of random play-outs (own eyes never filled) from the position."""
        if self.has_ownership:
            _, own = self._root_estimates(game)
            if own is not None:
                return own if game.to_play == B.BLACK else -own
        return playout_ownership(game, PLAYOUTS_FOR_OWNERSHIP, int(self.rng.integers(2**31)))


def playout_ownership(game: BoardHistory, playouts: int, seed: int) -> np.ndarray:
    state = B.take_rows(game.state, np.zeros(playouts, np.int64))
    state.done[:] = False
    state.passes[:] = 0
    B.play_random_games(state, game.rules, seed, avoid_eyes=True, max_moves=B.capacity(state))
    _, owner = B.score(state)
    return owner.astype(np.float32).mean(axis=0)
