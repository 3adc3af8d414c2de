"""Matches: a referee plays games between two players, saves each as SGF, appends its result to a
results file (resumable), in parallel worker processes, stopping early by SPRT.

Out directory of one match::

    <out>/match.json         the match (players, board, rules, seed): a resume must agree with it
    <out>/results.jsonl      one JSON object per finished game, appended, flushed and fsynced
    <out>/games/game_<i>.sgf every finished game (written before its result line)

Game ``i`` has A as black when ``i`` is even; its seed (and the random opening shared by games
``2k`` and ``2k+1``) depends only on the match seed and ``i``, so serial and parallel runs of
deterministic players give the same games, and re-running the same command plays only the
indices missing from the results file.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from alphazero.arena.messages import GameJob, PlayedGame
from alphazero.arena.players import RESIGN, Forfeit, PlayerSpec, build_player, random_move
from alphazero.arena.ratings import fit_ratings
from alphazero.arena.sprt import Sprt
from alphazero.atomic_io import write_bytes_atomic
from go_engine import board as B
from go_engine import compiled, coords, scoring
from go_engine.rules import Rules
from go_engine.history import BoardHistory, IllegalMove
from go_engine.sgf import GameResult, SgfGame, to_sgf_bytes

RESULTS_FILE = "results.jsonl"
MATCH_FILE = "match.json"
GAMES_DIR = "games"
POLL_S = 0.5


class MatchError(RuntimeError):
    """A match that cannot run (wrong out directory, a worker that died, a player that cannot be built)."""


@dataclass(frozen=True)
class GameSettings:
    size: int = 9
    rules: Rules = field(default_factory=Rules)
    max_moves: int = 0  # 0: the rules' move cap (go_engine.board.move_cap: rules.max_moves, else 4 n^2)
    opening_moves: int = 0  # random moves (shared by each pair of games) before the players take over
    move_timeout: float = 60.0  # seconds an external engine may think per move

    def __post_init__(self) -> None:
        coords.check_size(self.size)
        if self.max_moves < 0 or self.opening_moves < 0:
            raise ValueError("max_moves and opening_moves must be >= 0")
        if not self.move_timeout > 0:
            raise ValueError(f"move timeout must be > 0 seconds, got {self.move_timeout}")

    @property
    def move_cap(self) -> int:
        return self.max_moves or B.move_cap(self.rules, self.size)

    def to_dict(self) -> dict:
        return {"size": self.size, "rules": self.rules.to_dict(), "max_moves": self.move_cap,
                "opening_moves": self.opening_moves, "move_timeout": self.move_timeout}

    @classmethod
    def from_dict(cls, d: dict) -> "GameSettings":
        return cls(d["size"], Rules.from_dict(d["rules"]), d["max_moves"], d["opening_moves"], d["move_timeout"])


@dataclass(frozen=True)
class MatchPlan:
    a: PlayerSpec
    b: PlayerSpec
    games: int
    out: Path
    settings: GameSettings = field(default_factory=GameSettings)
    seed: int = 0
    sprt: Sprt | None = None


@dataclass
class MatchSummary:
    a: str
    b: str
    results: list[dict]  # every game with index < games, by index
    played_now: list[int]  # indices played by this call
    failed: list[int]  # indices lost to a dead worker (re-run to play them)
    sprt_decision: str | None = None

    @property
    def wins(self) -> int:
        return sum(r["score_a"] == 1 for r in self.results)

    @property
    def losses(self) -> int:
        return sum(r["score_a"] == 0 for r in self.results)

    @property
    def draws(self) -> int:
        return sum(r["score_a"] == 0.5 for r in self.results)

    def elo(self) -> tuple[float, float] | None:
        """Elo of A over B and its 95% half-width (maximum likelihood with one virtual draw, so a
        clean sweep stays finite), or None before any game."""
        if not self.results:
            return None
        rating = fit_ratings([(self.a, self.b, r["score_a"]) for r in self.results], anchor=self.b)[self.a]
        return rating.elo, rating.ci95

    def reasons(self) -> Counter:
        return Counter(r["reason"] for r in self.results)

    def text(self) -> str:
        line = f"{self.a} vs {self.b}: {self.wins} wins, {self.losses} losses, {self.draws} draws for {self.a}"
        elo = self.elo()
        if elo is not None:
            line += f"; Elo {elo[0]:+.0f} +- {elo[1]:.0f}"
        if self.sprt_decision:
            line += f"; SPRT {self.sprt_decision}"
        line += f"; endings {dict(self.reasons())}; played now {len(self.played_now)}"
        return line


def game_seed(match_seed: int, index: int, stream: int = 0) -> int:
    return int(np.random.SeedSequence([match_seed, index, stream]).generate_state(1, np.uint32)[0])


# ---- one game ----------------------------------------------------------------------------------


def play_game(black, white, settings: GameSettings, seed: int, opening_seed: int) -> dict:
    """Referee one game. Returns ``moves`` [(colour, action)], ``winner`` (BLACK/WHITE/None),
    ``margin``, ``reason`` (score, move-cap, resign, or the loser's forfeit reason) and ``detail``."""
    n = settings.size
    history = max(black.history, white.history, 1)
    game = BoardHistory(n, settings.rules, history=history, move_cap=settings.move_cap)
    players = {B.BLACK: black, B.WHITE: white}

    def forfeit(colour: int, reason: str, detail: str) -> dict:
        return {"winner": 3 - colour, "margin": None, "reason": reason, "detail": detail}

    for colour, player in players.items():
        try:
            player.new_game(game, game_seed(seed, colour))
        except Forfeit as f:
            return {"moves": [], **forfeit(colour, f.reason, f.detail)}
    end = None
    opening_rng = np.random.default_rng(opening_seed)
    while end is None:
        ending = game.ending()
        if ending == "two passes":
            end = {"reason": "score", "detail": "two passes"}
            break
        if ending == "move cap":
            end = {"reason": "move-cap", "detail": f"{game.move_cap} moves"}
            break
        colour = game.to_play
        opening = len(game.moves) < settings.opening_moves
        try:
            action = random_move(game, colour, opening_rng) if opening else players[colour].genmove(game, colour)
        except Forfeit as f:
            end = forfeit(colour, f.reason, f.detail)
            break
        if action == RESIGN:
            end = {"winner": 3 - colour, "margin": None, "reason": "resign", "detail": f"{players[colour].name} resigned"}
            break
        try:
            game.play(colour, action)
        except IllegalMove as e:
            end = forfeit(colour, "illegal", f"{players[colour].name} played {coords.action_to_gtp(action, n)}: {e}")
            break
        told = (black, white) if opening else (players[3 - colour],)
        for other in told:
            try:
                other.observe(colour, action)
            except Forfeit as f:
                end = forfeit(B.BLACK if other is black else B.WHITE, f.reason, f.detail)
                break
    if "winner" not in end:
        # The rules' count of the board as it stands (every stone alive; seki by independent-life
        # regions), as self-play counts it: under territory rules dead stones must be captured.
        margin = referee_margin(game)
        result = GameResult.from_score(margin)
        end = {"winner": result.winner, "margin": margin, **end}
    return {"moves": [list(m) for m in game.moves], **end}


def referee_margin(game: BoardHistory) -> float:
    """Black's margin of a finished match game by its rules (``scoring.count``: area, or territory +
    prisoners; tax; komi; white's handicap bonus for the game's setup stones)."""
    state = game.state
    return float(scoring.count(state.board[0], game.size, game.rules, captured=state.captured[0], handicap=game.handicap()).margin)


# ---- records -----------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return " ".join(str(text).replace(",", ";").split())[:300]


def sgf_for(result: PlayedGame, settings: GameSettings) -> SgfGame:
    reason = result.reason
    winner = {"black": B.BLACK, "white": B.WHITE}.get(result.winner)
    if reason in ("score", "move-cap"):
        outcome = GameResult.from_score(result.margin)
    elif reason == "resign":
        outcome = GameResult(winner, None, "resign")
    else:
        outcome = GameResult(winner, None, "time" if reason == "timeout" else "forfeit")
    meta = {"game": str(result.game), "seed": str(result.seed), "end": reason}
    if result.detail:
        meta["detail"] = _clean(result.detail)
    return SgfGame(size=settings.size, rules=settings.rules, moves=result.moves, result=outcome,
                   black_player=result.black, white_player=result.white, date=time.strftime("%Y-%m-%d"), metadata=meta)


def read_results(out: Path) -> list[dict]:
    """Finished games of ``out``; a torn last line (an interrupted write) is dropped from the file."""
    path = out / RESULTS_FILE
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    complete, torn = lines[:-1], lines[-1]
    results = []
    for number, line in enumerate(complete, 1):
        if not line.strip():
            continue
        try:
            results.append(json.loads(line))
        except json.JSONDecodeError:
            raise MatchError(f"{path}:{number}: not a JSON line; fix or delete the file") from None
    if torn.strip():
        write_bytes_atomic(path, b"".join(line + b"\n" for line in complete))
    return results


def _append_line(path: Path, record: dict) -> None:
    with open(path, "ab") as f:
        f.write((json.dumps(record, sort_keys=True) + "\n").encode())
        f.flush()
        os.fsync(f.fileno())


def _prepare(plan: MatchPlan) -> list[dict]:
    out = plan.out
    (out / GAMES_DIR).mkdir(parents=True, exist_ok=True)
    header = {"a": plan.a.to_dict(), "b": plan.b.to_dict(), "seed": plan.seed, "settings": plan.settings.to_dict()}
    header_path = out / MATCH_FILE
    if header_path.exists():
        old = json.loads(header_path.read_text())
        for key in ("seed", "settings"):
            # The move timeout may change between runs (e.g. a slower machine); nothing else may.
            was = old.get(key)
            if key == "settings" and isinstance(was, dict):
                # Through the class: a header written before a field existed reads with its default.
                try:
                    was = GameSettings.from_dict(was).to_dict()
                except (KeyError, TypeError, ValueError):
                    pass
                was = {k: v for k, v in was.items() if k != "move_timeout"}
            now = {k: v for k, v in header[key].items() if k != "move_timeout"} if key == "settings" else header[key]
            if was != now:
                raise MatchError(f"{out} holds another match ({key} was {was}, now {now}); use another --out")
        for key in ("a", "b"):
            was, now = old[key], header[key]
            differs = sorted(k for k in set(was) | set(now) if k != "text" and was.get(k) != now.get(k))
            if differs:
                # An mcts player's search is part of it: games searched otherwise (e.g. before mcts:
                # players followed their run's config.json) are another match.
                raise MatchError(f"{out} holds another match (player {key.upper()} was {was['name']} "
                                 f"{was.get('path') or ' '.join(was.get('argv', []))}, now {now['name']}; "
                                 f"differs in {', '.join(differs)}); use another --out")
    else:
        write_bytes_atomic(header_path, (json.dumps(header, indent=1, sort_keys=True) + "\n").encode())
    return read_results(out)


# ---- jobs and workers --------------------------------------------------------------------------


def _job(plan_id: int, plan: MatchPlan, index: int) -> GameJob:
    a_black = index % 2 == 0
    black, white = (plan.a, plan.b) if a_black else (plan.b, plan.a)
    return GameJob(plan=plan_id, game=index, black=black.to_dict(), white=white.to_dict(), a_is_black=a_black,
                   seed=game_seed(plan.seed, index), opening_seed=game_seed(plan.seed, index // 2, 1),
                   settings=plan.settings.to_dict(), stderr=str(plan.out / "engines.stderr"))


def play_job(job: GameJob, cache: dict) -> PlayedGame:
    """Play one job with players from ``cache`` (spec -> player, built on first use)."""
    settings = GameSettings.from_dict(job.settings)
    sides = []
    for spec_dict in (job.black, job.white):
        spec = PlayerSpec.from_dict(spec_dict)
        cache_key = json.dumps([spec_dict, job.settings["rules"], settings.move_timeout], sort_keys=True)
        if cache_key not in cache:
            cache[cache_key] = build_player(spec, settings.rules, settings.move_timeout, stderr_path=job.stderr)
        sides.append(cache[cache_key])
    started = time.monotonic()
    result = play_game(sides[0], sides[1], settings, job.seed, job.opening_seed)
    winner = result["winner"]
    a_colour = B.BLACK if job.a_is_black else B.WHITE
    return PlayedGame(
        game=job.game, seed=job.seed, black=sides[0].name, white=sides[1].name, a_is_black=job.a_is_black,
        winner={B.BLACK: "black", B.WHITE: "white"}.get(winner), score_a=0.5 if winner is None else float(winner == a_colour),
        reason=result["reason"], detail=result.get("detail", ""), margin=result["margin"],
        moves=tuple(tuple(m) for m in result["moves"]), num_moves=len(result["moves"]),
        seconds=round(time.monotonic() - started, 3))


def _close_all(cache: dict) -> None:
    for player in cache.values():
        try:
            player.close()
        except Exception:  # noqa: BLE001 - closing must go on for the others
            pass


def _worker_main(jobs, results, threads: int, worker: int) -> None:
    """A worker process: build players from specs as needed, play the jobs of its own queue until
    a ``None`` arrives; each result names the ``worker`` that played it."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so finally closes the GTP engines
    import torch

    torch.set_num_threads(threads)
    compiled.set_num_threads(threads)
    cache: dict = {}
    try:
        while True:
            text = jobs.get()
            if text is None:
                break
            job = GameJob.from_json(text)
            try:
                played = play_job(job, cache)
                results.put(json.dumps({"type": "result", "plan": job.plan, "worker": worker, "record": played.to_json()}))
            except Exception:  # noqa: BLE001 - reported to the parent, which stops the match
                results.put(json.dumps({"type": "error", "job": [job.plan, job.game], "error": traceback.format_exc()}))
                break
    finally:
        _close_all(cache)


# ---- the runner --------------------------------------------------------------------------------


class _Tally:
    """Per-plan bookkeeping in the parent: results so far, SPRT state, files."""

    def __init__(self, plan: MatchPlan, existing: list[dict]):
        self.plan = plan
        self.results = {r["game"]: r for r in existing}
        self.played_now: list[int] = []
        self.failed: list[int] = []
        self.decision = self._decide()

    def _decide(self) -> str | None:
        if self.plan.sprt is None:
            return None
        scores = [r["score_a"] for i, r in self.results.items() if i < self.plan.games]
        return self.plan.sprt.decide(scores.count(1.0), scores.count(0.0), scores.count(0.5))

    @property
    def stopped(self) -> bool:
        return self.decision in ("H0", "H1")

    def missing(self) -> list[int]:
        return [i for i in range(self.plan.games) if i not in self.results]

    def record(self, game: PlayedGame, log: Callable[[str], None]) -> None:
        plan = self.plan
        name = f"game_{game.game:06d}.sgf"
        write_bytes_atomic(plan.out / GAMES_DIR / name, to_sgf_bytes(sgf_for(game, plan.settings)))
        line = game.results_line(f"{GAMES_DIR}/{name}")
        _append_line(plan.out / RESULTS_FILE, line)
        self.results[game.game] = line
        self.played_now.append(game.game)
        self.decision = self._decide()
        done = [r["score_a"] for i, r in self.results.items() if i < plan.games]
        winner = game.black if game.winner == "black" else game.white if game.winner == "white" else "nobody"
        log(f"[{plan.a.name} vs {plan.b.name}] game {game.game}: {game.black} (B) - {game.white} (W), "
            f"{winner} wins by {game.reason} after {game.num_moves} moves; A {done.count(1.0)}-{done.count(0.0)}-{done.count(0.5)}"
            + (f"; SPRT {self.decision}" if self.decision else ""))

    def summary(self) -> MatchSummary:
        results = [self.results[i] for i in sorted(self.results) if i < self.plan.games]
        return MatchSummary(self.plan.a.name, self.plan.b.name, results, sorted(self.played_now), sorted(self.failed), self.decision)


def run_match(plan: MatchPlan, parallel: int = 1, log: Callable[[str], None] = print, threads: int = 1) -> MatchSummary:
    return run_matches([plan], parallel, log, threads)[0]


def run_matches(plans: list[MatchPlan], parallel: int = 1, log: Callable[[str], None] = print, threads: int = 1) -> list[MatchSummary]:
    """Play every missing game of every plan (``parallel`` worker processes; 1 = in this process)."""
    if parallel < 1:
        raise MatchError(f"parallel must be >= 1, got {parallel}")
    for plan in plans:
        if plan.a.name == plan.b.name:
            raise MatchError(f"both players are named {plan.a.name!r}; give one a name with NAME=SPEC")
        if plan.games < 1:
            raise MatchError(f"games must be >= 1, got {plan.games}")
    tallies = [_Tally(plan, _prepare(plan)) for plan in plans]
    pending = [(pid, i) for pid, t in enumerate(tallies) if not t.stopped for i in t.missing()]
    if pending:
        (_run_serial if parallel == 1 else _run_pool)(tallies, pending, parallel, log, threads)
    return [t.summary() for t in tallies]


def _run_serial(tallies, pending, parallel, log, threads) -> None:
    import numba
    import torch

    # Batch-1 inference and search: more threads only add synchronisation (20-100x slower on a
    # loaded 2-core box), so the games run on ``threads`` threads and the old counts come back after.
    saved_threads = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(threads)
    compiled.set_num_threads(threads)
    cache: dict = {}
    try:
        for pid, index in pending:
            tally = tallies[pid]
            if tally.stopped:
                continue
            tally.record(play_job(_job(pid, tally.plan, index), cache), log)
    finally:
        _close_all(cache)
        torch.set_num_threads(saved_threads[0])
        numba.set_num_threads(saved_threads[1])


def _run_pool(tallies, pending, parallel, log, threads) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    # One job queue per worker: the parent knows which game each worker holds from the moment it
    # hands it over, so a worker that dies at any point (even before it could say it started)
    # fails exactly its own game.
    jobs = [ctx.Queue() for _ in range(min(parallel, len(pending)))]
    workers = [ctx.Process(target=_worker_main, args=(q, results, threads, i), daemon=True) for i, q in enumerate(jobs)]
    for w in workers:
        w.start()
    todo = list(pending)
    held: dict[int, tuple[int, int]] = {}  # worker index -> the job (plan, game) it plays
    error = None
    try:
        while todo or held:
            _hand_out(todo, held, workers, jobs, tallies)
            if not held:
                break
            try:
                msg = json.loads(results.get(timeout=POLL_S))
            except queue.Empty:
                if not _fail_games_of_dead_workers(workers, held, tallies, log):
                    error = "every worker process died"
                    break
                continue
            if msg["type"] == "result":
                played = PlayedGame.from_json(msg["record"])
                held.pop(msg["worker"], None)
                tallies[msg["plan"]].record(played, log)
                if all(t.stopped for t in tallies):
                    break
            else:
                error = f"game {msg['job'][1]} failed in a worker:\n{msg['error']}"
                break
    finally:
        _stop_workers(workers, jobs, grace_s=0.5 if held or error else 10.0)
    if error:
        raise MatchError(error)


def _hand_out(todo: list, held: dict, workers, jobs, tallies) -> None:
    """Give each idle live worker the next game still to play (games of stopped plans are dropped)."""
    for i, w in enumerate(workers):
        while i not in held and todo and w.is_alive():
            plan, index = todo.pop(0)
            if not tallies[plan].stopped:
                jobs[i].put(_job(plan, tallies[plan].plan, index).to_json())
                held[i] = (plan, index)


def _fail_games_of_dead_workers(workers, held: dict, tallies, log) -> bool:
    """The games held by workers that died stay unplayed (logged, and failed in their tally);
    False when no worker is left alive."""
    for i, (plan, game) in list(held.items()):
        if not workers[i].is_alive():
            log(f"worker {workers[i].pid} died during game {game} of {tallies[plan].plan.a.name} vs "
                f"{tallies[plan].plan.b.name}; that game stays unplayed (re-run to play it)")
            tallies[plan].failed.append(game)
            del held[i]
    return any(w.is_alive() for w in workers)


def _stop_workers(workers, jobs, grace_s: float) -> None:
    """Ask every worker to stop (``None`` on its queue); one still running after ``grace_s`` is
    terminated, then killed."""
    for q in jobs:
        q.put(None)
    deadline = time.monotonic() + grace_s
    for w in workers:
        w.join(timeout=max(0.0, deadline - time.monotonic()))
    for w in workers:
        if w.is_alive():
            w.terminate()  # SIGTERM: the worker closes its engines on the way out
    for w in workers:
        w.join(timeout=5.0)
        if w.is_alive():
            w.kill()
