"""The run directory: where everything of one training run lives, and how it is found again.

    <run>/config.json             the RunConfig that runs (overrides and limits applied; a resume with
                                  new --max-generations / --time-limit rewrites it)
    <run>/state/run_state.json    counters of the driver (atomic JSON)
    <run>/state/evaluation.json   the evaluation chain and the gate: the generation self-play uses,
                                  decisions, matches still to play (atomic JSON)
    <run>/state/learner.*         learner weights + optimiser (safetensors + JSON), per generation
    <run>/models/<gen>/           published checkpoints (model.safetensors + model.json)
    <run>/replay/                 game records, one .npz shard per game
    <run>/sgf/<gen>/              sample self-play games
    <run>/heldout/<gen>/          a few self-play records per generation, kept for the IDA meter
    <run>/metrics.jsonl           one JSON object per line, appended
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from alphazero.atomic_io import write_bytes_atomic
from alphazero.checkpoint import CheckpointError, load_checkpoint

log = logging.getLogger(__name__)

GENERATION_DIGITS = 6


# Attribute -> path below the run's root (the layout in the module docstring).
LAYOUT: dict[str, str] = {
    "config_path": "config.json",
    "state_dir": "state",
    "run_state_path": "state/run_state.json",
    "evaluation_state_path": "state/evaluation.json",
    "models": "models",
    "replay": "replay",
    "sgf": "sgf",
    "heldout": "heldout",
    "metrics_path": "metrics.jsonl",
}


@dataclass(frozen=True)
class RunDir:
    root: Path
    config_path: Path = field(init=False, repr=False, compare=False)
    state_dir: Path = field(init=False, repr=False, compare=False)
    run_state_path: Path = field(init=False, repr=False, compare=False)
    evaluation_state_path: Path = field(init=False, repr=False, compare=False)
    models: Path = field(init=False, repr=False, compare=False)
    replay: Path = field(init=False, repr=False, compare=False)
    sgf: Path = field(init=False, repr=False, compare=False)
    heldout: Path = field(init=False, repr=False, compare=False)
    metrics_path: Path = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, relative in LAYOUT.items():
            object.__setattr__(self, name, Path(self.root) / relative)

    def model_dir(self, generation: int) -> Path:
        return self.models / f"{generation:0{GENERATION_DIGITS}d}"

    def create(self) -> None:
        for d in (self.root, self.state_dir, self.models, self.replay, self.sgf, self.heldout):
            d.mkdir(parents=True, exist_ok=True)

    def generations(self) -> list[int]:
        """Generations with a model directory (valid or not), ascending."""
        if not self.models.is_dir():
            return []
        return sorted(int(p.name) for p in self.models.iterdir() if p.is_dir() and p.name.isdigit())

    def latest_valid_generation(self) -> int | None:
        """Newest generation whose checkpoint loads and verifies (sha256 of the weights, shapes);
        broken ones are reported and skipped, never used."""
        for generation in reversed(self.generations()):
            try:
                load_checkpoint(self.model_dir(generation))
                return generation
            except CheckpointError as e:
                log.warning("skipping checkpoint of generation %d: %s", generation, e)
        return None

    def read_run_state(self) -> dict | None:
        return _read_state(self.run_state_path, "counters restart from the checkpoint")

    def write_run_state(self, state: dict) -> None:
        _write_state(self.run_state_path, state)

    def read_evaluation_state(self) -> dict | None:
        return _read_state(self.evaluation_state_path, "the gate restarts from the newest checkpoint")

    def write_evaluation_state(self, state: dict) -> None:
        _write_state(self.evaluation_state_path, state)

    def prune_models(self, keep: int, every: int = 10, protect: frozenset[int] = frozenset()) -> None:
        """Delete all but the newest ``keep`` generations (0 = keep all); multiples of ``every`` and
        the ``protect`` ones (the gate's published generation, matches still to play) stay."""
        if keep <= 0:
            return
        generations = self.generations()
        for generation in generations[:-keep]:
            if generation % every == 0 or generation in protect:
                continue
            directory = self.model_dir(generation)
            for path in directory.iterdir():
                path.unlink()
            os.rmdir(directory)


def _write_state(path: Path, state: dict) -> None:
    write_bytes_atomic(path, json.dumps(state, indent=1, sort_keys=True).encode())


def _read_state(path: Path, fallback: str) -> dict | None:
    """A JSON object from ``state/``; None (with a warning saying what happens instead) if unreadable."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        log.warning("%s is unreadable (%s); %s", path, e, fallback)
        return None
    if not isinstance(data, dict):
        log.warning("%s does not hold a JSON object; %s", path, fallback)
        return None
    return data
