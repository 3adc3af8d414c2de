"""The analysis engine's scheduler: every analysed turn of every pending query becomes a job, and
the jobs run as rows of batched searches (one ``BatchedMCTS`` per board size and rule set), so
one evaluator call serves all of them; results go out as each turn finishes.

Threads: ``submit`` (the input reader) parses a line, answers errors/warnings/actions at once and
queues jobs; ``run`` (the search loop) admits queued jobs into free rows by priority, steps the
searches, and writes during-search reports and final results. They share one lock; the search
itself runs outside it, and terminations are carried out by the search loop between steps.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from alphazero.analysis import results as R
from alphazero.analysis.query import Action, Defaults, Query, parse_line
from alphazero.config.search import SearchConfig
from go_engine import board as B
from go_engine.rules import Rules
from selfplay.mcts import BatchedMCTS
from selfplay.tree import ROOT

KATAGO_VERSION = "1.15.3"  # the KataGo analysis protocol version whose fields we answer with
ENGINE_HASH = "alphazero-go"


@dataclass(eq=False)
class Job:
    """One analysed turn of one query."""

    query: Query
    turn: int
    state: B.BoardState  # the position, a batch of one
    priority: int
    seq: int
    lane: "Lane | None" = None
    row: int = -1
    started: float = 0.0
    next_report: float | None = None
    terminated: bool = False
    root_ready: bool = False
    raw_policy: np.ndarray | None = None  # [A] the root's priors as the network gave them
    hashes: tuple[str, str] = ("", "")


@dataclass(eq=False)
class Lane:
    """A batched search over ``rows`` roots of one board size and rule set."""

    mcts: BatchedMCTS
    rules: Rules
    jobs: dict[int, Job] = field(default_factory=dict)  # row -> running job

    def free_row(self) -> int:
        for b in range(self.mcts.roots.batch_size):
            if b not in self.jobs:
                return b
        return -1


class AnalysisEngine:
    """``submit(line)`` from any thread; ``run()`` in one thread until ``close_input()`` and all
    queued work is done. ``emit(obj)`` writes one result object (called with a write lock held)."""

    def __init__(self, evaluator, history: int, defaults: Defaults, emit: Callable[[dict], None],
                 rows: int = 64, search: SearchConfig | None = None, log: Callable[[str], None] | None = None,
                 seed: int = 0) -> None:
        if rows < 1:
            raise ValueError(f"rows must be >= 1, got {rows}")
        self.evaluator = evaluator
        self.history = history
        self.defaults = defaults
        self.rows = rows
        base = search or SearchConfig()
        # Analysis searches without root noise or forced playouts, PUCT with LCB ordering, a fresh tree per turn.
        self.search = replace(base, dirichlet_epsilon=0.0, forced_playouts_k=0.0, gumbel=False, tree_reuse=False)
        self.log = log or (lambda text: None)
        self.rng = np.random.default_rng(seed)
        self._emit = emit
        self._write_lock = threading.Lock()
        self._cond = threading.Condition()
        self._pending: list[tuple[int, int, Job]] = []  # heap of (-priority, seq, job)
        self._lanes: dict[tuple, Lane] = {}
        self._seq = itertools.count()
        self._eof = False
        self._clear_requests: list[dict] = []
        self.positions_analysed = 0  # finished turns, for statistics

    # ---- output --------------------------------------------------------------------------------
    def emit(self, obj: dict) -> None:
        with self._write_lock:
            self._emit(obj)

    # ---- input (any thread) ------------------------------------------------------------------
    def submit(self, line: str) -> None:
        """Handle one input line: errors and warnings are written now, jobs are queued."""
        parsed = parse_line(line, self.defaults)
        if parsed is None:
            return
        for reply in parsed.replies:
            self.emit(reply)
        if parsed.action is not None:
            self._action(parsed.action)
        elif parsed.query is not None:
            q = parsed.query
            with self._cond:
                for turn, state, priority in zip(q.positions.turns, q.positions.states, q.priorities):
                    job = Job(q, turn, state, priority, next(self._seq))
                    heapq.heappush(self._pending, (-priority, job.seq, job))
                self._cond.notify_all()

    def close_input(self) -> None:
        """No more input (stdin EOF): ``run`` returns once the queued queries are answered."""
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def _action(self, action: Action) -> None:
        if action.action == "query_version":
            self.emit({**action.raw, "version": KATAGO_VERSION, "git_hash": ENGINE_HASH})
            return
        if action.action == "clear_cache":
            with self._cond:
                self._clear_requests.append(action.raw)
                self._cond.notify_all()
            return
        # terminate / terminate_all: the echo at once, then queued turns get noResults; running
        # ones stop at the search loop's next check and report what they have.
        self.emit(action.raw)
        with self._cond:
            def hit(job: Job) -> bool:
                if action.action == "terminate" and job.query.id != action.terminate_id:
                    return False
                return action.turn_numbers is None or job.turn in action.turn_numbers

            kept = []
            for item in self._pending:
                if hit(item[2]):
                    self.emit(R.no_results(item[2].query.id, item[2].turn))
                else:
                    kept.append(item)
            heapq.heapify(kept)
            self._pending = kept
            for lane in self._lanes.values():
                for job in lane.jobs.values():
                    if hit(job):
                        job.terminated = True
            self._cond.notify_all()

    # ---- the search loop ---------------------------------------------------------------------
    def _lane(self, query: Query) -> Lane:
        key = (query.size, query.rules.with_komi(0.0))
        lane = self._lanes.get(key)
        if lane is None:
            rules = query.rules
            roots = B.state_for(rules, self.rows, query.size, history=self.history)
            mcts = BatchedMCTS(self.search, rules, roots, self.evaluator, history=self.history,
                               max_simulations=self.defaults.max_visits, track_ownership=True,
                               feature_version=self.defaults.feature_version)
            lane = self._lanes[key] = Lane(mcts, rules)
        return lane

    def _admit(self, now: float) -> None:
        """Queued jobs into free rows, highest priority (then oldest) first."""
        skipped = []
        while self._pending:
            item = heapq.heappop(self._pending)
            job = item[2]
            lane = self._lane(job.query)
            b = lane.free_row()
            if b < 0:
                skipped.append(item)
                continue
            B.copy_row(job.state, 0, lane.mcts.roots, b)
            lane.mcts.roots.done[b] = False  # a finished game is analysed too (a pass ends it again)
            lane.mcts.start([b], max(1, job.query.max_visits - 1), self.rng)
            if job.query.restriction is not None:
                lane.mcts.restrict(b, job.query.restriction.for_root(int(lane.mcts.roots.to_play[b])))
            if job.query.wide_root_noise > 0.0:
                lane.mcts.widen_root(b, job.query.wide_root_noise, int(self.rng.integers(2**63)))
            job.lane, job.row, job.started = lane, b, now
            q = job.query
            if q.report_every is not None:
                job.next_report = now + (q.first_report_after if q.first_report_after is not None else q.report_every)
            job.hashes = R.position_hashes(job.state, job.query.rules)
            lane.jobs[b] = job
        for item in skipped:
            heapq.heappush(self._pending, item)

    def _prepare_root(self, job: Job) -> None:
        """Once the root is expanded: keep the network's priors, then apply the root policy
        temperature and avoidMoves/allowMoves at the root (the search applies them below it)
        before any child is searched; the allowed moves' priors are renormalised, as KataGo does."""
        t, b = job.lane.mcts.tree, job.row
        job.raw_policy = t.prior[b, ROOT].astype(np.float32)
        job.lane.mcts.restrict_root(b, job.query.root_policy_temperature)
        job.root_ready = True

    def _finish(self, job: Job) -> None:
        lane, b = job.lane, job.row
        lane.mcts.stop(b)
        del lane.jobs[b]
        if int(lane.mcts.tree.visits[b, ROOT]) == 0:
            self.emit(R.no_results(job.query.id, job.turn))
        else:
            self.emit(self._result(job, during=False))
        self.positions_analysed += 1

    def _result(self, job: Job, during: bool) -> dict:
        return R.result_json(job.query, job.turn, job.lane.mcts, job.row, job.raw_policy, during, self.search.lcb_z, job.hashes)

    def _check(self, now: float) -> None:
        """After a step: prepare new roots, finish done/terminated/timed-out turns, send reports."""
        for lane in list(self._lanes.values()):
            active = lane.mcts.active()
            for b, job in list(lane.jobs.items()):
                if not job.root_ready and lane.mcts.tree.expanded[b, ROOT]:
                    self._prepare_root(job)
                timed_out = job.query.max_time is not None and now - job.started >= job.query.max_time
                if not active[b] or job.terminated or timed_out:
                    self._finish(job)
                elif job.next_report is not None and now >= job.next_report and job.root_ready:
                    self.emit(self._result(job, during=True))
                    job.next_report = now + job.query.report_every

    def _fail_lane(self, lane: Lane, error: Exception) -> None:
        self.log(f"search failed: {error!r}")
        for b, job in list(lane.jobs.items()):
            lane.mcts.stop(b)
            del lane.jobs[b]
            self.emit({"id": job.query.id, "turnNumber": job.turn, "isDuringSearch": False, "noResults": True,
                       "warning": f"the search failed: {type(error).__name__}: {error}"})

    def _clear_cache(self) -> None:
        clear = getattr(self.evaluator, "clear_cache", None)
        if callable(clear):
            clear()
        for raw in self._clear_requests:
            self.emit(raw)
        self._clear_requests = []

    def busy(self) -> bool:
        with self._cond:
            return bool(self._pending) or any(lane.jobs for lane in self._lanes.values())

    def run(self) -> None:
        """Search until input is closed and every queued turn has its final result."""
        while True:
            with self._cond:
                if self._clear_requests:
                    self._clear_cache()
                self._admit(time.monotonic())
                running = [lane for lane in self._lanes.values() if lane.jobs]
                if not running:
                    if self._eof and not self._pending:
                        return
                    self._cond.wait(timeout=0.05)
                    continue
            for lane in running:
                try:
                    lane.mcts.step()
                except Exception as e:  # noqa: BLE001 - one failed batch must not end the engine
                    with self._cond:
                        self._fail_lane(lane, e)
            with self._cond:
                self._check(time.monotonic())
