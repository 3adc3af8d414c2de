"""The driver of a training run: iterate amplification (self-play) and distillation (learning).

Roles (Ray actors): N self-play actors, one replay actor owning the shards, one learner. The driver
publishes each checkpoint once (one ``ray.put`` per version), keeps a fixed number of tasks in
flight and waits on them with ``ray.wait`` (no polling), and balances the two sides: the learner
may train only while it is owed samples (``samples_per_position`` x new positions), self-play
pauses when it runs too far ahead. Counters and checkpoints are on disk after every generation,
so a run killed at any moment resumes from its directory.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import ray
from ray.exceptions import RayActorError, RayTaskError

from alphazero.config.base import ConfigError
from alphazero.config.run import RunConfig
from alphazero.train.actors import LearnerActor, ReplayActor, SelfPlayActor, actor_name
from alphazero.train.display import Display, evaluation_text
from alphazero.train.evaluation import evaluate_generation, record_and_plot
from alphazero.train.metrics import MetricsLog, WandbMode
from alphazero.train.run_dir import RunDir

log = logging.getLogger(__name__)


@dataclass
class Counters:
    """What the run has done; persisted in ``state/run_state.json``."""

    generation: int = 0
    positions: int = 0  # self-play positions stored in the replay buffer, ever
    games: int = 0
    samples_trained: int = 0
    steps_since_publish: int = 0
    elapsed_s: float = 0.0  # wall time of previous sessions of this run
    wandb_id: str | None = None
    sessions: int = 0

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Window:
    """Self-play statistics since the last display tick."""

    start: float = field(default_factory=time.monotonic)
    games: int = 0
    positions: int = 0
    evaluations: int = 0
    lengths: list = field(default_factory=list)
    resigned: int = 0
    no_resign_checked: int = 0
    false_positives: int = 0
    black_wins: int = 0
    lags: list = field(default_factory=list)
    eval_cache_lookups: int = 0
    eval_cache_hits: int = 0

    def add(self, stats: dict, version: int) -> None:
        self.games += stats["games"]
        self.positions += stats["positions"]
        self.evaluations += stats["evaluations"]
        self.lengths += stats["lengths"]
        self.resigned += stats["resigned"]
        self.no_resign_checked += stats["no_resign_checked"]
        self.false_positives += stats["resign_false_positives"]
        self.black_wins += stats["black_wins"]
        self.lags += [version - v for v in stats["record_versions"]]
        self.eval_cache_lookups += stats.get("eval_cache_lookups", 0)
        self.eval_cache_hits += stats.get("eval_cache_hits", 0)

    def summary(self) -> dict:
        dt = max(time.monotonic() - self.start, 1e-9)
        return {
            "games_per_hour": self.games * 3600.0 / dt,
            "positions_per_s": self.positions / dt,
            "evaluations_per_s": self.evaluations / dt,
            "game_length": float(np.mean(self.lengths)) if self.lengths else None,
            "resign_rate": self.resigned / self.games if self.games else None,
            "resign_false_positive_rate": self.false_positives / self.no_resign_checked if self.no_resign_checked else None,
            "black_win_rate": self.black_wins / self.games if self.games else None,
            "version_lag": float(np.mean(self.lags)) if self.lags else None,
            "eval_cache_hit_rate": self.eval_cache_hits / self.eval_cache_lookups if self.eval_cache_lookups else None,
            "games": self.games,
        }


class StopRequest:
    """First Ctrl-C (or SIGTERM): finish cleanly. Second Ctrl-C: stop at once."""

    def __init__(self) -> None:
        self.requested = False
        self.reason = ""

    def install(self) -> None:
        def handler(signum, frame):
            if self.requested and signum == signal.SIGINT:
                raise KeyboardInterrupt
            self.requested = True
            self.reason = signal.Signals(signum).name
            print("\nstopping: draining actors and writing a checkpoint (Ctrl-C again to abort)", file=sys.stderr, flush=True)

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)


def prepare_run_dir(run: RunDir, config: RunConfig | None, resume: bool) -> RunConfig:
    """A new run writes ``config.json``; a resumed one reads it back (and must find it)."""
    if resume:
        if not run.config_path.exists():
            raise ConfigError(f"{run.root} is not a run directory (no config.json)")
        try:
            saved = RunConfig.from_dict(json.loads(run.config_path.read_text()))
        except json.JSONDecodeError as e:
            raise ConfigError(f"{run.config_path} is not valid JSON: {e}") from None
        return saved
    assert config is not None
    if run.config_path.exists():
        raise ConfigError(f"{run.root} already holds a run; use --resume {run.root} to continue it")
    run.create()
    from alphazero.atomic_io import write_bytes_atomic

    write_bytes_atomic(run.config_path, json.dumps(config.to_dict(), indent=1, sort_keys=True).encode())
    return config


def start_ray(address: str | None) -> None:
    if ray.is_initialized():
        return
    # Actor warnings (a skipped shard, a restarted optimiser) reach the driver's stderr in every mode.
    kwargs = dict(include_dashboard=False, log_to_driver=True, logging_level=logging.WARNING,
                  configure_logging=True)
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=max(2, os.cpu_count() or 2), **kwargs)


def _learner_options(config: RunConfig) -> dict:
    loop = config.loop
    options = {"num_cpus": loop.learner_cpus}
    if loop.learner_gpus > 0:
        from ray.util.placement_group import placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        pg = placement_group([{"GPU": loop.learner_gpus, "CPU": loop.learner_cpus}], strategy="STRICT_PACK")
        ray.get(pg.ready())
        options.update(num_gpus=loop.learner_gpus, scheduling_strategy=PlacementGroupSchedulingStrategy(placement_group=pg))
    return options


def train(config: RunConfig | None, run_root: Path, resume: bool = False, address: str | None = None,
          wandb_mode: WandbMode = "off", quiet: bool = False, max_generations: int | None = None,
          time_limit_minutes: float | None = None) -> int:
    """Run (or resume) a training run until ``max_generations`` or the time limit; returns 0."""
    run = RunDir(Path(run_root))
    config = prepare_run_dir(run, config, resume)
    loop_cfg = config.loop
    if max_generations is not None:
        loop_cfg = replace(loop_cfg, max_generations=max_generations)
    if time_limit_minutes is not None:
        loop_cfg = replace(loop_cfg, time_limit_minutes=time_limit_minutes)
    config = replace(config, loop=loop_cfg)
    run.create()
    saved = run.read_run_state() or {}
    counters = Counters(**{k: v for k, v in saved.items() if k in Counters.__dataclass_fields__})
    counters.sessions += 1

    if resume:
        run.latest_valid_generation()  # reports (and so skips) broken checkpoints here, in the driver's log
    stop = StopRequest()
    stop.install()
    start_ray(address)
    metrics = MetricsLog(run.metrics_path, wandb_mode, run.root.name, config.to_dict(), counters.wandb_id)
    counters.wandb_id = metrics.wandb_id
    display = Display(quiet=quiet, interval=loop_cfg.display_interval_s)
    session_start = time.monotonic()
    try:
        replay = ReplayActor.options(num_cpus=0, name=actor_name(run.root, "replay")).remote(str(run.root), config)
        learner = LearnerActor.options(name=actor_name(run.root, "learner"), **_learner_options(config)).remote(
            str(run.root), config, replay, "cuda" if loop_cfg.learner_gpus > 0 else "cpu",
            loop_cfg.learner_thread_count(), loop_cfg.seed + 7919 * counters.sessions)
        actor_device = "cuda" if loop_cfg.actor_gpus > 0 else "cpu"
        actors = [
            SelfPlayActor.options(num_cpus=loop_cfg.actor_cpus, num_gpus=loop_cfg.actor_gpus,
                                  name=actor_name(run.root, f"selfplay-{i}")).remote(
                config, i, replay, actor_device, int(np.ceil(loop_cfg.actor_cpus)))
            for i in range(loop_cfg.selfplay_actors)
        ]
        generation = ray.get(learner.generation_on_disk.remote())
        if generation < 0:
            weights = ray.get(learner.publish.remote(0))
            generation = 0
            counters = Counters(wandb_id=counters.wandb_id, sessions=counters.sessions)
        else:
            weights = ray.get(learner.current_weights.remote())
            if generation != counters.generation:
                log.warning("run state says generation %d, newest checkpoint is %d: using the checkpoint",
                            counters.generation, generation)
                counters.steps_since_publish = 0
        counters.generation = generation
        buffer_stats = ray.get(replay.stats.remote())
        if buffer_stats["rejected"]:
            log.warning("replay buffer: skipped %d unreadable or malformed shard(s) in %s", buffer_stats["rejected"], run.replay)
        counters.positions = buffer_stats["total_seen"]
        counters.games = max(counters.games, buffer_stats["games_added"])
        run.write_run_state(counters.to_json())
        version_ref = (generation, ray.put(weights))
        del weights
        driver = _Driver(config, run, counters, metrics, display, stop, replay, learner, actors, version_ref,
                         session_start)
        driver.loop()
        driver.finish()
    finally:
        counters.elapsed_s += time.monotonic() - session_start
        if run.config_path.exists():
            run.write_run_state(counters.to_json())
        metrics.close()
        display.close()
        ray.shutdown()
    return 0


class _Driver:
    """The event loop of one session of a run (see the module docstring)."""

    def __init__(self, config, run, counters, metrics, display, stop, replay, learner, actors, version_ref, start):
        self.config = config
        self.loop_cfg = config.loop
        self.run = run
        self.c = counters
        self.metrics = metrics
        self.display = display
        self.stop = stop
        self.replay = replay
        self.learner = learner
        self.actors = actors
        self.version, self.weights_ref = version_ref
        self.session_start = start
        self.selfplay_pending: dict = {}  # ObjectRef -> actor index
        self.parked: list[int] = []  # actors waiting because self-play is ahead
        self.incarnations: dict[int, str] = {}  # actor index -> id of the process that last reported
        self.learner_pending = None
        self.eval_pending: dict = {}  # ObjectRef -> generation being evaluated
        self.candidates: dict = {}  # generation -> weights ref, waiting for the gate (gating only)
        self.last_evaluated = self.version  # the chain of evaluations: each due generation plays this one
        self.latest_evaluation: dict | None = None  # the newest evaluation entry (its anchored Elo is displayed)
        self.window = Window()
        self.last_learner: dict = {}
        self.batch = config.trainer.batch_size
        self.ratio = self.loop_cfg.samples_per_position
        self.train_task_samples = self.loop_cfg.train_steps_per_task * self.batch
        self.min_positions = max(self.loop_cfg.min_positions, config.replay.min_positions)

    # ---- balance ---------------------------------------------------------------------------------
    def owed(self) -> float:
        """Training samples owed to the data (positive: the learner is behind)."""
        return self.ratio * self.c.positions - self.c.samples_trained

    def learner_may_train(self) -> bool:
        return self.c.positions >= self.min_positions and self.owed() >= self.train_task_samples

    def selfplay_may_run(self) -> bool:
        if self.c.positions < self.min_positions:
            return True
        return self.owed() < self.train_task_samples + self.ratio * self.loop_cfg.ratio_slack_positions

    def out_of_time(self) -> bool:
        limit = self.loop_cfg.time_limit_minutes
        if limit <= 0:
            return False
        return self.c.elapsed_s + (time.monotonic() - self.session_start) >= limit * 60.0

    def done(self) -> bool:
        return self.stop.requested or self.c.generation >= self.loop_cfg.max_generations or self.out_of_time()

    # ---- submitting ------------------------------------------------------------------------------
    def submit_selfplay(self, index: int) -> None:
        ref = self.actors[index].run.remote(self.version, self.weights_ref, self.loop_cfg.search_steps_per_task)
        self.selfplay_pending[ref] = index

    def submit_learner(self) -> None:
        self.learner_pending = self.learner.train.remote(self.loop_cfg.train_steps_per_task)

    # ---- the loop --------------------------------------------------------------------------------
    def loop(self) -> None:
        for i in range(len(self.actors)):
            self.submit_selfplay(i)
        while not self.done():
            if self.learner_pending is None and self.learner_may_train():
                self.submit_learner()
            if self.parked and self.selfplay_may_run():
                for i in self.parked:
                    self.submit_selfplay(i)
                self.parked = []
            waiting = list(self.selfplay_pending) + ([self.learner_pending] if self.learner_pending else [])
            waiting += list(self.eval_pending)
            if not waiting:
                # Nothing can run: self-play is ahead and the learner is not owed a full task.
                # The balance rules make this impossible; guard against a stall anyway.
                self.parked, parked = [], self.parked
                for i in parked:
                    self.submit_selfplay(i)
                continue
            ready, _ = ray.wait(waiting, num_returns=1, timeout=self.loop_cfg.display_interval_s)
            for ref in ready:
                if self.learner_pending is not None and ref == self.learner_pending:
                    self.on_learner(ref)
                elif ref in self.eval_pending:
                    self.on_evaluation(ref)
                else:
                    self.on_selfplay(ref)
            self.tick()

    def on_selfplay(self, ref) -> None:
        index = self.selfplay_pending.pop(ref)
        try:
            stats = ray.get(ref)
        except (RayActorError, RayTaskError) as e:
            # The actor died (Ray restarts it) or its task failed: its games in flight are lost once.
            log.warning("self-play actor %d failed: %s", index, str(e).splitlines()[0] if str(e) else type(e).__name__)
            self.metrics.log("fault", {"actor": index, "error": type(e).__name__, "generation": self.c.generation})
            if not self.done():
                self.submit_selfplay(index)
            return
        self.note_incarnation(index, stats["incarnation"])
        self.c.positions += stats["positions"]
        self.c.games += stats["added"]
        self.window.add(stats, self.version)
        if self.done():
            return
        if self.selfplay_may_run():
            self.submit_selfplay(index)
        else:
            self.parked.append(index)

    def note_incarnation(self, index: int, incarnation: str) -> None:
        """A new incarnation id means Ray restarted the actor (and retried its task transparently)."""
        previous = self.incarnations.get(index)
        self.incarnations[index] = incarnation
        if previous is not None and previous != incarnation:
            log.warning("self-play actor %d was restarted", index)
            self.metrics.log("fault", {"actor": index, "error": "actor restarted", "generation": self.c.generation})

    def on_learner(self, ref) -> None:
        self.learner_pending = None
        result = ray.get(ref)
        trained = self.train_task_samples
        self.c.samples_trained += trained
        self.c.steps_since_publish += self.loop_cfg.train_steps_per_task
        result["ratio_realised"] = self.c.samples_trained / max(self.c.positions, 1)
        result["generation"] = self.c.generation
        self.last_learner = result
        self.metrics.log("learner", result, step=int(result.get("steps", 0)))
        if self.c.steps_since_publish >= self.loop_cfg.train_steps_per_generation:
            self.publish()

    def publish(self) -> None:
        generation = self.c.generation + 1
        weights_ref = ray.put(ray.get(self.learner.publish.remote(generation)))
        arena = self.config.arena
        due = arena.due(generation)
        if arena.gating and due:
            self.candidates[generation] = weights_ref  # self-play switches only if the gate accepts
        elif not arena.gating:
            self.version, self.weights_ref = generation, weights_ref
        if due:
            previous = self.version if arena.gating else self.last_evaluated
            ref = evaluate_generation.remote(str(self.run.root), self.config, generation, previous)
            self.eval_pending[ref] = generation
            self.last_evaluated = generation
        self.c.generation = generation
        self.c.steps_since_publish = 0
        elapsed = self.c.elapsed_s + time.monotonic() - self.session_start
        self.metrics.log("generation", {"generation": generation, "samples_trained": self.c.samples_trained,
                                        "positions": self.c.positions, "games": self.c.games, "elapsed_s": elapsed,
                                        "ratio_realised": self.c.samples_trained / max(self.c.positions, 1)})
        state = self.c.to_json()
        state["elapsed_s"] = elapsed
        self.run.write_run_state(state)
        self.run.prune_models(self.loop_cfg.keep_checkpoints)
        self.display.generation(generation, self.c, self.last_learner, elapsed)

    def on_evaluation(self, ref) -> None:
        generation = self.eval_pending.pop(ref)
        try:
            result = ray.get(ref)
        except (RayActorError, RayTaskError) as e:
            log.warning("evaluation of generation %d failed: %s", generation, str(e).splitlines()[0])
            self.candidates.pop(generation, None)
            return
        entry = record_and_plot(self.run, result)
        self.latest_evaluation = entry
        self.metrics.log("arena", entry)
        if self.config.arena.gating:
            weights_ref = self.candidates.pop(generation, None)
            if result["decision"] == "accept" and weights_ref is not None and generation > self.version:
                self.version, self.weights_ref = generation, weights_ref
        self.display.message(evaluation_text(entry, self.config.arena.gating))

    def tick(self) -> None:
        if time.monotonic() - self.window.start < self.loop_cfg.display_interval_s:
            return
        summary = self.window.summary()
        summary.update(generation=self.c.generation, positions_total=self.c.positions, games_total=self.c.games,
                       samples_trained=self.c.samples_trained, parked_actors=len(self.parked))
        if summary["games"] or summary["positions_per_s"]:
            self.metrics.log("selfplay", summary)
        self.display.update(self.c, summary, self.last_learner, self.loop_cfg, self.latest_evaluation)
        self.window = Window()

    def finish(self) -> None:
        """Drain: let running self-play tasks deliver their games, finish the learner task, and
        publish what was learned since the last checkpoint."""
        deadline = time.monotonic() + 120.0
        waiting = list(self.selfplay_pending)
        while waiting and time.monotonic() < deadline:
            ready, waiting = ray.wait(waiting, num_returns=len(waiting), timeout=max(0.1, deadline - time.monotonic()))
            for ref in ready:
                self.selfplay_pending.pop(ref, None)
                try:
                    stats = ray.get(ref)
                    self.c.positions += stats["positions"]
                    self.c.games += stats["added"]
                except (RayActorError, RayTaskError):
                    pass
        if self.learner_pending is not None:
            try:
                self.on_learner(self.learner_pending)
            except (RayActorError, RayTaskError) as e:
                log.warning("learner failed while draining: %s", e)
        if self.c.steps_since_publish > 0:
            # Ctrl-C or the time limit in the middle of a generation: what was learned is published
            # (and the counters stay consistent with the newest checkpoint).
            self.publish()
        if self.eval_pending and not self.stop.requested:
            # Let the last evaluations land (their games are on disk and resume anyway).
            self.display.message(f"waiting for {len(self.eval_pending)} evaluation match(es) to finish")
            deadline = time.monotonic() + 900.0
            while self.eval_pending and time.monotonic() < deadline:
                ready, _ = ray.wait(list(self.eval_pending), num_returns=1, timeout=max(0.1, deadline - time.monotonic()))
                for ref in ready:
                    self.on_evaluation(ref)
        reason = self.stop.reason or ("time limit" if self.out_of_time() else "max generations")
        self.metrics.log("stop", {"reason": reason, "generation": self.c.generation})
        self.display.message(f"stopped ({reason}) at generation {self.c.generation}; run directory {self.run.root}")
