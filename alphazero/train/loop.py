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

from alphazero.atomic_io import NO_SPACE, DiskFullError
from alphazero.checkpoint import CheckpointError, load_checkpoint, read_meta, require_network
from alphazero.config.base import ConfigError
from alphazero.config.run import LoopConfig, RunConfig
from alphazero.train.actors import LearnerActor, ReplayActor, SelfPlayActor, actor_name
from alphazero.train.display import Display, evaluation_text
from alphazero.train.evaluation import Evaluation, EvaluationState, evaluate_generation, record_and_plot, restore_evaluation_state
from alphazero.train.inference import InferenceServer, server_clients
from alphazero.train.messages import LearnerReport, SelfPlayResult
from alphazero.train.metrics import MetricsLog, WandbMode
from alphazero.train.run_dir import RunDir

log = logging.getLogger(__name__)


class RunAborted(RuntimeError):
    """The run cannot go on (e.g. its disk is full); the message says why and what to do. What was
    written before (checkpoints, shards, state) stays valid: the run resumes once the cause is gone."""


def _disk_full(error: BaseException) -> BaseException | None:
    """The out-of-space error behind ``error`` (a Ray task error wraps the remote one), if any."""
    found = None
    for _ in range(8):  # Ray's error types subclass the remote one: go on to the original inside
        if error is None:
            break
        if isinstance(error, DiskFullError) or (isinstance(error, OSError) and error.errno in NO_SPACE):
            found = error
            if not isinstance(error, (RayTaskError, RayActorError)):
                return error
        error = getattr(error, "cause", None) or error.__cause__
    return found


def _abort_if_disk_full(error: BaseException) -> None:
    full = _disk_full(error)
    if full is not None:
        text = full.strerror if isinstance(full, OSError) and full.strerror else str(full).strip().splitlines()[-1]
        raise RunAborted(f"disk full, run stopped: {text}") from None


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
    stage: int = 0  # the board-size curriculum's stage reached (it never goes back)

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
    loop_cfg = config.loop
    run.create()
    saved = run.read_run_state() or {}
    counters = Counters(**{k: v for k, v in saved.items() if k in Counters.__dataclass_fields__})
    counters.sessions += 1

    if resume:
        newest = run.latest_valid_generation()  # reports (and so skips) broken checkpoints here, in the driver's log
        if newest is not None:  # refused here, before any actor loads the weights strictly
            try:
                require_network(read_meta(run.model_dir(newest)), config.network, str(run.model_dir(newest)))
            except CheckpointError as e:
                raise ConfigError(str(e)) from None
    stop = StopRequest()
    stop.install()
    owns_ray = start_ray(address)
    held: list = []  # actors, placement groups and tasks to release on a shared cluster
    driver = None
    metrics = MetricsLog(run.metrics_path, wandb_mode, run.root.name, config.to_dict(), counters.wandb_id)
    counters.wandb_id = metrics.wandb_id
    display = Display(quiet=quiet, interval=loop_cfg.display_interval_s)
    session_start = time.monotonic()
    try:
        learner_device = _devices(loop_cfg)[1]
        replay = ReplayActor.options(num_cpus=0, name=actor_name(run.root, "replay")).remote(str(run.root), config)
        held.append(replay)
        learner = LearnerActor.options(name=actor_name(run.root, "learner"), **_learner_options(config, held)).remote(
            str(run.root), config, replay, learner_device,
            loop_cfg.learner_thread_count(), loop_cfg.seed + 7919 * counters.sessions)
        held.append(learner)
        servers = _inference_servers(config, run)
        held += servers
        spawn = _selfplay_spawner(config, run, replay, servers, held)
        actors = [spawn(i) for i in range(loop_cfg.selfplay_actors)]
        generation = ray.get(learner.generation_on_disk.remote())
        if generation < 0:
            weights = ray.get(learner.publish.remote(0))
            generation = 0
            counters = Counters(wandb_id=counters.wandb_id, sessions=counters.sessions)
            evaluation = EvaluationState()
        else:
            if generation != counters.generation:
                log.warning("run state says generation %d, newest checkpoint is %d: using the checkpoint",
                            counters.generation, generation)
                counters.steps_since_publish = 0
            evaluation = restore_evaluation_state(run, config.arena, generation)
            weights = _published_weights(run, learner, evaluation, generation)
        run.write_evaluation_state(evaluation.to_json())
        counters.generation = generation
        buffer_stats = ray.get(replay.stats.remote())
        if buffer_stats["rejected"]:
            log.warning("replay buffer: skipped %d unreadable or malformed shard(s) in %s", buffer_stats["rejected"], run.replay)
        counters.positions = buffer_stats["total_seen"]
        counters.games = max(counters.games, buffer_stats["games_ever"])
        run.write_run_state(counters.to_json())
        weights_ref = ray.put(weights)
        del weights
        for server in servers:
            server.load_weights.remote(evaluation.published, weights_ref)
        placed = _log_placement(metrics, {"replay": replay, "learner": learner,
                                          **{f"inference-{k}": s for k, s in enumerate(servers)},
                                          **{f"selfplay-{i}": a for i, a in enumerate(actors)}})
        driver = _Driver(config, run, counters, metrics, display, stop, replay, learner, actors, evaluation,
                         weights_ref, session_start, servers=servers, spawn=spawn,
                         actor_nodes={i: placed.get(f"selfplay-{i}", {}).get("node_id") for i in range(len(actors))})
        try:
            driver.loop()
            driver.finish()
        except OSError as e:  # the driver's own writes (run state, metrics)
            _abort_if_disk_full(e)
            raise
    finally:
        counters.elapsed_s += time.monotonic() - session_start
        try:
            if run.config_path.exists():
                run.write_run_state(counters.to_json())
            metrics.close()
        except OSError as e:  # a full disk: the run state of the last generation stays as it was
            log.warning("could not write the final run state: %s", e)
        display.close()
        if owns_ray:
            ray.shutdown()
        else:
            _release(held + (list(driver.eval_pending) if driver is not None else []))
    return 0


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


def _checkpoint_weights(run: RunDir, generation: int) -> dict:
    """Weights of a published checkpoint as numpy arrays, as the self-play actors take them."""
    return {k: v.numpy() for k, v in load_checkpoint(run.model_dir(generation)).state_dict.items()}


def _published_weights(run: RunDir, learner, evaluation: EvaluationState, newest: int) -> dict:
    """The weights self-play resumes with: the gate's published generation (the newest one without
    gating); the newest if that checkpoint no longer loads."""
    if evaluation.published != newest:
        try:
            return _checkpoint_weights(run, evaluation.published)
        except CheckpointError as e:
            log.warning("published generation %d does not load (%s): self-play uses generation %d",
                        evaluation.published, e, newest)
            evaluation.published = newest
    return ray.get(learner.current_weights.remote())


class _Driver:
    """The event loop of one session of a run (see the module docstring)."""

    def __init__(self, config, run, counters, metrics, display, stop, replay, learner, actors, evaluation,
                 weights_ref, start, servers=(), spawn=None, actor_nodes=None):
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
        self.servers = list(servers)  # shared inference servers (empty: per-actor inference)
        self.spawn = spawn  # makes a replacement self-play actor (see replace_actor)
        self.actor_nodes: dict[int, str | None] = dict(actor_nodes or {})  # actor index -> its node, where known
        self.alive_nodes: set[str] | None = None  # node ids alive at the last check
        self.placement_pending: dict = {}  # ObjectRef of a replacement's placement() -> actor index
        self.replacements = 0
        self.evaluation: EvaluationState = evaluation  # persisted in state/evaluation.json on every change
        self.version, self.weights_ref = evaluation.published, weights_ref
        self.session_start = start
        self.selfplay_pending: dict = {}  # ObjectRef -> actor index
        self.parked: list[int] = []  # actors waiting because self-play is ahead
        self.parked_at: dict[int, float] = {}  # actor index -> when it was parked
        # Which side waits (session totals, in the generation records): actor-seconds of self-play
        # parked, and seconds the learner sat idle for want of data once the buffer was warm.
        self.parked_s = 0.0
        self.learner_idle_s = 0.0
        self.learner_idle_since: float | None = None
        self.incarnations: dict[int, str] = {}  # actor index -> id of the process that last reported
        self.learner_pending = None
        self.eval_pending: dict = {}  # ObjectRef -> generation being evaluated
        self.candidates: dict = {}  # generation -> weights ref, waiting for the gate (gating only)
        self.latest_evaluation: dict | None = None  # the newest evaluation entry (its anchored Elo is displayed)
        self.window = Window()
        self.last_learner: LearnerReport | None = None
        self.batch = config.trainer.batch_size
        self.ratio = self.loop_cfg.samples_per_position
        self.train_task_samples = self.loop_cfg.train_steps_per_task * self.batch
        self.min_positions = config.replay.min_positions
        self.curriculum = config.curriculum
        self.c.stage = self.curriculum.stage_at(self.elapsed_s() / 60.0, self.c.generation, self.c.games, self.c.stage)

    # ---- the curriculum --------------------------------------------------------------------------
    def elapsed_s(self) -> float:
        """Wall time of the run, all sessions together."""
        return self.c.elapsed_s + (time.monotonic() - self.session_start)

    def stage_size(self) -> int:
        return self.config.stage_rules(self.c.stage)[0]

    def stage_text(self) -> str | None:
        """``7x7 (stage 1/2)`` for the display; None without a curriculum."""
        if not self.curriculum.enabled:
            return None
        n = self.stage_size()
        return f"{n}x{n} (stage {self.c.stage + 1}/{len(self.curriculum.stages)})"

    def update_stage(self) -> None:
        """Move to the next curriculum stage once one of the current one's ends is reached: later
        self-play tasks play the new size, the learner's batches follow (curriculum.replay), and the
        stage is on disk at once, so a run killed right after the switch resumes past it."""
        if not self.curriculum.enabled:
            return
        elapsed = self.elapsed_s()
        stage = self.curriculum.stage_at(elapsed / 60.0, self.c.generation, self.c.games, self.c.stage)
        if stage == self.c.stage:
            return
        previous, self.c.stage = self.c.stage, stage
        n, rules = self.config.stage_rules(stage)
        self.metrics.log("curriculum", {"stage": stage, "previous_stage": previous, "board_size": n, "komi": rules.komi,
                                        "generation": self.c.generation, "games": self.c.games,
                                        "positions": self.c.positions, "elapsed_s": elapsed})
        state = self.c.to_json()
        state["elapsed_s"] = elapsed
        self.run.write_run_state(state)
        self.display.message(f"curriculum: stage {stage + 1}/{len(self.curriculum.stages)} from now on, self-play on "
                             f"{n}x{n} (komi {rules.komi:g}) after {elapsed / 60:.1f} min, generation {self.c.generation}, "
                             f"{self.c.games} games")

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
        ref = self.actors[index].run.remote(self.version, self.weights_ref, self.loop_cfg.search_steps_per_task, self.c.stage)
        self.selfplay_pending[ref] = index

    def use_weights(self, version: int, weights_ref) -> None:
        """Self-play switches to ``version`` from its next task on; shared servers get it now (not
        waited for: a server that lags is sent the weights by the first actor that needs them)."""
        self.version, self.weights_ref = version, weights_ref
        for server in self.servers:
            server.load_weights.remote(version, weights_ref)

    def submit_learner(self) -> None:
        if self.learner_idle_since is not None:
            self.learner_idle_s += time.monotonic() - self.learner_idle_since
            self.learner_idle_since = None
        size = self.stage_size() if self.curriculum.enabled and self.curriculum.replay == "current" else None
        self.learner_pending = self.learner.train.remote(self.loop_cfg.train_steps_per_task, size)

    def release_parked(self) -> None:
        now = time.monotonic()
        parked, self.parked = self.parked, []
        for i in parked:
            self.parked_s += now - self.parked_at.pop(i, now)
            self.submit_selfplay(i)

    def submit_evaluation(self, generation: int, previous: int) -> None:
        ref = evaluate_generation.remote(str(self.run.root), self.config, generation, previous)
        self.eval_pending[ref] = generation
        self.evaluation.pending[generation] = previous
        self.evaluation.last_evaluated = max(self.evaluation.last_evaluated, generation)

    def save_evaluation_state(self) -> None:
        self.run.write_evaluation_state(self.evaluation.to_json())

    # ---- the loop --------------------------------------------------------------------------------
    def loop(self) -> None:
        for generation, previous in sorted(self.evaluation.pending.items()):
            self.submit_evaluation(generation, previous)  # left undecided by the last session
        for i in range(len(self.actors)):
            self.submit_selfplay(i)
        while not self.done():
            self.update_stage()
            if self.learner_pending is None and self.learner_may_train():
                self.submit_learner()
            if self.parked and self.selfplay_may_run():
                self.release_parked()
            waiting = list(self.selfplay_pending) + ([self.learner_pending] if self.learner_pending else [])
            waiting += list(self.eval_pending)
            if not waiting:
                # Nothing can run: self-play is ahead and the learner is not owed a full task.
                # The balance rules make this impossible; guard against a stall anyway.
                self.release_parked()
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
            _abort_if_disk_full(e)  # retrying cannot help: every shard write would fail alike
            # The actor died (Ray restarts it) or its task failed: its games in flight are lost once.
            log.warning("self-play actor %d failed: %s", index, str(e).splitlines()[0] if str(e) else type(e).__name__)
            self.metrics.log("fault", {"actor": index, "error": type(e).__name__, "generation": self.c.generation})
            if not self.done():
                self.submit_selfplay(index)
            return
        self.note_incarnation(index, stats.incarnation)
        self.count(stats)
        self.window.add(stats, self.version)
        if self.done():
            return
        if self.selfplay_may_run():
            self.submit_selfplay(index)
        else:
            self.parked.append(index)
            self.parked_at[index] = time.monotonic()

    def count(self, result: SelfPlayResult) -> None:
        """Positions and games stored, as the replay buffer counts them (each game once). Its running
        totals include every add before them, and tasks' results may arrive out of order (with
        several actors, a task that stored earlier can report later): the counters keep the largest
        total seen. Adding a task's own count on top of a newer total counted its games twice."""
        self.c.positions = max(self.c.positions, result.buffer_positions)
        self.c.games = max(self.c.games, result.buffer_games)

    def note_incarnation(self, index: int, incarnation: str) -> None:
        """A new incarnation id means Ray restarted the actor (and retried its task transparently)."""
        previous = self.incarnations.get(index)
        self.incarnations[index] = incarnation
        if previous is not None and previous != incarnation:
            log.warning("self-play actor %d was restarted", index)
            self.metrics.log("fault", {"actor": index, "error": "actor restarted", "generation": self.c.generation})

    def on_learner(self, ref) -> None:
        self.learner_pending = None
        if self.c.positions >= self.min_positions:
            self.learner_idle_since = time.monotonic()  # until the next submit_learner
        report: LearnerReport = ray.get(ref)
        trained = self.train_task_samples
        self.c.samples_trained += trained
        self.c.steps_since_publish += self.loop_cfg.train_steps_per_task
        self.last_learner = report
        self.metrics.log("learner", {**report.to_metrics(), "ratio_realised": self.c.samples_trained / max(self.c.positions, 1),
                                     "generation": self.c.generation}, step=report.steps)
        if self.c.steps_since_publish >= self.loop_cfg.train_steps_per_generation:
            self.publish()

    def publish(self) -> None:
        generation = self.c.generation + 1
        try:
            weights_ref = ray.put(ray.get(self.learner.publish.remote(generation)))
        except RayTaskError as e:
            _abort_if_disk_full(e)  # the checkpoint did not get written (a broken one is skipped on resume)
            raise
        arena = self.config.arena
        due = arena.due(generation)
        if arena.gating and due:
            self.candidates[generation] = weights_ref  # self-play switches only if the gate accepts
        elif not arena.gating:
            self.use_weights(generation, weights_ref)
            self.evaluation.published = generation
        if due:
            self.submit_evaluation(generation, self.version if arena.gating else self.evaluation.last_evaluated)
        self.save_evaluation_state()
        self.c.generation = generation
        self.c.steps_since_publish = 0
        elapsed = self.c.elapsed_s + time.monotonic() - self.session_start
        self.metrics.log("generation", {"generation": generation, "samples_trained": self.c.samples_trained,
                                        "positions": self.c.positions, "games": self.c.games, "elapsed_s": elapsed,
                                        "ratio_realised": self.c.samples_trained / max(self.c.positions, 1),
                                        "selfplay_parked_s": self.parked_s, "learner_idle_s": self.learner_idle_s,
                                        "stage": self.c.stage, "board_size": self.stage_size()})
        state = self.c.to_json()
        state["elapsed_s"] = elapsed
        self.run.write_run_state(state)
        self.run.prune_models(self.loop_cfg.keep_checkpoints, protect=self.evaluation.in_use())
        self.display.generation(generation, self.c, self.last_learner, elapsed, self.stage_text())

    def on_evaluation(self, ref) -> None:
        generation = self.eval_pending.pop(ref)
        try:
            result: Evaluation = ray.get(ref)
        except (RayActorError, RayTaskError) as e:
            log.warning("evaluation of generation %d failed: %s", generation, str(e).splitlines()[0])
            self.candidates.pop(generation, None)
            self.evaluation.pending.pop(generation, None)
            self.evaluation.decisions[generation] = "failed"
            self.save_evaluation_state()
            return
        entry = record_and_plot(self.run, result)
        self.latest_evaluation = entry
        self.metrics.log("arena", entry)
        self.evaluation.pending.pop(generation, None)
        self.evaluation.decisions[generation] = result.decision
        if self.config.arena.gating:
            weights_ref = self.candidates.pop(generation, None)
            if result.decision == "accept" and generation > self.version:
                try:
                    if weights_ref is None:  # a candidate of an earlier session: its weights are on disk
                        weights_ref = ray.put(_checkpoint_weights(self.run, generation))
                    self.use_weights(generation, weights_ref)
                    self.evaluation.published = generation
                except CheckpointError as e:
                    log.warning("accepted generation %d does not load (%s): self-play keeps generation %d",
                                generation, e, self.version)
        self.save_evaluation_state()
        self.display.message(evaluation_text(entry, self.config.arena.gating))

    def check_nodes(self) -> None:
        """Replace the self-play actors of nodes that died. Ray would restart them itself, but an
        actor pinned by ``loop.actor_resource`` needs a unit of it, and when the dead node held the
        only free ones it stays pending forever: the replacement keeps the pin only if a unit is
        free, and runs wherever CPUs (and GPUs) are free otherwise."""
        if self.placement_pending:  # where replacements landed (answered before their first task)
            ready, _ = ray.wait(list(self.placement_pending), num_returns=len(self.placement_pending), timeout=0)
            for ref in ready:
                index = self.placement_pending.pop(ref)
                try:
                    self.actor_nodes[index] = ray.get(ref)["node_id"]
                except (RayActorError, RayTaskError):
                    pass
        alive = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
        if self.alive_nodes is not None and not self.alive_nodes - alive:
            self.alive_nodes = alive
            return
        self.alive_nodes = alive
        for index, node in sorted(self.actor_nodes.items()):
            if node is not None and node not in alive:
                self.replace_actor(index, node)

    def replace_actor(self, index: int, node: str) -> None:
        old = self.actors[index]
        resource = self.loop_cfg.actor_resource
        pinned = bool(resource) and ray.available_resources().get(resource, 0.0) >= 1.0
        self.replacements += 1
        self.actors[index] = self.spawn(index, pinned=pinned, name_suffix=f"-r{self.replacements}")
        self.actor_nodes[index] = None  # until its placement() answers
        self.placement_pending[self.actors[index].placement.remote()] = index
        ray.kill(old, no_restart=True)
        for ref in [r for r, i in self.selfplay_pending.items() if i == index]:
            del self.selfplay_pending[ref]  # its games in flight died with the node
        log.warning("self-play actor %d was on node %s, which is gone: replaced%s", index, node[:12],
                    "" if pinned or not resource else f" without its {resource!r} pin (no free unit left)")
        self.metrics.log("fault", {"actor": index, "error": "node lost", "node": node, "pinned": pinned,
                                   "generation": self.c.generation})
        if index not in self.parked and not self.done():
            self.submit_selfplay(index)

    def tick(self) -> None:
        if time.monotonic() - self.window.start < self.loop_cfg.display_interval_s:
            return
        if self.spawn is not None:
            self.check_nodes()
        summary = self.window.summary()
        summary.update(generation=self.c.generation, positions_total=self.c.positions, games_total=self.c.games,
                       samples_trained=self.c.samples_trained, parked_actors=len(self.parked),
                       stage=self.c.stage, board_size=self.stage_size())
        if summary["games"] or summary["positions_per_s"]:
            self.metrics.log("selfplay", summary)
        self.display.update(self.c, summary, self.last_learner, self.loop_cfg, self.latest_evaluation, self.stage_text())
        self.window = Window()

    def finish(self) -> None:
        """Drain: let running self-play tasks deliver their games, finish the learner task, and
        publish what was learned since the last checkpoint."""
        deadline = time.monotonic() + 120.0
        waiting = list(self.selfplay_pending)
        while waiting and time.monotonic() < deadline:
            ready, waiting = ray.wait(waiting, num_returns=len(waiting), timeout=max(0.1, deadline - time.monotonic()))
            for ref in ready:
                index = self.selfplay_pending.pop(ref, None)
                try:
                    stats = ray.get(ref)
                    self.note_incarnation(index, stats.incarnation)
                    self.count(stats)
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
        if self.servers:  # what the shared servers batched this session
            refs = [server.stats.remote() for server in self.servers]
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=30.0)
            self.metrics.log("inference", {"servers": [ray.get(r) for r in refs if r in ready]})
        reason = self.stop.reason or ("time limit" if self.out_of_time() else "max generations")
        self.metrics.log("stop", {"reason": reason, "generation": self.c.generation})
        self.display.message(f"stopped ({reason}) at generation {self.c.generation}; run directory {self.run.root}")
