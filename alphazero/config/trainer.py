"""Learner and replay-buffer configs: optimiser, schedule, loss weights, EMA, and the tapered window."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from alphazero.config.base import ConfigBase, require


@dataclass(frozen=True)
class TrainerConfig(ConfigBase):
    """How the learner distils search results into the network (see ``trainer.learner``)."""

    batch_size: int = 256
    """Positions per gradient step."""
    optimizer: Literal["sgd", "adamw"] = "sgd"
    """Optimiser: SGD with Nesterov momentum (AlphaZero, KataGo) or AdamW."""
    lr: float = 0.02
    """Peak learning rate, reached at the end of the warm-up."""
    momentum: float = 0.9
    """SGD momentum (for AdamW: beta1)."""
    weight_decay: float = 1e-4
    """Weight decay on convolution/linear weights (not on biases or norm parameters). For SGD this is
    the L2 coefficient (loss term weight_decay/2 * |w|^2); for AdamW it is decoupled decay."""
    warmup_steps: int = 500
    """Steps of linear learning-rate warm-up from lr * warmup_start_factor to lr."""
    warmup_start_factor: float = 0.1
    """Fraction of lr used at step 0 of the warm-up."""
    lr_milestones: tuple[int, ...] = ()
    """Steps at which the learning rate is multiplied by lr_gamma (increasing)."""
    lr_gamma: float = 0.1
    """Factor applied to the learning rate at each milestone."""
    max_grad_norm: float = 10.0
    """Gradients are clipped to this global L2 norm; 0 disables clipping (the norm is still logged)."""
    policy_weight: float = 1.0
    """Weight of the policy cross-entropy (counted only on full-search positions)."""
    value_weight: float = 1.0
    """Weight of the win/loss/draw cross-entropy."""
    ownership_weight: float = 0.5
    """Weight of the per-point ownership loss (mean over points)."""
    score_weight: float = 0.05
    """Weight of the score-margin Huber loss (margin divided by the board side)."""
    opponent_policy_weight: float = 0.0
    """Weight of the opponent's-reply policy cross-entropy (KataGo's auxiliary target: the next
    position's search distribution, predicted from this one; counted where that next position had
    a full search). Needs ``network.aux_policy``. KataGo uses 0.15; 0 disables it."""
    soft_policy_weight: float = 0.0
    """Weight of the soft policy cross-entropy (KataGo's auxiliary target: the policy target raised
    to ``1 / soft_policy_temperature`` and renormalised, so low-probability moves get a gradient;
    counted on full-search positions). Needs ``network.aux_policy``. KataGo uses 8; 0 disables it."""
    soft_policy_temperature: float = 4.0
    """T of the soft policy target p^(1/T) / sum (KataGo: 4). Above 1 flattens the target."""
    ema_decay: float = 0.999
    """Decay of the exponential moving average of the weights; the EMA is what gets published.
    0 publishes the raw weights."""
    mixed_precision: bool = True
    """bf16 autocast for the forward pass on CUDA (ignored on CPU)."""

    def validate(self) -> None:
        require(1 <= self.batch_size <= 1 << 16, f"batch_size must be in [1, 65536], got {self.batch_size}")
        require(0.0 < self.lr <= 10.0, f"lr must be in (0, 10], got {self.lr}")
        require(0.0 <= self.momentum < 1.0, f"momentum must be in [0, 1), got {self.momentum}")
        require(0.0 <= self.weight_decay <= 1.0, f"weight_decay must be in [0, 1], got {self.weight_decay}")
        require(self.warmup_steps >= 0, f"warmup_steps must be >= 0, got {self.warmup_steps}")
        require(0.0 < self.warmup_start_factor <= 1.0, f"warmup_start_factor must be in (0, 1], got {self.warmup_start_factor}")
        require(all(m > 0 for m in self.lr_milestones), f"lr_milestones must be positive, got {list(self.lr_milestones)}")
        require(
            all(a < b for a, b in zip(self.lr_milestones, self.lr_milestones[1:])),
            f"lr_milestones must be strictly increasing, got {list(self.lr_milestones)}",
        )
        require(0.0 < self.lr_gamma <= 1.0, f"lr_gamma must be in (0, 1], got {self.lr_gamma}")
        require(self.max_grad_norm >= 0.0, f"max_grad_norm must be >= 0, got {self.max_grad_norm}")
        for name in ("policy_weight", "value_weight", "ownership_weight", "score_weight", "opponent_policy_weight", "soft_policy_weight"):
            value = getattr(self, name)
            require(0.0 <= value <= 100.0, f"{name} must be in [0, 100], got {value}")
        require(
            1.0 <= self.soft_policy_temperature <= 100.0,
            f"soft_policy_temperature must be in [1, 100], got {self.soft_policy_temperature}",
        )
        require(0.0 <= self.ema_decay < 1.0, f"ema_decay must be in [0, 1), got {self.ema_decay}")

    def lr_at(self, step: int) -> float:
        """Learning rate at optimiser step ``step`` (0-based): linear warm-up, then piecewise constant."""
        lr = self.lr * math.prod(self.lr_gamma for m in self.lr_milestones if step >= m)
        if step < self.warmup_steps:
            frac = step / self.warmup_steps
            lr *= self.warmup_start_factor + (1.0 - self.warmup_start_factor) * frac
        return lr


@dataclass(frozen=True)
class ReplayConfig(ConfigBase):
    """Replay window over the most recent positions (see ``trainer.replay_buffer``).

    The window grows with the run, as KataGo's tapered window does, so early (weak) data is flushed
    quickly while later training sees more history: after ``N`` positions have been added,
    ``window(N) = min(N, max_size, window_base + window_alpha * N ** window_beta)``.
    """

    max_size: int = 500_000
    """Most positions the window ever holds (also the in-memory capacity)."""
    window_base: int = 20_000
    """Window size at the start of the run (before the power-law growth)."""
    window_alpha: float = 4.0
    """Scale of the power-law growth of the window."""
    window_beta: float = 0.75
    """Exponent of the power-law growth (< 1 so the window grows slower than the data)."""
    min_positions: int = 2_000
    """Positions needed in the window before sampling is allowed: the learner's first step waits for them."""
    max_file_bytes: int = 64 << 20
    """Largest game-record file accepted (checked before parsing)."""
    max_uncompressed_bytes: int = 256 << 20
    """Largest total uncompressed size of a record's arrays (checked from the zip directory)."""
    delete_evicted_shards: bool = True
    """Delete shard files whose positions can no longer enter the window (older than max_size)."""

    def validate(self) -> None:
        require(1 <= self.max_size <= 1 << 32, f"max_size must be in [1, 2^32], got {self.max_size}")
        require(1 <= self.window_base, f"window_base must be >= 1, got {self.window_base}")
        require(0.0 <= self.window_alpha, f"window_alpha must be >= 0, got {self.window_alpha}")
        require(0.0 <= self.window_beta < 1.0, f"window_beta must be in [0, 1), got {self.window_beta}")
        require(1 <= self.min_positions, f"min_positions must be >= 1, got {self.min_positions}")
        require(self.max_file_bytes >= 1024, f"max_file_bytes must be >= 1024, got {self.max_file_bytes}")
        require(
            self.max_uncompressed_bytes >= self.max_file_bytes,
            f"max_uncompressed_bytes must be >= max_file_bytes, got {self.max_uncompressed_bytes}",
        )

    def window_size(self, total_seen: int) -> int:
        """Positions in the window after ``total_seen`` positions have ever been added."""
        grown = self.window_base + self.window_alpha * float(total_seen) ** self.window_beta
        return int(min(total_seen, self.max_size, grown))
