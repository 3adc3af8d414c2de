"""Metrics sinks: ``metrics.jsonl`` in the run directory always, Weights & Biases when enabled."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

WandbMode = Literal["off", "offline", "online"]


def default_wandb_mode() -> WandbMode:
    """Offline unless an API key is configured (then online); never asks for a login."""
    return "online" if os.environ.get("WANDB_API_KEY") else "offline"


class MetricsLog:
    """Appends one JSON object per ``log`` call (flushed at once) and mirrors it to wandb."""

    def __init__(self, path: Path, wandb_mode: WandbMode, run_name: str, config: dict, wandb_id: str | None) -> None:
        self.path = path
        self.file = open(path, "a", encoding="utf-8")
        self.wandb = None
        self.wandb_id = wandb_id
        if wandb_mode != "off":
            try:
                import wandb

                self.wandb = wandb.init(project="alphazero-go", name=run_name, id=wandb_id, resume="allow",
                                        dir=str(path.parent), mode=wandb_mode, config=config,
                                        settings=wandb.Settings(console="off", silent=True))
                self.wandb_id = self.wandb.id
            except Exception as e:  # noqa: BLE001 - metrics must never stop a run
                log.warning("wandb disabled: %s", e)
                self.wandb = None

    def log(self, kind: str, values: dict, step: int | None = None) -> None:
        clean = {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in values.items()}
        record = {"time": time.time(), "kind": kind, **clean}
        self.file.write(json.dumps(record, sort_keys=True) + "\n")
        self.file.flush()
        if self.wandb is not None:
            numeric = {f"{kind}/{k}": v for k, v in clean.items() if isinstance(v, (int, float)) and v is not None}
            try:
                self.wandb.log(numeric, step=step)
            except Exception as e:  # noqa: BLE001
                log.warning("wandb log failed: %s", e)

    def close(self) -> None:
        self.file.close()
        if self.wandb is not None:
            try:
                self.wandb.finish()
            except Exception:  # noqa: BLE001
                pass


def read_metrics(path: Path) -> list[dict]:
    """All records of a metrics file; a torn last line (a killed run) is skipped."""
    out = []
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out
