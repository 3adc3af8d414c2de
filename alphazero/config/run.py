"""The root of the config tree (one training run) and the named presets of ``alphazero train``."""

from __future__ import annotations

import logging
import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from alphazero.config.arena import ArenaConfig
from alphazero.config.base import ConfigBase, ConfigError, require
from alphazero.config.network import NetworkConfig, network_preset
from alphazero.config.search import SearchConfig, SelfPlayConfig
from alphazero.config.trainer import ReplayConfig, TrainerConfig
from go_engine import coords
from go_engine.rules import Rules, check_komi, preset as rules_preset

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopConfig(ConfigBase):
    """How the run is laid out over Ray actors and how amplification and distillation are balanced."""

    max_generations: int = 20
    """Stop after publishing this many generations (checkpoints after generation 0)."""
    time_limit_minutes: float = 0.0
    """Stop (cleanly, with a checkpoint) after this many minutes of wall time; 0 = no limit."""
    train_steps_per_generation: int = 200
    """Learner steps between two published checkpoints."""
    samples_per_position: float = 4.0
    """Target training samples per new self-play position (sample reuse). Whichever side runs ahead
    is throttled: the learner waits for data, or self-play actors wait for the learner."""
    ratio_slack_positions: int = 2000
    """Self-play may run this many positions ahead of the target ratio before it is paused."""
    selfplay_actors: int = 1
    """Self-play actors (each runs selfplay.games_in_parallel games through one batched search)."""
    actor_cpus: float = 1.0
    """CPUs reserved per self-play actor (also its numba/torch thread count, rounded up)."""
    actor_gpus: float = 0.0
    """GPUs reserved per self-play actor (fractions share a GPU); 0 = inference on CPU."""
    learner_cpus: float = 1.0
    """CPUs reserved for the learner actor (also its torch thread count)."""
    learner_gpus: float = 0.0
    """GPUs for the learner (1 places it on a GPU node through a placement group)."""
    learner_threads: int = 0
    """Torch threads of the learner; 0 = learner_cpus rounded up. More threads than reserved CPUs
    let the learner use the cores a paused self-play actor leaves idle (the OS shares the rest)."""
    actor_resource: str = ""
    """A custom Ray resource (declared per node: ``ray start --resources='{"selfplay": 4}'``) of
    which each self-play actor takes one unit: pins self-play to the nodes that declare it, as many
    actors per node as units; empty = no custom resource."""
    learner_resource: str = ""
    """A custom Ray resource the learner takes one unit of (e.g. to keep it on the head node)."""
    search_steps_per_task: int = 64
    """Search steps a self-play actor runs per remote call; weights switch between calls, i.e.
    between moves, and finished games are sent to the buffer at the end of each call."""
    train_steps_per_task: int = 10
    """Learner steps per remote call (metrics are reported per call)."""
    sample_sgfs_per_generation: int = 2
    """Self-play games saved as SGF into the run directory per generation."""
    heldout_games_per_generation: int = 8
    """Self-play records of each generation kept in heldout/ (never evicted with the replay window):
    the IDA meter measures each generation's distillation gap on its own games."""
    keep_checkpoints: int = 0
    """Keep only the newest this many model generations on disk (0 = keep all); every 10th is kept."""
    device: Literal["auto", "cpu"] = "auto"
    """Where inference and learning run. auto: on CUDA for the roles that reserve GPUs (actor_gpus,
    learner_gpus > 0), else the CPU. cpu: always on the CPU while the GPU reservations, and so the
    placement, stay as configured: a GPU preset's layout tried on a cluster that declares GPUs
    (``ray start --num-gpus``) without having them."""
    inference_precision: Literal["float32", "bfloat16", "float16"] = "float32"
    """Precision of self-play inference (float16 needs CUDA: CPU actors given it use float32)."""
    inference_compile: bool = False
    """torch.compile the self-play network (batches padded to powers of two, one graph per size;
    the first calls of each size pay the compile)."""
    inference: Literal["per_actor", "shared"] = "per_actor"
    """Where self-play's network runs. per_actor: each self-play actor evaluates its own leaves
    (on the GPU share actor_gpus gives it, else its CPUs). shared: inference_servers server actors
    each batch the leaves of several self-play actors into one network call (a batching queue with
    a deadline), on the GPU share inference_server_gpus gives them; self-play actors then hold no
    GPU (actor_gpus must be 0). See README "One GPU, many games" for which is faster where."""
    inference_servers: int = 1
    """Inference server actors when inference = shared; self-play actor i uses server
    i % inference_servers. Servers per GPU = 1 / inference_server_gpus."""
    inference_server_cpus: float = 1.0
    """CPUs reserved per inference server (also its torch thread count, rounded up)."""
    inference_server_gpus: float = 0.0
    """GPUs reserved per inference server (fractions share a GPU); 0 = the server computes on CPUs."""
    inference_batch: int = 1024
    """A server calls the network as soon as this many leaf rows wait (its largest batch)."""
    inference_wait_ms: float = 2.0
    """A server calls the network at the latest this long after the oldest waiting request came,
    full or not (it calls at once when every self-play actor it serves is waiting)."""
    inference_backend: Literal["torch", "onnxruntime"] = "torch"
    """What runs self-play inference on the CPU: torch (eager, channels-last) or onnxruntime (the
    network exported to ONNX after each new checkpoint; float32; ~1.5x torch's evaluations/s for
    the CPU presets' network, see ``alphazero bench infer``). GPU actors always use torch."""
    seed: int = 0
    """Seed the run's randomness derives from: the network's initialisation, the learner's batches,
    the evaluation openings. Each self-play actor process also draws a random incarnation id (in
    every game id it writes, w<actor>-<incarnation>-...) that its games' seed includes, so a restarted
    actor never replays the games of the one that died; with this seed and that id a game replays."""
    display_interval_s: float = 2.0
    """Seconds between updates of the terminal display / log lines."""

    def learner_thread_count(self) -> int:
        """Torch threads the learner actor runs with."""
        return self.learner_threads or int(math.ceil(self.learner_cpus))

    def validate(self) -> None:
        require(self.max_generations >= 1, f"max_generations must be >= 1, got {self.max_generations}")
        require(self.time_limit_minutes >= 0.0, f"time_limit_minutes must be >= 0, got {self.time_limit_minutes}")
        require(self.train_steps_per_generation >= 1, f"train_steps_per_generation must be >= 1, got {self.train_steps_per_generation}")
        require(0.0 < self.samples_per_position <= 1000.0, f"samples_per_position must be in (0, 1000], got {self.samples_per_position}")
        require(self.ratio_slack_positions >= 0, f"ratio_slack_positions must be >= 0, got {self.ratio_slack_positions}")
        require(1 <= self.selfplay_actors <= 4096, f"selfplay_actors must be in [1, 4096], got {self.selfplay_actors}")
        require(0.0 < self.actor_cpus <= 256.0, f"actor_cpus must be in (0, 256], got {self.actor_cpus}")
        require(self.inference_backend in ("torch", "onnxruntime"),
                f"inference_backend must be 'torch' or 'onnxruntime', got {self.inference_backend!r}")
        if self.inference_backend == "onnxruntime":
            require(not self.inference_compile, "inference_backend 'onnxruntime' and inference_compile=true exclude "
                    "each other (compile is torch's)")
        require(0.0 <= self.actor_gpus <= 8.0, f"actor_gpus must be in [0, 8], got {self.actor_gpus}")
        require(0.0 < self.learner_cpus <= 256.0, f"learner_cpus must be in (0, 256], got {self.learner_cpus}")
        require(0.0 <= self.learner_gpus <= 8.0, f"learner_gpus must be in [0, 8], got {self.learner_gpus}")
        require(0 <= self.learner_threads <= 256, f"learner_threads must be in [0, 256], got {self.learner_threads}")
        for name in ("actor_resource", "learner_resource"):
            value = getattr(self, name)
            require(value == "" or (value.isprintable() and value.strip() == value and value not in ("CPU", "GPU", "memory")),
                    f"{name} must be empty or a custom resource name (not CPU, GPU or memory), got {value!r}")
        require(self.search_steps_per_task >= 1, f"search_steps_per_task must be >= 1, got {self.search_steps_per_task}")
        require(self.train_steps_per_task >= 1, f"train_steps_per_task must be >= 1, got {self.train_steps_per_task}")
        require(self.sample_sgfs_per_generation >= 0, "sample_sgfs_per_generation must be >= 0")
        require(self.heldout_games_per_generation >= 0, "heldout_games_per_generation must be >= 0")
        require(self.keep_checkpoints >= 0, "keep_checkpoints must be >= 0")
        require(1 <= self.inference_servers <= self.selfplay_actors,
                f"inference_servers must be in [1, selfplay_actors={self.selfplay_actors}], got {self.inference_servers}")
        require(0.0 < self.inference_server_cpus <= 256.0, f"inference_server_cpus must be in (0, 256], got {self.inference_server_cpus}")
        require(0.0 <= self.inference_server_gpus <= 8.0, f"inference_server_gpus must be in [0, 8], got {self.inference_server_gpus}")
        require(1 <= self.inference_batch <= 65536, f"inference_batch must be in [1, 65536], got {self.inference_batch}")
        require(0.0 <= self.inference_wait_ms <= 1000.0, f"inference_wait_ms must be in [0, 1000], got {self.inference_wait_ms}")
        require(self.inference != "shared" or self.actor_gpus == 0.0,
                "inference=shared: self-play actors evaluate on the inference servers, so actor_gpus must be 0 "
                f"(got {self.actor_gpus}); give the GPU to the servers with inference_server_gpus")
        require(self.display_interval_s > 0.0, f"display_interval_s must be > 0, got {self.display_interval_s}")


@dataclass(frozen=True)
class CurriculumStage(ConfigBase):
    """One stage of a board-size curriculum: self-play plays ``board_size`` games until the first
    of the stage's ends (minutes, generations, games) is reached, then the next stage begins."""

    board_size: int = 7
    """Board side of this stage's self-play games (2..19)."""
    komi: float | None = None
    """Komi of this stage's games; unset (none) = the run's rules.komi. A small board wants its own
    fair komi (7x7: 9, as the 7x7-cpu preset)."""
    until_minutes: float = 0.0
    """The stage ends when the run's wall time (all sessions together) reaches this many minutes;
    0 = no end by time."""
    until_generation: int = 0
    """The stage ends once this many generations are published; 0 = no end by generation."""
    until_games: int = 0
    """The stage ends once the replay buffer has stored this many games (all stages' games
    together); 0 = no end by games."""

    def validate(self) -> None:
        try:
            coords.check_size(self.board_size)
        except ValueError as e:
            raise ConfigError(f"board_size: {e}") from None
        if self.komi is not None:
            try:
                check_komi(self.komi)
            except ValueError as e:
                raise ConfigError(f"komi: {e}") from None
        require(self.until_minutes >= 0.0, f"until_minutes must be >= 0, got {self.until_minutes}")
        require(self.until_generation >= 0, f"until_generation must be >= 0, got {self.until_generation}")
        require(self.until_games >= 0, f"until_games must be >= 0, got {self.until_games}")

    @property
    def open_ended(self) -> bool:
        """No end set: the stage lasts to the end of the run (only the last stage may)."""
        return self.until_minutes == 0.0 and self.until_generation == 0 and self.until_games == 0

    def ended(self, minutes: float, generation: int, games: int) -> bool:
        """Whether the run, at ``minutes`` of wall time with ``generation`` published and ``games``
        stored, has reached one of this stage's ends."""
        return ((self.until_minutes > 0.0 and minutes >= self.until_minutes)
                or (self.until_generation > 0 and generation >= self.until_generation)
                or (self.until_games > 0 and games >= self.until_games))


_ENDS = ("until_minutes", "until_generation", "until_games")


@dataclass(frozen=True)
class CurriculumConfig(ConfigBase):
    """A board-size curriculum: self-play starts on a small board (7x7 learns in minutes) and moves
    on to larger ones; the network is fully convolutional, so the same weights play every size.

    Stages run in order, one board size at a time for every self-play actor (the batched search
    holds one board size; KataGo's per-game mixing of sizes is not offered). At a switch each
    actor drops its unfinished games and starts the new stage's. The replay buffer keeps every
    size's positions in the one tapered window; each training batch holds one size (see
    ``replay``). Evaluation matches during training, the IDA meter and the GTP default play on the
    run's ``board_size``, which the last stage must equal: it is the size the run is for."""

    stages: tuple[CurriculumStage, ...] = ()
    """The stages in order, as a TOML array of tables ([[curriculum.stages]]) or on the command
    line curriculum.stages=[{board_size=7,komi=9.0,until_minutes=8},{board_size=9}]. Each stage:
    board_size, komi (unset = rules.komi), and its ends until_minutes / until_generation /
    until_games (the first one reached ends it; 0 = not used). Every stage but the last needs an
    end, each kind of end must grow from stage to stage, the last stage has none and plays
    board_size; a stage whose end is already reached when it would begin is skipped. Empty = no
    curriculum: every game on board_size."""
    replay: Literal["current", "window"] = "current"
    """Which size a training batch holds. current: the current stage's size as soon as the window
    holds replay.min_positions of it (until then a size drawn as in window), so the learner moves
    on with self-play. window: each batch's size drawn in proportion to the sizes' shares of the
    replay window, so older sizes fade out as the window moves past them (KataGo's mixing)."""

    def validate(self) -> None:
        require(self.replay in ("current", "window"), f"replay must be 'current' or 'window', got {self.replay!r}")
        if not self.stages:
            return
        for i, stage in enumerate(self.stages[:-1]):
            require(not stage.open_ended, f"stages[{i}] (board_size {stage.board_size}) has no end: every stage but "
                    "the last needs until_minutes, until_generation or until_games")
        last = self.stages[-1]
        require(last.open_ended, f"stages[{len(self.stages) - 1}] is the last stage and lasts to the end of the "
                "run: it takes no until_minutes / until_generation / until_games")
        for name in _ENDS:
            previous, where = 0, -1
            for i, stage in enumerate(self.stages[:-1]):
                value = getattr(stage, name)
                if value == 0:
                    continue
                require(value > previous, f"stages out of order: stages[{i}].{name} = {value} must be greater than "
                        f"stages[{where}].{name} = {previous}")
                previous, where = value, i

    @property
    def enabled(self) -> bool:
        return bool(self.stages)

    def board_sizes(self, board_size: int) -> tuple[int, ...]:
        """Every board size the run's self-play plays (``board_size`` without a curriculum)."""
        if not self.stages:
            return (board_size,)
        return tuple(sorted({s.board_size for s in self.stages}))

    def stage_at(self, minutes: float, generation: int, games: int, at_least: int = 0) -> int:
        """The stage the run is in at ``minutes`` of wall time, ``generation`` published and
        ``games`` stored: the first one none of whose ends is reached, and never one before
        ``at_least`` (the stage reached earlier: a resumed run's time may read a little less than
        when it switched, the stage does not go back). 0 without a curriculum."""
        if not self.stages:
            return 0
        index = min(max(at_least, 0), len(self.stages) - 1)
        while index < len(self.stages) - 1 and self.stages[index].ended(minutes, generation, games):
            index += 1
        return index


@dataclass(frozen=True)
class RunConfig(ConfigBase):
    """Everything one training run needs; saved as ``config.json`` in the run directory."""

    board_size: int = 9
    """Board side (2..19)."""
    rules: Rules = field(default_factory=lambda: rules_preset("chinese"))
    """Rules of the self-play games (a table of fields or a preset name, area or territory scoring):
    ko, suicide, scoring, tax, komi, move cap. With ``selfplay.rules_mix`` each game draws its preset
    from the mix and keeps this komi and move cap."""
    history: int = 8
    """Feature history length k (input planes = 2k + 13, feature version 2)."""
    network: NetworkConfig = field(default_factory=lambda: network_preset("b6c64"))
    """Network shape (see alphazero.config.network)."""
    search: SearchConfig = field(default_factory=SearchConfig)
    """Search used by self-play (see alphazero.config.search)."""
    selfplay: SelfPlayConfig = field(default_factory=SelfPlayConfig)
    """Self-play game driving: parallel games, playout cap, temperature, resignation."""
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    """Learner: optimiser, schedule, losses, EMA."""
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    """Replay window."""
    loop: LoopConfig = field(default_factory=LoopConfig)
    """Actors, throughput balance and stopping."""
    arena: ArenaConfig = field(default_factory=ArenaConfig)
    """Evaluation matches during training (every k generations) and optional gating."""
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    """Board-size curriculum: self-play stages on smaller boards before board_size (none by default)."""

    def validate(self) -> None:
        try:
            coords.check_size(self.board_size)
        except ValueError as e:
            raise ConfigError(f"board_size: {e}") from None
        if self.curriculum.stages and self.curriculum.stages[-1].board_size != self.board_size:
            raise ConfigError(f"curriculum: the last stage plays board_size {self.curriculum.stages[-1].board_size}, "
                              f"but the run is for board_size {self.board_size} (the size its evaluations and final "
                              "network play): end the curriculum on board_size")
        require(1 <= self.history <= 32, f"history must be in [1, 32], got {self.history}")
        for name in ("opponent_policy_weight", "soft_policy_weight"):
            weight = getattr(self.trainer, name)
            require(weight == 0.0 or self.network.aux_policy,
                    f"trainer.{name} = {weight} trains an auxiliary policy output the network lacks: "
                    "set network.aux_policy = true (or the weight to 0)")

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["rules"] = self.rules.to_dict()
        return out

    def stage_rules(self, stage: int) -> tuple[int, Rules]:
        """(board size, rules) of the self-play games of curriculum stage ``stage`` (the run's own
        without a curriculum)."""
        if not self.curriculum.stages:
            return self.board_size, self.rules
        s = self.curriculum.stages[stage]
        return s.board_size, (self.rules if s.komi is None else self.rules.with_komi(s.komi))

    @classmethod
    def from_dict(cls, data: dict, path: str = "") -> "RunConfig":
        return super().from_dict(_upgrade(data), path)


def _upgrade(data: dict) -> dict:
    """A config saved by an older version, in today's fields (so its run resumes).

    ``loop.min_positions`` (removed): the learner waited for the larger of it and
    ``replay.min_positions``; that larger value is now ``replay.min_positions``, the one threshold."""
    if not (isinstance(data, dict) and isinstance(data.get("loop"), dict) and "min_positions" in data["loop"]):
        return data
    loop = dict(data["loop"])
    old = loop.pop("min_positions")
    replay = dict(data.get("replay") or {})
    current = replay.get("min_positions", ReplayConfig().min_positions)
    if isinstance(old, int) and not isinstance(old, bool) and isinstance(current, int) and old > current:
        replay["min_positions"] = old
    log.warning("config: loop.min_positions is no longer a field (replay.min_positions is the one threshold); "
                "read as replay.min_positions = %s", replay.get("min_positions", current))
    return {**data, "loop": loop, "replay": replay}


def _preset(board_size, rules, history, network, search, selfplay, trainer, replay, loop, arena) -> RunConfig:
    return RunConfig(board_size=board_size, rules=rules, history=history, network=network, search=search,
                     selfplay=selfplay, trainer=trainer, replay=replay, loop=loop, arena=arena)


def _cpu_hour_preset(board_size: int, rules: Rules, replay_max_size: int, backend: str = "torch",
                     samples_per_position: float = 6.0, curriculum: CurriculumConfig | None = None) -> RunConfig:
    """A one-hour run on a 2-core CPU: Gumbel search with 16 simulations, playout cap 50%, a
    4x48 network, sample reuse 6 (4 with the onnxruntime backend, whose self-play is ~1.9x faster:
    4 keeps self-play and the learner both busy), evaluation every 10 generations against random."""
    return _preset(
        board_size, rules, 4, network_preset("b6c64", blocks=4, channels=48, global_pool_channels=16),
        SearchConfig(simulations=16, gumbel=True, gumbel_considered=8),
        SelfPlayConfig(games_in_parallel=64, full_search_probability=0.5, cheap_simulations=8, resign_threshold=-0.95,
                       no_resign_fraction=0.2),
        TrainerConfig(batch_size=128, lr=0.02, warmup_steps=100, ema_decay=0.99),
        ReplayConfig(max_size=replay_max_size, window_base=10_000, min_positions=2_000),
        LoopConfig(max_generations=1000, time_limit_minutes=60.0, train_steps_per_generation=100,
                   samples_per_position=samples_per_position, search_steps_per_task=64, train_steps_per_task=10,
                   inference_backend=backend),
        ArenaConfig(every_generations=10, games_vs_previous=10, games_vs_anchor=10, anchor="random", opening_moves=2),
    ) if curriculum is None else replace(_cpu_hour_preset(board_size, rules, replay_max_size, backend, samples_per_position),
                                         curriculum=curriculum)



def _gpu_preset(board_size: int, network: NetworkConfig, search: SearchConfig, games_in_parallel: int,
                cheap_simulations: int, trainer: TrainerConfig, replay: ReplayConfig, loop: dict, arena: dict) -> RunConfig:
    """A run on GPUs: Chinese rules, history 8, playout cap 25% (``cheap_simulations`` otherwise),
    sample reuse 4, bfloat16 inference, evaluation against GNU Go level 10 (20 games); ``loop``
    and ``arena`` hold the rest of those sections (the machines, the schedule)."""
    return _preset(
        board_size, rules_preset("chinese"), 8, network, search,
        SelfPlayConfig(games_in_parallel=games_in_parallel, full_search_probability=0.25, cheap_simulations=cheap_simulations),
        trainer, replay,
        LoopConfig(samples_per_position=4.0, inference_precision="bfloat16", **loop),
        ArenaConfig(games_vs_anchor=20, anchor="gnugo:10", **arena),
    )

# Presets. CPU presets use Gumbel search with few simulations (learns with 8-16), playout-cap
# randomisation, the auxiliary heads, a small net and high sample reuse: what makes learning fast
# on a CPU. Wall times are for the 2-core reference machine (see README).
PRESETS: dict[str, RunConfig] = {
    # Seconds: for tests and smoke runs.
    "tiny-cpu": _preset(
        5, rules_preset("tromp-taylor").with_komi(0.5), 2, network_preset("tiny"),
        SearchConfig(simulations=8, gumbel=True, gumbel_considered=4),
        SelfPlayConfig(games_in_parallel=8, full_search_probability=1.0, cheap_simulations=4, resign_enabled=False, max_game_moves=60),
        TrainerConfig(batch_size=32, lr=0.02, warmup_steps=5, ema_decay=0.9),
        ReplayConfig(max_size=20_000, window_base=2_000, min_positions=100),
        LoopConfig(max_generations=3, train_steps_per_generation=8, samples_per_position=2.0, ratio_slack_positions=400,
                   search_steps_per_task=40, train_steps_per_task=4, display_interval_s=1.0),
        ArenaConfig(every_generations=0),
    ),
    # 60 minutes on 2 cores: the 7x7 run whose target is GNU Go level 10.
    "7x7-cpu": _cpu_hour_preset(7, rules_preset("chinese").with_komi(9.0), replay_max_size=200_000),
    # The README's main command: a real 9x9 run on a laptop / 2-core machine. onnxruntime and reuse
    # 4: at 30 minutes 19-1 against the 30-minute network of torch and reuse 6 (docs/curves/9x9-cpu-onnxruntime).
    # The first 8 minutes on 7x7 (komi 9): at minute 20 27-33 against GNU Go level 1 where pure 9x9
    # scored 4-56, and 59-1 against pure 9x9's minute-20 network (docs/curves/9x9-cpu-curriculum).
    "9x9-cpu": _cpu_hour_preset(9, rules_preset("chinese"), replay_max_size=250_000, backend="onnxruntime",
                                samples_per_position=4.0,
                                curriculum=CurriculumConfig(stages=(CurriculumStage(board_size=7, komi=9.0, until_minutes=8.0),
                                                                    CurriculumStage(board_size=9)))),
    # One GPU machine: learner on the GPU, self-play actors sharing it for inference.
    "9x9-gpu": _gpu_preset(
        9, network_preset("b6c128"), SearchConfig(simulations=64, gumbel=True, gumbel_considered=16),
        games_in_parallel=512, cheap_simulations=16,
        trainer=TrainerConfig(batch_size=1024, lr=0.05, warmup_steps=500, ema_decay=0.999),
        replay=ReplayConfig(max_size=1_000_000, window_base=100_000, min_positions=20_000),
        loop=dict(max_generations=10_000, train_steps_per_generation=500, selfplay_actors=6, actor_cpus=2.0,
                  actor_gpus=0.1, learner_cpus=2.0, learner_gpus=0.4, search_steps_per_task=128, train_steps_per_task=50),
        arena=dict(every_generations=5, games_vs_previous=40, parallel_games=4),
    ),
    # Many GPU machines.
    "19x19-cluster": _gpu_preset(
        19, network_preset("b20c256"), SearchConfig(simulations=600, gumbel=False),
        games_in_parallel=256, cheap_simulations=100,
        trainer=TrainerConfig(batch_size=2048, lr=0.1, warmup_steps=2000, ema_decay=0.999),
        replay=ReplayConfig(max_size=5_000_000, window_base=250_000, min_positions=250_000),
        loop=dict(max_generations=100_000, train_steps_per_generation=1000, selfplay_actors=64, actor_cpus=4.0,
                  actor_gpus=0.5, learner_cpus=8.0, learner_gpus=1.0, search_steps_per_task=256, train_steps_per_task=100),
        arena=dict(every_generations=10, games_vs_previous=100, parallel_games=8, gating=True),
    ),
}


def load_config(preset: str | None = None, file: str | Path | None = None, overrides: list[str] | None = None) -> RunConfig:
    """Preset (default ``9x9-cpu``), then a TOML file's tables on top, then ``a.b=c`` overrides."""
    name = preset or "9x9-cpu"
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    config = PRESETS[name]
    if file is not None:
        path = Path(file)
        try:
            data = tomllib.loads(path.read_text())
        except OSError as e:
            raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config file {path} is not valid TOML: {e}") from None
        config = RunConfig.from_dict(_merge(config.to_dict(), data))
    if overrides:
        config = config.with_overrides(list(overrides))
    return config


def _merge(base: dict, top: dict, path: str = "") -> dict:
    out = dict(base)
    for key, value in top.items():
        if key not in base:
            raise ConfigError(f"unknown config key {path + key!r}")
        if isinstance(value, dict) and isinstance(base[key], dict):
            out[key] = _merge(base[key], value, f"{path}{key}.")
        else:
            out[key] = value
    return out

