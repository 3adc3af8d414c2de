"""Faults of a training run and what the driver does about them: a full disk stops the run
(``RunAborted``); a failed or restarted self-play actor is logged as a fault; the self-play actors of
a node that died are replaced (``NodeWatch``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import ray
from ray.exceptions import RayActorError, RayTaskError

from alphazero.atomic_io import NO_SPACE, DiskFullError
from alphazero.train.metrics import MetricsLog

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


def abort_if_disk_full(error: BaseException) -> None:
    """Raise ``RunAborted`` when ``error`` is (or wraps) a full disk; return otherwise."""
    full = _disk_full(error)
    if full is not None:
        text = full.strerror if isinstance(full, OSError) and full.strerror else str(full).strip().splitlines()[-1]
        raise RunAborted(f"disk full, run stopped: {text}") from None


@dataclass
class ActorFaults:
    """The ``fault`` records of the self-play actors: failed tasks and restarts Ray did on its own."""

    metrics: MetricsLog
    incarnations: dict[int, str] = field(default_factory=dict)  # actor index -> id of the process that last reported

    def task_failed(self, index: int, error: BaseException, generation: int) -> None:
        """The actor died (Ray restarts it) or its task failed: its games in flight are lost once."""
        abort_if_disk_full(error)  # retrying cannot help: every shard write would fail alike
        log.warning("self-play actor %d failed: %s", index, str(error).splitlines()[0] if str(error) else type(error).__name__)
        self.metrics.log("fault", {"actor": index, "error": type(error).__name__, "generation": generation})

    def forget(self, index: int) -> None:
        """Actor ``index`` was replaced by a new one: its first report is no restart."""
        self.incarnations.pop(index, None)

    def note_incarnation(self, index: int, incarnation: str, generation: int) -> None:
        """A new incarnation id means Ray restarted the actor (and retried its task transparently)."""
        previous = self.incarnations.get(index)
        self.incarnations[index] = incarnation
        if previous is not None and previous != incarnation:
            log.warning("self-play actor %d was restarted", index)
            self.metrics.log("fault", {"actor": index, "error": "actor restarted", "generation": generation})


@dataclass
class NodeWatch:
    """Replaces the self-play actors of nodes that died. Ray would restart them itself, but an actor
    pinned by ``loop.actor_resource`` needs a unit of it, and when the dead node held the only free
    ones it stays pending forever: the replacement keeps the pin only if a unit is free, and runs
    wherever CPUs (and GPUs) are free otherwise."""

    actors: list  # the session's self-play actors, replaced in place
    spawn: object  # spawn(index, pinned, name_suffix): a new self-play actor (see loop._selfplay_spawner)
    resource: str  # loop.actor_resource ("" when the actors are not pinned)
    metrics: MetricsLog
    actor_nodes: dict[int, str | None]  # actor index -> its node, where known
    alive_nodes: set[str] | None = None  # node ids alive at the last check
    placement_pending: dict = field(default_factory=dict)  # ObjectRef of a replacement's placement() -> actor index
    replacements: int = 0

    def replace_lost(self, generation: int) -> list[int]:
        """Replace the actors on nodes gone since the last check; returns their indices (their
        tasks in flight died with the node)."""
        self._note_placements()
        alive = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
        if self.alive_nodes is not None and not self.alive_nodes - alive:
            self.alive_nodes = alive
            return []
        self.alive_nodes = alive
        lost = [(index, node) for index, node in sorted(self.actor_nodes.items()) if node is not None and node not in alive]
        for index, node in lost:
            self._replace(index, node, generation)
        return [index for index, _ in lost]

    def _note_placements(self) -> None:
        """Where replacements landed (answered before their first task)."""
        if not self.placement_pending:
            return
        ready, _ = ray.wait(list(self.placement_pending), num_returns=len(self.placement_pending), timeout=0)
        for ref in ready:
            index = self.placement_pending.pop(ref)
            try:
                self.actor_nodes[index] = ray.get(ref)["node_id"]
            except (RayActorError, RayTaskError):
                pass

    def _replace(self, index: int, node: str, generation: int) -> None:
        old = self.actors[index]
        pinned = bool(self.resource) and ray.available_resources().get(self.resource, 0.0) >= 1.0
        self.replacements += 1
        self.actors[index] = self.spawn(index, pinned=pinned, name_suffix=f"-r{self.replacements}")
        self.actor_nodes[index] = None  # until its placement() answers
        self.placement_pending[self.actors[index].placement.remote()] = index
        ray.kill(old, no_restart=True)
        log.warning("self-play actor %d was on node %s, which is gone: replaced%s", index, node[:12],
                    "" if pinned or not self.resource else f" without its {self.resource!r} pin (no free unit left)")
        self.metrics.log("fault", {"actor": index, "error": "node lost", "node": node, "pinned": pinned,
                                   "generation": generation})
