"""Self-play game driver: B concurrent games through one ``BatchedMCTS``, a finished row restarts
with a new game, finished games come back as ``GameRecord``s tagged with the model version.

Per move of a row: playout-cap randomisation picks a full (recorded, noised) or cheap search; when
it ends the position is recorded, resignation is checked, the move is chosen (temperature schedule
or Gumbel), played on the row's board, and the tree re-rooted. One evaluator call per search step
covers every row, whatever phase its game is in.

**Rules.** Each game draws its rules from ``SelfPlayConfig.rules_mix`` (``draw_rules``; the run's
rules when the mix is empty); the search runs each row under its game's rules, the planes encode
them (feature version 2) and the record stores them. A game's final score and outcome, like the
search's terminal values, are ``scoring.count_row`` of the final position under those rules: area
(stones + one-colour regions), or territory (one-colour regions + prisoners), minus komi, with the
tax (seki eyes count for nobody under ``seki``; 2 per living group under ``all``) and the white
handicap bonus (0 here: self-play games have no handicap).

**How a territory game ends, and what can be scored wrongly.** As under area rules, the game ends
at two consecutive passes (or the move cap, or a resignation), and the board is counted as it
stands, with KataGo's **pass-alive shortcut** under territory scoring (``ANALYSIS_AND_RULES.md``
section 4; there is no cleanup phase): ``scoring.pass_alive_work`` finds each colour's pass-alive
chains and territory by Benson's algorithm (KataGo's ``calculateAreaForPla``: regions vital to a
chain, the multi-stone-suicide rule deciding whether opponent stones in a region must touch it,
territory = a region of at most one point next to none of the colour's stones, bordered by
pass-alive chains only), and stones inside the opponent's pass-alive territory are dead: taken off
for the count as the opponent's prisoners, the region the opponent's territory. Every other stone
counts as alive, and seki is decided by KataGo's independent-life regions after the dame are
filled (``go_engine.scoring``). Under area scoring nothing changes (Tromp-Taylor as before).

So under territory scoring a dead group need not be captured when the surrounding group is
unconditionally alive and encloses it tightly. Positions still scored wrongly (against human
Japanese counting): dead stones in a region that is not pass-alive territory: a big territory
(two or more points next to none of the owner's stones, e.g. an invasion that failed in a wide
moyo) or one bordered by a group that is alive but not unconditionally (it needs an answer to a
threat, e.g. its eyes depend on a ko or on a cutting point): those stones count as alive, the
region reaches both colours and scores for nobody, so the owner must capture them at a point of
its territory each (or pass and lose the region); and the count's own limits (a chain left in
atari, e.g. an unresolved ko, makes its group not independent; a dame whose filling needs a move
inside a territory). The network learns these rules as they are: the side owning such a region
learns to capture while it is worth it, or to make the surrounding group pass-alive.
"""

from __future__ import annotations

import json

import numpy as np

from alphazero.config.search import SearchConfig, SelfPlayConfig
from alphazero.game_record import GameRecord
from go_engine import board as B
from go_engine import features as F
from go_engine import scoring as S
from go_engine.rules import Rules, handicap_bonus_points
from selfplay.mcts import BatchedMCTS, Evaluator


def draw_rules(choices: list[Rules], probabilities: np.ndarray, rng: np.random.Generator) -> Rules:
    """One game's rules drawn from ``choices`` with ``probabilities``; a single choice draws nothing
    from ``rng`` (so runs without a mix see the random stream they always did)."""
    if len(choices) == 1:
        return choices[0]
    return choices[int(rng.choice(len(choices), p=probabilities))]


class _GameLog:
    """What one running game has recorded so far (Python lists: appended once per move)."""

    def __init__(self, game_id: str, no_resign: bool, rules: Rules) -> None:
        self.game_id = game_id
        self.no_resign = no_resign
        self.rules = rules  # the rules this game is played under
        self.planes: list[np.ndarray] = []  # [C, n, n] each
        self.policy: list[np.ndarray] = []  # [A] each
        self.full_search: list[bool] = []
        self.search_value: list[float] = []
        self.to_play: list[int] = []
        self.moves: list[int] = []
        self.low_streak = {B.BLACK: 0, B.WHITE: 0}  # consecutive own moves below the resign threshold
        self.would_resign = B.EMPTY  # colour that would have resigned first (no-resign games)
        self.full_pending = False  # the current search of this row is a full one


class SelfPlayDriver:
    """Plays self-play games ``games_in_parallel`` at a time. ``play(num_games)`` returns records."""

    def __init__(self, search: SearchConfig, selfplay: SelfPlayConfig, rules: Rules, board_size: int, evaluator: Evaluator, history: int, rng: np.random.Generator, model_version: int = 0, game_id_prefix: str | None = None) -> None:
        self.search_config = search
        self.config = selfplay
        self.rules = rules
        self.n = board_size
        self.history = history
        self.rng = rng
        self.model_version = model_version
        self.prefix = game_id_prefix if game_id_prefix is not None else f"g{rng.integers(1 << 40):010x}"
        nb = selfplay.games_in_parallel
        self.rule_choices, self.rule_probabilities = selfplay.game_rules(rules)
        cap = B.move_cap(rules, board_size)
        if selfplay.max_game_moves:
            cap = min(cap, selfplay.max_game_moves)
        self.max_moves = cap
        self.roots = B.new_state(nb, board_size, komi=rules.komi, history=history, max_moves=B.move_cap(rules, board_size))
        max_sims = max(search.simulations, selfplay.cheap_simulations)
        self.mcts = BatchedMCTS(search, rules, self.roots, evaluator, history=history, max_simulations=max_sims, max_moves=cap)
        self._planes = np.zeros((F.num_planes(history), board_size, board_size), np.float32)
        self._owner = np.zeros(board_size * board_size, np.int8)
        self._score_work = S.new_work(board_size)
        self.games_started = 0
        self.steps = 0  # search steps run (each at most one evaluator call)
        self.logs: list[_GameLog] = [self._new_game(b) for b in range(nb)]
        self.finished: list[GameRecord] = []

    def set_evaluator(self, evaluator: Evaluator, model_version: int) -> None:
        """New weights: later moves use ``evaluator``; games record the version they end with."""
        self.mcts.evaluator = evaluator
        self.model_version = model_version

    # ---- the loop ------------------------------------------------------------------------------
    def play(self, num_games: int, max_steps: int | None = None) -> list[GameRecord]:
        """Step until ``num_games`` games have finished (or ``max_steps`` search steps); returns them."""
        steps = 0
        while len(self.finished) < num_games and (max_steps is None or steps < max_steps):
            self.mcts.step()
            steps += 1
            self.steps += 1
            for b in np.flatnonzero(~self.mcts.active()).tolist():
                self._move(b)
        out, self.finished = self.finished, []
        return out

    def _new_game(self, b: int) -> _GameLog:
        B.reset_row(self.roots, b)
        self.mcts.reset(b)
        no_resign = (not self.config.resign_enabled) or self.rng.random() < self.config.no_resign_fraction
        rules = draw_rules(self.rule_choices, self.rule_probabilities, self.rng)
        self.mcts.set_rules(b, rules)
        log = _GameLog(f"{self.prefix}-{self.games_started}", no_resign, rules)
        self.games_started += 1
        self._start_search(b, log)
        return log

    def _start_search(self, b: int, log: _GameLog) -> None:
        full = self.rng.random() < self.config.full_search_probability
        sims = self.search_config.simulations if full else self.config.cheap_simulations
        log.full_pending = full
        self.mcts.start([b], sims, self.rng, full_search=full)

    def _move(self, b: int) -> None:
        log, mcts, s = self.logs[b], self.mcts, self.roots
        me = int(s.to_play[b])
        value = float(np.clip(mcts.root_value(b), -1.0, 1.0))
        r = log.rules
        F.encode_row(s, b, int(r.ko), int(r.suicide), int(r.scoring), int(r.tax), self._planes)
        log.planes.append(self._planes.copy())
        full = log.full_pending
        log.policy.append(mcts.policy_target(b) if full else np.zeros(mcts.num_actions, np.float32))
        log.full_search.append(full)
        log.search_value.append(value)
        log.to_play.append(me)

        # Resignation, decided outside the tree from the root's win/loss value (``root_value``:
        # never the score utility, which can pass -1 in a game still worth playing on).
        log.low_streak[me] = log.low_streak[me] + 1 if value < self.config.resign_threshold else 0
        if log.low_streak[me] >= self.config.resign_consecutive:
            if not log.no_resign:
                B.resign(s, b, me)
                self._finish(b)
                return
            if log.would_resign == B.EMPTY:
                log.would_resign = me

        tau = self.config.temperature(len(log.moves))
        action = mcts.choose_action(b, tau, self.rng)
        ok = B.play_action_row(s, b, action, int(r.ko), int(r.suicide), self.max_moves)
        if not ok:
            raise RuntimeError(f"row {b}: search chose illegal action {action}")
        log.moves.append(action)
        if s.done[b]:
            self._finish(b)
            return
        mcts.advance(b, action)
        self._start_search(b, log)

    def _finish(self, b: int) -> None:
        log, s = self.logs[b], self.roots
        r = log.rules
        bonus = float(handicap_bonus_points(r.white_handicap_bonus, 0))  # self-play games have no handicap
        final_score = float(S.count_row(s, b, int(r.scoring), int(r.tax), int(r.suicide), bonus, self._owner, self._score_work))
        S.stone_ownership_row(s, b, self._owner)  # the ownership target: stones standing at the end too
        if s.resigned[b] != B.EMPTY:
            outcome = 1.0 if s.resigned[b] == B.WHITE else -1.0
        else:
            outcome = float(np.sign(final_score))
        false_positive = -1
        if log.no_resign and log.would_resign != B.EMPTY:
            winner = B.BLACK if outcome > 0 else (B.WHITE if outcome < 0 else B.EMPTY)
            false_positive = int(winner == log.would_resign)
        planes = np.stack(log.planes)  # [T, C, n, n]
        bits, scalars = F.pack_planes(planes)
        record = GameRecord(
            game_id=log.game_id,
            board_size=self.n,
            komi=float(r.komi),
            rules=json.dumps(r.to_dict()),
            feature_version=F.FEATURE_VERSION,
            model_version=int(self.model_version),
            history=self.history,
            planes_bits=bits,
            planes_scalars=scalars,
            policy=np.stack(log.policy).astype(np.float32),
            full_search=np.asarray(log.full_search, np.bool_),
            search_value=np.asarray(log.search_value, np.float32),
            to_play=np.asarray(log.to_play, np.int8),
            outcome=outcome,
            final_score=final_score,
            final_ownership=self._owner.copy(),
            moves=np.asarray(log.moves, np.int16),
            resigned=bool(s.resigned[b] != B.EMPTY),
            resign_false_positive=false_positive,
        )
        self.finished.append(record.validate())
        self.logs[b] = self._new_game(b)
