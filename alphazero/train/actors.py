"""The Ray actors of a run: self-play, replay buffer and learner. Each wraps a plain class from
``selfplay`` / ``trainer`` and restarts after a crash (``max_restarts=-1``), rebuilding its state
from the run directory (buffer shards, learner state) or from the weights the driver re-sends."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np
import ray
import torch

from alphazero.atomic_io import write_bytes_atomic
from alphazero.checkpoint import CheckpointError, CheckpointMeta, load_checkpoint, read_meta, save_checkpoint
from alphazero.config.run import RunConfig
from alphazero.game_record import GameRecord
from alphazero.model import PolicyValueNet
from alphazero.train.messages import LearnerReport, SelfPlayResult
from alphazero.train.run_dir import GENERATION_DIGITS, RunDir
from alphazero.train.sample_games import record_to_sgf
from go_engine import compiled
from go_engine import features as F
from go_engine import sgf

log = logging.getLogger(__name__)

LEARNER_STATE = "learner.safetensors"
LEARNER_INFO = "learner.json"


def actor_name(run_root: str | Path, role: str) -> str:
    """Ray name of one actor of a run (unique per run directory, so runs can share a cluster)."""
    digest = hashlib.sha256(str(Path(run_root).resolve()).encode()).hexdigest()[:12]
    return f"alphazero-{digest}-{role}"


def placement(device: str | None = None) -> dict:
    """Where the calling actor runs: its node, the GPUs Ray assigned it, its placement group (or
    None) and the resources it holds, plus the torch device it computes on (for layout checks)."""
    context = ray.get_runtime_context()
    group = context.get_placement_group_id()
    return {"node_id": context.get_node_id(), "pid": os.getpid(), "gpu_ids": [str(g) for g in ray.get_gpu_ids()],
            "placement_group": group, "resources": context.get_assigned_resources(), "device": device}


def self_play_worker(config: RunConfig, index: int, device: str = "cpu", threads: int = 1, remote=None):
    """The ``SelfPlayWorker`` of self-play actor ``index`` of a run: its own network on ``device``
    (the run's inference settings, each replaced by its runnable fallback there) or ``remote`` (a
    shared inference server's client), the run's search, self-play and curriculum stages."""
    from alphazero.evaluator import inference_evaluator
    from selfplay.worker import SelfPlayWorker

    torch.set_num_threads(max(1, threads))
    network = remote
    if network is None:
        loop = config.loop
        model = PolicyValueNet(config.network, F.num_planes(config.history))
        network = inference_evaluator(model, device, loop.inference_precision, loop.inference_backend,
                                      loop.inference_compile, threads=threads)
    stages = [config.stage_rules(k) for k in range(max(1, len(config.curriculum.stages)))]
    return SelfPlayWorker(network, config.search, config.selfplay, config.history, stages, index,
                          config.loop.seed, stage_ids=config.curriculum.enabled)


def _write_sample_sgf(record: GameRecord, path: Path) -> None:
    write_bytes_atomic(path, sgf.to_sgf_bytes(record_to_sgf(record, f"gen{int(record.model_version)}")))


@ray.remote(max_restarts=-1, max_task_retries=-1)
class SelfPlayActor:
    """Runs a ``SelfPlayWorker`` and hands its finished games to the replay actor itself, so the
    driver only sees small summaries."""

    def __init__(self, config: RunConfig, index: int, replay, device: str, threads: int, server=None) -> None:
        compiled.set_num_threads(threads)
        remote = None
        if server is not None:  # shared inference: leaves go to this inference server
            from alphazero.train.inference import RemoteEvaluator

            remote = RemoteEvaluator(server, "inference-server")
        self.worker = self_play_worker(config, index, device, threads, remote)
        self.replay = replay

    def placement(self) -> dict:
        return placement(str(self.worker.network.device))  # the network behind any evaluation cache

    def run(self, version: int, weights: dict, steps: int, stage: int = 0) -> SelfPlayResult:
        records, stats = self.worker.run(version, weights, steps, stage)
        added = ray.get(self.replay.add_games.remote(records)) if records else {"added": 0, "positions": 0}
        return SelfPlayResult(
            **asdict(stats),
            games=len(records),
            positions=int(sum(r.num_positions for r in records)),
            lengths=tuple(len(r.moves) for r in records),
            resigned=int(sum(r.resigned for r in records)),
            no_resign_checked=int(sum(r.resign_false_positive >= 0 for r in records)),
            resign_false_positives=int(sum(r.resign_false_positive == 1 for r in records)),
            black_wins=int(sum(r.outcome > 0 for r in records)),
            record_versions=tuple(int(r.model_version) for r in records),
            added=added["added"],
            added_positions=added["positions"],
            # The buffer's own totals count a game once even when a restarted replay actor already
            # stored it before dying (the retried call then reports it as a duplicate).
            buffer_games=added.get("games_ever", 0),
            buffer_positions=added.get("total_seen", 0),
        )


@ray.remote(max_restarts=-1, max_task_retries=-1)
class ReplayActor:
    """Owns the on-disk shards; deduplicates by game id (Ray may retry a task); writes sample SGFs."""

    def __init__(self, run_root: str, config: RunConfig) -> None:
        from trainer.replay_buffer import ReplayBuffer

        self.run = RunDir(Path(run_root))
        self.config = config
        self.buffer = ReplayBuffer(self.run.replay, config.replay, config.curriculum.board_sizes(config.board_size),
                                   config.history, opponent_policy=config.network.aux_policy)
        self.sgf_written: dict[int, int] = {}
        self.heldout_written: dict[int, int] = {}

    def add_games(self, records: list[GameRecord]) -> dict:
        added = 0
        positions = 0
        for record in records:
            if self.buffer.add(record):
                added += 1
                positions += record.num_positions
                self._keep_copies(record)
        return {"added": added, "positions": positions, **self.buffer.stats()}

    def _keep_copies(self, record: GameRecord) -> None:
        """The first games of each generation are also kept as sample SGFs and held-out records."""
        loop = self.config.loop
        self._keep_copy(record, self.sgf_written, loop.sample_sgfs_per_generation, self.run.sgf, ".sgf", _write_sample_sgf)
        self._keep_copy(record, self.heldout_written, loop.heldout_games_per_generation, self.run.heldout, ".npz",
                        GameRecord.save_npz)

    @staticmethod
    def _keep_copy(record: GameRecord, kept: dict[int, int], limit: int, directory: Path, suffix: str,
                   write: Callable[[GameRecord, Path], None]) -> None:
        """Writes ``directory/<generation>/<game id><suffix>`` for the first ``limit`` games of the
        record's generation; a failed write is logged and skipped (the game stays in the buffer)."""
        version = int(record.model_version)
        if kept.get(version, 0) >= limit:
            return
        kept[version] = kept.get(version, 0) + 1
        try:
            path = directory / f"{version:0{GENERATION_DIGITS}d}" / f"{record.game_id}{suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            write(record, path)
        except (OSError, ValueError) as e:
            log.warning("could not keep %s in %s: %s", record.game_id, directory, e)

    def placement(self) -> dict:
        return placement()

    def sample(self, batch_size: int, seed: int, board_size: int | None = None):
        return self.buffer.sample(batch_size, np.random.default_rng(seed), board_size)

    def stats(self) -> dict:
        return {**self.buffer.stats(), "ready": bool(self.buffer.ready)}


@ray.remote(max_restarts=-1, max_task_retries=-1)
class LearnerActor:
    """The ``Learner`` plus publishing: checkpoints of the EMA weights and its own resumable state."""

    def __init__(self, run_root: str, config: RunConfig, replay, device: str, threads: int, seed: int) -> None:
        from trainer.learner import Learner

        torch.set_num_threads(max(1, threads))
        self.run = RunDir(Path(run_root))
        self.config = config
        self.replay = replay
        self.in_planes = F.num_planes(config.history)
        with torch.random.fork_rng(devices=[]):  # the seed initialises this network, not the process's RNG
            torch.manual_seed(seed)
            model = PolicyValueNet(config.network, self.in_planes)
        self.learner = Learner(model, config.trainer, device)
        self.rng = np.random.default_rng(seed)
        self.generation = self._restore()
        self.sizes_trained: set[int] = self._parent_sizes()  # board sizes the weights have seen batches of

    # ---- state on disk ------------------------------------------------------------------------
    def _restore(self) -> int:
        """Newest generation whose learner state (or at least model) reads back; -1 for a new run."""
        generation = self.run.latest_valid_generation()
        if generation is None:
            return -1
        info_path = self.run.state_dir / LEARNER_INFO
        tensors_path = self.run.state_dir / LEARNER_STATE
        try:
            info = json.loads(info_path.read_text())
            data = tensors_path.read_bytes()
            if info.get("generation") != generation or info.get("sha256") != hashlib.sha256(data).hexdigest():
                raise ValueError("learner state does not match the newest checkpoint")
            from safetensors.torch import load as load_tensors

            self.learner.load_training_state(load_tensors(data), info["training"])
            log.info("learner resumed at generation %d, step %d", generation, self.learner.step)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
            # Fall back to the published (EMA) weights; the optimiser starts afresh.
            log.warning("learner state unusable (%s); restarting the optimiser from generation %d", e, generation)
            ckpt = load_checkpoint(self.run.model_dir(generation))
            self.learner.model.load_state_dict(ckpt.state_dict)
            self.learner.ema.load_state_dict(ckpt.state_dict)
            self.learner.samples_seen = ckpt.meta.samples_seen
        return generation

    def _save_state(self, generation: int) -> None:
        from safetensors.torch import save as save_tensors

        tensors, info = self.learner.training_state()
        data = save_tensors({k: v.contiguous() for k, v in tensors.items()})
        write_bytes_atomic(self.run.state_dir / LEARNER_STATE, data)
        meta = {"generation": generation, "sha256": hashlib.sha256(data).hexdigest(), "training": info}
        write_bytes_atomic(self.run.state_dir / LEARNER_INFO, json.dumps(meta).encode())

    # ---- work ------------------------------------------------------------------------------------
    def placement(self) -> dict:
        return placement(str(self.learner.device))

    def generation_on_disk(self) -> int:
        return self.generation

    def train(self, steps: int, board_size: int | None = None) -> LearnerReport:
        """``steps`` optimiser steps on batches drawn from the replay actor; mean metrics.
        ``board_size``: the size the batches should hold (the curriculum's current stage's, see
        ``ReplayBuffer.sample``); None: sizes in proportion to the window."""
        sums: dict[str, float] = {}
        sizes: dict[int, int] = {}
        start = time.perf_counter()
        batch_size = self.config.trainer.batch_size
        pending = self.replay.sample.remote(batch_size, int(self.rng.integers(1 << 62)), board_size)
        for i in range(steps):
            batch = ray.get(pending)
            if i + 1 < steps:  # fetch the next batch while this one trains
                pending = self.replay.sample.remote(batch_size, int(self.rng.integers(1 << 62)), board_size)
            n = int(batch.planes.shape[-1])
            sizes[n] = sizes.get(n, 0) + 1
            for key, value in self.learner.train_step(batch).items():
                sums[key] = sums.get(key, 0.0) + value
            self.sizes_trained.add(n)
        return LearnerReport(
            steps=self.learner.step, samples_seen=self.learner.samples_seen, threads=torch.get_num_threads(),
            samples_per_s=steps * self.config.trainer.batch_size / (time.perf_counter() - start),
            losses={k: v / steps for k, v in sums.items()},
            batches_by_size={str(n): c for n, c in sorted(sizes.items())})

    def publish(self, generation: int) -> dict:
        """Write checkpoint ``generation`` (EMA weights) and the learner state; return the weights
        as numpy arrays for the self-play actors. A learner restored from ``generation`` itself (Ray
        retried this call after the learner died having written it) finds it on disk and only
        returns its weights: rewriting it would name it its own parent."""
        weights = self.learner.publish_state_dict()
        if generation == self.generation:
            return {k: v.numpy() for k, v in weights.items()}
        parent = str(self.run.model_dir(self.generation)) if self.generation >= 0 else None
        meta = CheckpointMeta(
            network=self.config.network, input_planes=self.in_planes, feature_version=F.FEATURE_VERSION,
            history=self.config.history, board_sizes=self._board_sizes(),
            rules=tuple(r.to_dict() for r in self.config.selfplay.game_rules(self.config.rules)[0]),
            generation=generation, samples_seen=self.learner.samples_seen, parent=parent,
        )
        save_checkpoint(self.run.model_dir(generation), weights, meta)
        self._save_state(generation)
        self.generation = generation
        return {k: v.numpy() for k, v in weights.items()}

    def _parent_sizes(self) -> set[int]:
        """The board sizes the restored checkpoint names (a resumed curriculum run keeps its earlier
        stages' sizes); read once, at start: later parents are this learner's own."""
        if self.generation < 0:
            return set()
        try:
            return set(read_meta(self.run.model_dir(self.generation)).board_sizes)
        except (CheckpointError, OSError) as e:  # a parent that no longer reads only loses its sizes
            log.warning("parent checkpoint %d unreadable for its board sizes: %s", self.generation, e)
            return set()

    def _board_sizes(self) -> tuple[int, ...]:
        """Board sides the published weights were trained on (the parent's and this session's
        batches'); generation 0, untrained, names the size self-play starts on (the run's without
        a curriculum)."""
        return tuple(sorted(self.sizes_trained)) or (self.config.stage_rules(0)[0],)

    def current_weights(self) -> dict:
        return {k: v.numpy() for k, v in self.learner.publish_state_dict().items()}
