"""The driver of a training run: iterate amplification (self-play) and distillation (learning).

Roles (Ray actors): N self-play actors, one replay actor owning the shards, one learner. The driver
publishes each checkpoint once (one ``ray.put`` per version), keeps a fixed number of tasks in
flight and waits on them with ``ray.wait`` (no polling), and balances the two sides: the learner
may train only while it is owed samples (``samples_per_position`` x new positions), self-play
pauses when it runs too far ahead. Counters and checkpoints are on disk after every generation,
so a run killed at any moment resumes from its directory.

The parts: ``balance.py`` (who may run), ``publishing.py`` (checkpoints, gating, the weights
self-play plays), ``faults.py`` (full disk, failed actors, lost nodes), ``stopping.py`` (when the
session ends); this module starts a session and runs its event loop.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import ray
from ray.exceptions import RayActorError, RayTaskError

from alphazero.checkpoint import CheckpointError, read_meta, require_network
from alphazero.config.base import ConfigError
from alphazero.config.run import LoopConfig, RunConfig
from alphazero.train.actors import LearnerActor, ReplayActor, SelfPlayActor, actor_name
from alphazero.train.balance import Balance
from alphazero.train.counters import Counters
from alphazero.train.display import Display, evaluation_text
from alphazero.train.evaluation import EvaluationState, restore_evaluation_state
from alphazero.train.faults import ActorFaults, NodeWatch, abort_if_disk_full
from alphazero.train.inference import InferenceServer, server_clients
from alphazero.train.messages import LearnerReport, SelfPlayResult
from alphazero.train.metrics import MetricsLog, WandbMode
from alphazero.train.publishing import Evaluations, SelfPlayWeights, publish_checkpoint, published_weights
from alphazero.train.run_dir import RunDir
from alphazero.train.stopping import StopRequest, StopRule

log = logging.getLogger(__name__)


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

    def add(self, result: SelfPlayResult, version: int) -> None:
        self.games += result.games
        self.positions += result.positions
        self.evaluations += result.evaluations
        self.lengths += result.lengths
        self.resigned += result.resigned
        self.no_resign_checked += result.no_resign_checked
        self.false_positives += result.resign_false_positives
        self.black_wins += result.black_wins
        self.lags += [version - v for v in result.record_versions]
        self.eval_cache_lookups += result.eval_cache_lookups
        self.eval_cache_hits += result.eval_cache_hits

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


def with_limits(config: RunConfig, max_generations: int | None = None,
                time_limit_minutes: float | None = None) -> RunConfig:
    """``config`` with the command line's stopping limits (None: as configured)."""
    loop = config.loop
    if max_generations is not None:
        loop = replace(loop, max_generations=max_generations)
    if time_limit_minutes is not None:
        loop = replace(loop, time_limit_minutes=time_limit_minutes)
    return replace(config, loop=loop)


def _write_config(run: RunDir, config: RunConfig) -> None:
    from alphazero.atomic_io import write_bytes_atomic

    write_bytes_atomic(run.config_path, json.dumps(config.to_dict(), indent=1, sort_keys=True).encode())


def prepare_run_dir(run: RunDir, config: RunConfig | None, resume: bool, max_generations: int | None = None,
                    time_limit_minutes: float | None = None) -> RunConfig:
    """The config this session runs, saved as ``config.json`` first: a new run writes its config
    with the limits applied; a resumed one reads it back (and must find it), and a limit that
    changes it is written back, so the file always holds the config that ran last."""
    if resume:
        if not run.config_path.exists():
            raise ConfigError(f"{run.root} is not a run directory (no config.json)")
        try:
            data = json.loads(run.config_path.read_text())
        except json.JSONDecodeError as e:
            raise ConfigError(f"{run.config_path} is not valid JSON: {e}") from None
        saved = RunConfig.from_dict(data)
        running = with_limits(saved, max_generations, time_limit_minutes)
        if json.loads(json.dumps(running.to_dict())) != data:  # new limits, or an older version's fields upgraded
            _write_config(run, running)
        return running
    assert config is not None
    if run.config_path.exists():
        raise ConfigError(f"{run.root} already holds a run; use --resume {run.root} to continue it")
    config = with_limits(config, max_generations, time_limit_minutes)
    run.create()
    _write_config(run, config)
    return config


def start_ray(address: str | None) -> bool:
    """Join the cluster at ``address`` or start a local Ray; False (and nothing done) when this
    process is already connected, e.g. a test or notebook sharing one cluster between runs."""
    if ray.is_initialized():
        return False
    # Actor warnings (a skipped shard, a restarted optimiser) reach the driver's stderr in every mode.
    kwargs = dict(include_dashboard=False, log_to_driver=True, logging_level=logging.WARNING,
                  configure_logging=True)
    if address:
        ray.init(address=address, **kwargs)
    else:
        # "local": a new Ray of our own, never a cluster some other `ray start` on this machine
        # left in /tmp/ray/ray_current_cluster (which a bare ray.init() would join).
        ray.init(address="local", num_cpus=max(2, os.cpu_count() or 2), **kwargs)
    return True


def _devices(loop: LoopConfig) -> tuple[str, str]:
    """(self-play device, learner device): CUDA where the role reserves GPUs, unless ``loop.device``
    forces the CPU (the reservations, and so the placement, stay as configured)."""
    return _device(loop, loop.actor_gpus), _device(loop, loop.learner_gpus)


def _device(loop: LoopConfig, gpus: float) -> str:
    return "cuda" if gpus > 0 and loop.device != "cpu" else "cpu"


def _inference_servers(config: RunConfig, run: RunDir) -> list:
    """The shared inference servers (none with per-actor inference), each told how many self-play
    actors it serves (when all of them wait, its batch is as full as it gets)."""
    loop = config.loop
    if loop.inference != "shared":
        return []
    return [InferenceServer.options(num_cpus=loop.inference_server_cpus, num_gpus=loop.inference_server_gpus,
                                    name=actor_name(run.root, f"inference-{k}")).remote(
                config, k, _device(loop, loop.inference_server_gpus), int(np.ceil(loop.inference_server_cpus)), len(clients))
            for k, clients in enumerate(server_clients(loop))]


def _selfplay_spawner(config: RunConfig, run: RunDir, replay, servers: list, held: list):
    """``spawn(index, pinned=True, name_suffix="")``: a new self-play actor for ``index`` (it holds
    one unit of ``loop.actor_resource`` only when ``pinned``); each actor made is added to ``held``."""
    loop = config.loop
    device = _devices(loop)[0]

    def spawn(index: int, pinned: bool = True, name_suffix: str = ""):
        resources = {loop.actor_resource: 1} if loop.actor_resource and pinned else None
        server = servers[index % len(servers)] if servers else None
        actor = SelfPlayActor.options(num_cpus=loop.actor_cpus, num_gpus=loop.actor_gpus, resources=resources,
                                      name=actor_name(run.root, f"selfplay-{index}{name_suffix}")).remote(
            config, index, replay, device, int(np.ceil(loop.actor_cpus)), server)
        held.append(actor)
        return actor

    return spawn


def _learner_options(config: RunConfig, held: list) -> dict:
    """Ray options of the learner; with GPUs, a placement group that ``held`` keeps for removal."""
    loop = config.loop
    options = {"num_cpus": loop.learner_cpus}
    if loop.learner_resource:
        options["resources"] = {loop.learner_resource: 1}
    if loop.learner_gpus > 0:
        from ray.util.placement_group import placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        bundle = {"GPU": loop.learner_gpus, "CPU": loop.learner_cpus, **options.get("resources", {})}
        pg = placement_group([bundle], strategy="STRICT_PACK")
        held.append(pg)
        ray.get(pg.ready())
        options.update(num_gpus=loop.learner_gpus, scheduling_strategy=PlacementGroupSchedulingStrategy(placement_group=pg))
    return options


def _release(held: list) -> None:
    """On a cluster this run did not start: end its actors, open tasks and placement group, so the
    cluster's resources are free for the next run."""
    from ray.util.placement_group import PlacementGroup, remove_placement_group

    for item in reversed(held):
        try:
            if isinstance(item, PlacementGroup):
                remove_placement_group(item)
            elif isinstance(item, ray.ObjectRef):
                ray.cancel(item, force=True)
            else:
                ray.kill(item, no_restart=True)
        except Exception as e:  # noqa: BLE001 - already gone is fine; anything else is worth a line
            log.warning("could not release %s: %s", item, e)


def train(config: RunConfig | None, run_root: Path, resume: bool = False, address: str | None = None,
          wandb_mode: WandbMode = "off", quiet: bool = False, max_generations: int | None = None,
          time_limit_minutes: float | None = None) -> int:
    """Run (or resume) a training run until ``max_generations`` or the time limit; returns 0."""
    run = RunDir(Path(run_root))
    config = prepare_run_dir(run, config, resume, max_generations, time_limit_minutes)
    run.create()
    counters = Counters.from_json(run.read_run_state() or {})
    counters.sessions += 1
    if resume:
        _refuse_another_network(run, config)
    stop = StopRequest()
    stop.install()
    owns_ray = start_ray(address)
    held: list = []  # actors, placement groups and tasks to release on a shared cluster
    driver = None
    metrics = MetricsLog(run.metrics_path, wandb_mode, run.root.name, config.to_dict(), counters.wandb_id)
    counters.wandb_id = metrics.wandb_id
    display = Display(quiet=quiet, interval=config.loop.display_interval_s)
    session_start = time.monotonic()
    try:
        driver = _start_driver(config, run, counters, metrics, display, StopRule(stop, config.loop), session_start, held)
        try:
            driver.loop()
            driver.finish()
        except OSError as e:  # the driver's own writes (run state, metrics)
            abort_if_disk_full(e)
            raise
    finally:
        try:
            _end_session(run, counters, metrics, display, session_start)
            if owns_ray:
                ray.shutdown()
            else:
                _release(held + (list(driver.evaluations.pending) if driver is not None else []))
        finally:
            stop.uninstall()
    return 0


def _refuse_another_network(run: RunDir, config: RunConfig) -> None:
    """ConfigError when the newest checkpoint of a resumed run is not of the configured network."""
    newest = run.latest_valid_generation()  # reports (and so skips) broken checkpoints here, in the driver's log
    if newest is not None:  # refused here, before any actor loads the weights strictly
        try:
            require_network(read_meta(run.model_dir(newest)), config.network, str(run.model_dir(newest)))
        except CheckpointError as e:
            raise ConfigError(str(e)) from None


def _start_driver(config: RunConfig, run: RunDir, counters: Counters, metrics: MetricsLog, display: Display,
                  stop: StopRule, session_start: float, held: list) -> _Driver:
    """Start the session's actors (each added to ``held``), bring the counters and the evaluation
    state to the newest checkpoint, send its weights to the shared servers, and hand it all to a driver."""
    replay, learner, servers, spawn, actors = _start_actors(config, run, counters, held)
    evaluation, weights = _restore_generation(run, config, learner, counters)
    _count_buffer(run, replay, counters)
    weights_ref = ray.put(weights)
    del weights
    for server in servers:
        server.load_weights.remote(evaluation.published, weights_ref)
    placed = _log_placement(metrics, {"replay": replay, "learner": learner,
                                      **{f"inference-{k}": s for k, s in enumerate(servers)},
                                      **{f"selfplay-{i}": a for i, a in enumerate(actors)}})
    session = Session(config, run, metrics, display, stop, replay, learner, actors, servers, spawn, session_start)
    return _Driver.start(session, counters, evaluation, weights_ref,
                         {i: placed.get(f"selfplay-{i}", {}).get("node_id") for i in range(len(actors))})


def _start_actors(config: RunConfig, run: RunDir, counters: Counters, held: list) -> tuple:
    """(replay, learner, shared inference servers, the spawner of self-play actors, the self-play
    actors) of a session; each actor and placement group made is added to ``held``."""
    loop = config.loop
    replay = ReplayActor.options(num_cpus=0, name=actor_name(run.root, "replay")).remote(str(run.root), config)
    held.append(replay)
    learner = LearnerActor.options(name=actor_name(run.root, "learner"), **_learner_options(config, held)).remote(
        str(run.root), config, replay, _devices(loop)[1],
        loop.learner_thread_count(), loop.seed + 7919 * counters.sessions)
    held.append(learner)
    servers = _inference_servers(config, run)
    held.extend(servers)
    spawn = _selfplay_spawner(config, run, replay, servers, held)
    return replay, learner, servers, spawn, [spawn(i) for i in range(loop.selfplay_actors)]


def _restore_generation(run: RunDir, config: RunConfig, learner, counters: Counters) -> tuple[EvaluationState, dict]:
    """The evaluation state and self-play's weights at the newest checkpoint; a run without one
    publishes generation 0 and its counters start over. The evaluation state is on disk after."""
    generation = ray.get(learner.generation_on_disk.remote())
    if generation < 0:
        weights = ray.get(learner.publish.remote(0))
        generation = 0
        counters.start_over()
        evaluation = EvaluationState()
    else:
        if generation != counters.generation:
            log.warning("run state says generation %d, newest checkpoint is %d: using the checkpoint",
                        counters.generation, generation)
            counters.steps_since_publish = 0
        evaluation = restore_evaluation_state(run, config.arena, generation)
        weights = published_weights(run, learner, evaluation, generation)
    run.write_evaluation_state(evaluation.to_json())
    counters.generation = generation
    return evaluation, weights


def _count_buffer(run: RunDir, replay, counters: Counters) -> None:
    """The counters take the replay buffer's totals (the shards on disk are the truth), written at once."""
    buffer_stats = ray.get(replay.stats.remote())
    if buffer_stats["rejected"]:
        log.warning("replay buffer: skipped %d unreadable or malformed shard(s) in %s", buffer_stats["rejected"], run.replay)
    counters.positions = buffer_stats["total_seen"]
    counters.games = max(counters.games, buffer_stats["games_ever"])
    run.write_run_state(counters.to_json())


def _end_session(run: RunDir, counters: Counters, metrics: MetricsLog, display: Display, session_start: float) -> None:
    """Add the session's wall time to the counters, write them a last time, close the logs."""
    counters.elapsed_s += time.monotonic() - session_start
    try:
        if run.config_path.exists():
            run.write_run_state(counters.to_json())
        metrics.close()
    except OSError as e:  # a full disk: the run state of the last generation stays as it was
        log.warning("could not write the final run state: %s", e)
    display.close()


def _log_placement(metrics: MetricsLog, actors: dict, timeout_s: float = 120.0) -> dict:
    """A ``placement`` metrics record: each actor's node, GPUs and placement group, the nodes'
    resources, and the actors still pending after ``timeout_s`` (the run goes on without them).
    Returns the placed actors' records by name."""
    from ray.util.placement_group import placement_group_table

    refs = {name: handle.placement.remote() for name, handle in actors.items()}
    ready, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=timeout_s)
    placed = {name: ray.get(ref) for name, ref in refs.items() if ref in ready}
    pending = sorted(name for name, ref in refs.items() if ref not in ready)
    if pending:
        log.warning("actors not placed after %.0f s (the cluster lacks the resources they need?): %s",
                    timeout_s, ", ".join(pending))
    groups = {p["placement_group"] for p in placed.values() if p["placement_group"]}
    table = placement_group_table()
    nodes = {n["NodeID"]: {"address": n["NodeManagerAddress"], "resources": n["Resources"]}
             for n in ray.nodes() if n["Alive"]}
    metrics.log("placement", {"actors": placed, "pending": pending, "nodes": nodes,
                              "placement_groups": {g: {k: table[g][k] for k in ("state", "strategy", "bundles")}
                                                   for g in groups if g in table},
                              "available": ray.available_resources()})
    return placed


@dataclass(frozen=True)
class Session:
    """What one session of a run works with, made before its event loop starts."""

    config: RunConfig
    run: RunDir
    metrics: MetricsLog
    display: Display
    stop: StopRule
    replay: object  # the replay actor
    learner: object  # the learner actor
    actors: list  # the self-play actors by index (those of a lost node are replaced in place)
    servers: list  # shared inference servers (empty: per-actor inference)
    spawn: object  # spawn(index, pinned, name_suffix): a new self-play actor (see _selfplay_spawner)
    start: float  # time.monotonic() at the session's start

    @property
    def loop(self) -> LoopConfig:
        return self.config.loop


@dataclass
class _Driver:
    """The event loop of one session of a run (see the module docstring)."""

    s: Session
    c: Counters  # the run's counters, on disk with every generation
    balance: Balance
    weights: SelfPlayWeights  # what self-play plays
    evaluations: Evaluations
    faults: ActorFaults
    nodes: NodeWatch
    selfplay_pending: dict = field(default_factory=dict)  # ObjectRef -> actor index
    learner_pending: object = None  # ObjectRef of the learner's task, when one runs
    window: Window = field(default_factory=Window)
    last_learner: LearnerReport | None = None

    @classmethod
    def start(cls, session: Session, counters: Counters, evaluation: EvaluationState, weights_ref,
              actor_nodes: dict[int, str | None]) -> _Driver:
        """The driver of ``session``; self-play starts with the published generation's ``weights_ref``."""
        weights = SelfPlayWeights(evaluation.published, weights_ref, session.servers)
        driver = cls(session, counters, Balance.of(session.config, counters), weights,
                     Evaluations(session.run, session.config, session.metrics, weights, evaluation),
                     ActorFaults(session.metrics),
                     NodeWatch(session.actors, session.spawn, session.loop.actor_resource, session.metrics, actor_nodes))
        counters.stage = session.config.curriculum.stage_at(driver.elapsed_s() / 60.0, counters.generation,
                                                            counters.games, counters.stage)
        return driver

    def elapsed_s(self) -> float:
        """Wall time of the run, all sessions together."""
        return self.c.elapsed_s + (time.monotonic() - self.s.start)

    def done(self) -> bool:
        return self.s.stop.done(self.c.generation, self.elapsed_s())

    def write_run_state(self, elapsed: float) -> None:
        """The counters on disk, with the run's wall time so far."""
        state = self.c.to_json()
        state["elapsed_s"] = elapsed
        self.s.run.write_run_state(state)

    # ---- the curriculum --------------------------------------------------------------------------
    def stage_size(self) -> int:
        return self.s.config.stage_rules(self.c.stage)[0]

    def stage_text(self) -> str | None:
        """``7x7 (stage 1/2)`` for the display; None without a curriculum."""
        if not self.s.config.curriculum.enabled:
            return None
        n = self.stage_size()
        return f"{n}x{n} (stage {self.c.stage + 1}/{len(self.s.config.curriculum.stages)})"

    def update_stage(self) -> None:
        """Move to the next curriculum stage once one of the current one's ends is reached: later
        self-play tasks play the new size, the learner's batches follow (curriculum.replay), and the
        stage is on disk at once, so a run killed right after the switch resumes past it."""
        curriculum = self.s.config.curriculum
        if not curriculum.enabled:
            return
        elapsed = self.elapsed_s()
        stage = curriculum.stage_at(elapsed / 60.0, self.c.generation, self.c.games, self.c.stage)
        if stage == self.c.stage:
            return
        previous, self.c.stage = self.c.stage, stage
        n, rules = self.s.config.stage_rules(stage)
        self.s.metrics.log("curriculum", {"stage": stage, "previous_stage": previous, "board_size": n, "komi": rules.komi,
                                          "generation": self.c.generation, "games": self.c.games,
                                          "positions": self.c.positions, "elapsed_s": elapsed})
        self.write_run_state(elapsed)
        self.s.display.message(f"curriculum: stage {stage + 1}/{len(curriculum.stages)} from now on, self-play on "
                               f"{n}x{n} (komi {rules.komi:g}) after {elapsed / 60:.1f} min, generation {self.c.generation}, "
                               f"{self.c.games} games")

    # ---- submitting ------------------------------------------------------------------------------
    def submit_selfplay(self, index: int) -> None:
        ref = self.s.actors[index].run.remote(self.weights.version, self.weights.ref, self.s.loop.search_steps_per_task,
                                              self.c.stage)
        self.selfplay_pending[ref] = index

    def submit_learner(self) -> None:
        self.balance.learner_starts()
        curriculum = self.s.config.curriculum
        size = self.stage_size() if curriculum.enabled and curriculum.replay == "current" else None
        self.learner_pending = self.s.learner.train.remote(self.s.loop.train_steps_per_task, size)

    def release_parked(self) -> None:
        for i in self.balance.unpark():
            self.submit_selfplay(i)

    # ---- the loop --------------------------------------------------------------------------------
    def loop(self) -> None:
        self.evaluations.resubmit_undecided()
        for i in range(len(self.s.actors)):
            self.submit_selfplay(i)
        while not self.done():
            self.update_stage()
            if self.learner_pending is None and self.balance.learner_may_train():
                self.submit_learner()
            if self.balance.parked and self.balance.selfplay_may_run():
                self.release_parked()
            waiting = list(self.selfplay_pending) + ([self.learner_pending] if self.learner_pending else [])
            waiting += list(self.evaluations.pending)
            if not waiting:
                # Nothing can run: self-play is ahead and the learner is not owed a full task.
                # The balance rules make this impossible; guard against a stall anyway.
                self.release_parked()
                continue
            ready, _ = ray.wait(waiting, num_returns=1, timeout=self.s.loop.display_interval_s)
            for ref in ready:
                if self.learner_pending is not None and ref == self.learner_pending:
                    self.on_learner(ref)
                elif ref in self.evaluations.pending:
                    self.on_evaluation(ref)
                else:
                    self.on_selfplay(ref)
            self.tick()

    def on_selfplay(self, ref) -> None:
        index = self.selfplay_pending.pop(ref)
        try:
            stats = ray.get(ref)
        except (RayActorError, RayTaskError) as e:
            self.faults.task_failed(index, e, self.c.generation)
            if not self.done():
                self.submit_selfplay(index)
            return
        self.faults.note_incarnation(index, stats.incarnation, self.c.generation)
        self.c.count_stored(stats)
        self.window.add(stats, self.weights.version)
        if self.done():
            return
        if self.balance.selfplay_may_run():
            self.submit_selfplay(index)
        else:
            self.balance.park(index)

    def on_learner(self, ref) -> None:
        self.learner_pending = None
        self.balance.learner_stops()
        report: LearnerReport = ray.get(ref)
        self.c.samples_trained += self.balance.task_samples
        self.c.steps_since_publish += self.s.loop.train_steps_per_task
        self.last_learner = report
        self.s.metrics.log("learner", {**report.to_metrics(), "ratio_realised": self.c.samples_trained / max(self.c.positions, 1),
                                       "generation": self.c.generation}, step=report.steps)
        if self.c.steps_since_publish >= self.s.loop.train_steps_per_generation:
            self.publish()

    def publish(self) -> None:
        generation = self.c.generation + 1
        self.evaluations.offer(generation, publish_checkpoint(self.s.learner, generation))
        self.c.generation = generation
        self.c.steps_since_publish = 0
        elapsed = self.elapsed_s()
        self.s.metrics.log("generation", {"generation": generation, "samples_trained": self.c.samples_trained,
                                          "positions": self.c.positions, "games": self.c.games, "elapsed_s": elapsed,
                                          "ratio_realised": self.c.samples_trained / max(self.c.positions, 1),
                                          "selfplay_parked_s": self.balance.parked_s,
                                          "learner_idle_s": self.balance.learner_idle_s,
                                          "stage": self.c.stage, "board_size": self.stage_size()})
        self.write_run_state(elapsed)
        self.s.run.prune_models(self.s.loop.keep_checkpoints, protect=self.evaluations.state.in_use())
        self.s.display.generation(generation, self.c, self.last_learner, elapsed, self.stage_text())

    def on_evaluation(self, ref) -> None:
        entry = self.evaluations.on_result(ref)
        if entry is not None:
            self.s.display.message(evaluation_text(entry, self.s.config.arena.gating))

    def check_nodes(self) -> None:
        """Replace the self-play actors of nodes that died (``NodeWatch``) and resubmit their tasks."""
        for index in self.nodes.replace_lost(self.c.generation):
            self.faults.forget(index)  # the replacement is a new actor, not a restart of the old one
            for ref in [r for r, i in self.selfplay_pending.items() if i == index]:
                del self.selfplay_pending[ref]  # its games in flight died with the node
            if index not in self.balance.parked and not self.done():
                self.submit_selfplay(index)

    def tick(self, final: bool = False) -> None:
        """Every display interval (and once at the session's end, ``final``): the self-play
        statistics of the window since the last tick to the metrics and the display."""
        if not final and time.monotonic() - self.window.start < self.s.loop.display_interval_s:
            return
        if not final:
            self.check_nodes()
        summary = self.window.summary()
        summary.update(generation=self.c.generation, positions_total=self.c.positions, games_total=self.c.games,
                       samples_trained=self.c.samples_trained, parked_actors=len(self.balance.parked),
                       stage=self.c.stage, board_size=self.stage_size())
        if summary["games"] or summary["positions_per_s"]:
            self.s.metrics.log("selfplay", summary)
        self.s.display.update(self.c, summary, self.last_learner, self.s.loop, self.evaluations.latest, self.stage_text())
        self.window = Window()

    # ---- the clean stop --------------------------------------------------------------------------
    def finish(self) -> None:
        """Drain: let running self-play tasks deliver their games, finish the learner task, and
        publish what was learned since the last checkpoint."""
        self.drain_selfplay(time.monotonic() + 120.0)
        if self.learner_pending is not None:
            try:
                self.on_learner(self.learner_pending)
            except (RayActorError, RayTaskError) as e:
                log.warning("learner failed while draining: %s", e)
        if self.c.steps_since_publish > 0:
            # Ctrl-C or the time limit in the middle of a generation: what was learned is published
            # (and the counters stay consistent with the newest checkpoint).
            self.publish()
        if self.evaluations.pending and not self.s.stop.request.requested:
            self.drain_evaluations()
        if self.s.servers:
            self.log_server_stats()
        self.tick(final=True)  # the last window's games, however short the session
        reason = self.s.stop.reason(self.elapsed_s())
        self.s.metrics.log("stop", {"reason": reason, "generation": self.c.generation})
        self.s.display.message(f"stopped ({reason}) at generation {self.c.generation}; run directory {self.s.run.root}")

    def drain_selfplay(self, deadline: float) -> None:
        """Count the games of the self-play tasks that end before ``deadline``."""
        waiting = list(self.selfplay_pending)
        while waiting and time.monotonic() < deadline:
            ready, waiting = ray.wait(waiting, num_returns=len(waiting), timeout=max(0.1, deadline - time.monotonic()))
            for ref in ready:
                index = self.selfplay_pending.pop(ref, None)
                try:
                    stats = ray.get(ref)
                    self.faults.note_incarnation(index, stats.incarnation, self.c.generation)
                    self.c.count_stored(stats)
                except (RayActorError, RayTaskError):
                    pass

    def drain_evaluations(self) -> None:
        """Let the last evaluations land (their games are on disk and resume anyway)."""
        self.s.display.message(f"waiting for {len(self.evaluations.pending)} evaluation match(es) to finish")
        deadline = time.monotonic() + 900.0
        while self.evaluations.pending and time.monotonic() < deadline:
            ready, _ = ray.wait(list(self.evaluations.pending), num_returns=1, timeout=max(0.1, deadline - time.monotonic()))
            for ref in ready:
                self.on_evaluation(ref)

    def log_server_stats(self) -> None:
        """What the shared servers batched this session."""
        refs = [server.stats.remote() for server in self.s.servers]
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=30.0)
        self.s.metrics.log("inference", {"servers": [ray.get(r) for r in refs if r in ready]})
