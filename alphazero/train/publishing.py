"""Publishing a generation: the learner's checkpoint goes once into the object store
(``publish_checkpoint``); self-play switches to it at once, or with gating only once its evaluation
match accepts it (``Evaluations``); shared inference servers are sent each version self-play plays
(``SelfPlayWeights``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import ray
from ray.exceptions import RayActorError, RayTaskError

from alphazero.checkpoint import CheckpointError, load_checkpoint
from alphazero.config.run import RunConfig
from alphazero.train.evaluation import Evaluation, EvaluationState, evaluate_generation, record_and_plot
from alphazero.train.faults import abort_if_disk_full
from alphazero.train.metrics import MetricsLog
from alphazero.train.run_dir import RunDir

log = logging.getLogger(__name__)


def checkpoint_weights(run: RunDir, generation: int) -> dict:
    """Weights of a published checkpoint as numpy arrays, as the self-play actors take them."""
    return {k: v.numpy() for k, v in load_checkpoint(run.model_dir(generation)).state_dict.items()}


def published_weights(run: RunDir, learner, evaluation: EvaluationState, newest: int) -> dict:
    """The weights self-play resumes with: the gate's published generation (the newest one without
    gating); the newest if that checkpoint no longer loads."""
    if evaluation.published != newest:
        try:
            return checkpoint_weights(run, evaluation.published)
        except CheckpointError as e:
            log.warning("published generation %d does not load (%s): self-play uses generation %d",
                        evaluation.published, e, newest)
            evaluation.published = newest
    return ray.get(learner.current_weights.remote())


def publish_checkpoint(learner, generation: int):
    """The learner writes checkpoint ``generation``; its weights, put once into the object store."""
    try:
        return ray.put(ray.get(learner.publish.remote(generation)))
    except RayTaskError as e:
        abort_if_disk_full(e)  # the checkpoint did not get written (a broken one is skipped on resume)
        raise


@dataclass
class SelfPlayWeights:
    """The version self-play plays, its weights in the object store, and the shared servers."""

    version: int
    ref: object  # ObjectRef of the weights (numpy arrays by name)
    servers: list  # shared inference servers (empty: per-actor inference)

    def use(self, version: int, ref) -> None:
        """Self-play switches to ``version`` from its next task on; shared servers get it now (not
        waited for: a server that lags is sent the weights by the first actor that needs them)."""
        self.version, self.ref = version, ref
        for server in self.servers:
            server.load_weights.remote(version, ref)


@dataclass
class Evaluations:
    """The evaluation matches in flight and what their results decide: each one's Elo entry and,
    with gating, whether self-play switches to the candidate."""

    run: RunDir
    config: RunConfig
    metrics: MetricsLog
    weights: SelfPlayWeights
    state: EvaluationState  # persisted in state/evaluation.json on every change
    pending: dict = field(default_factory=dict)  # ObjectRef -> generation being evaluated
    candidates: dict = field(default_factory=dict)  # generation -> weights ref, waiting for the gate (gating only)
    latest: dict | None = None  # the newest evaluation entry (its anchored Elo is displayed)

    def save(self) -> None:
        self.run.write_evaluation_state(self.state.to_json())

    def submit(self, generation: int, previous: int) -> None:
        ref = evaluate_generation.remote(str(self.run.root), self.config, generation, previous)
        self.pending[ref] = generation
        self.state.pending[generation] = previous
        self.state.last_evaluated = max(self.state.last_evaluated, generation)

    def resubmit_undecided(self) -> None:
        """The matches the last session left undecided."""
        for generation, previous in sorted(self.state.pending.items()):
            self.submit(generation, previous)

    def offer(self, generation: int, weights_ref) -> None:
        """A new checkpoint: self-play takes it now without gating, its match starts when due."""
        arena = self.config.arena
        due = arena.due(generation)
        if arena.gating and due:
            self.candidates[generation] = weights_ref  # self-play switches only if the gate accepts
        elif not arena.gating:
            self.weights.use(generation, weights_ref)
            self.state.published = generation
        if due:
            self.submit(generation, self.weights.version if arena.gating else self.state.last_evaluated)
        self.save()

    def on_result(self, ref) -> dict | None:
        """Record the finished match ``ref`` and act on its decision; its Elo entry (None: it failed)."""
        generation = self.pending.pop(ref)
        try:
            result: Evaluation = ray.get(ref)
        except (RayActorError, RayTaskError) as e:
            log.warning("evaluation of generation %d failed: %s", generation, str(e).splitlines()[0])
            self.candidates.pop(generation, None)
            self.state.pending.pop(generation, None)
            self.state.decisions[generation] = "failed"
            self.save()
            return None
        entry = record_and_plot(self.run, result)
        self.latest = entry
        self.metrics.log("arena", entry)
        self.state.pending.pop(generation, None)
        self.state.decisions[generation] = result.decision
        if self.config.arena.gating:
            weights_ref = self.candidates.pop(generation, None)
            if result.decision == "accept" and generation > self.weights.version:
                self._switch(generation, weights_ref)
        self.save()
        return entry

    def _switch(self, generation: int, weights_ref) -> None:
        """Self-play takes the accepted ``generation``, unless its checkpoint does not load."""
        try:
            if weights_ref is None:  # a candidate of an earlier session: its weights are on disk
                weights_ref = ray.put(checkpoint_weights(self.run, generation))
            self.weights.use(generation, weights_ref)
            self.state.published = generation
        except CheckpointError as e:
            log.warning("accepted generation %d does not load (%s): self-play keeps generation %d",
                        generation, e, self.weights.version)
