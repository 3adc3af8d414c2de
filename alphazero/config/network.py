"""Network config: residual tower size, where global pooling goes, head sizes, and the named presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from alphazero.config.base import ConfigBase, require


@dataclass(frozen=True)
class NetworkConfig(ConfigBase):
    """Shape of the policy-value network (see ``alphazero.model``). The number of input planes is
    not here: it follows from the feature encoding and is recorded in each checkpoint."""

    blocks: int = 6
    """Residual blocks in the tower."""
    channels: int = 96
    """Channels of the residual tower (the trunk width)."""
    global_pool_every: int = 3
    """Every k-th residual block (blocks k-1, 2k-1, ...) is a global-pooling block (KataGo style);
    0 disables them. Ignored when ``global_pool_blocks`` is non-empty."""
    global_pool_blocks: tuple[int, ...] = ()
    """Explicit 0-based indices of the global-pooling blocks; overrides ``global_pool_every``."""
    global_pool_channels: int = 32
    """Channels pooled over the board (mean, size-scaled mean, max) inside a global-pooling block."""
    policy_head_channels: int = 32
    """Channels of the policy head's 1x1 convolution (its pooled branch feeds the pass logit)."""
    value_head_channels: int = 32
    """Channels of the value head's 1x1 convolution (pooled for value/score; ownership is per point)."""
    value_hidden: int = 64
    """Width of the value head's hidden layer, shared by the win/loss/draw and score outputs."""
    aux_policy: bool = False
    """Two extra policy outputs for KataGo's auxiliary targets, trained only (search never reads
    them): the opponent's reply (the next position's policy target) and the soft policy (the
    target raised to 1/T). As KataGo's extra policy channels: more outputs of the policy head's
    final 1x1 convolution and pass layer, on the same features. Their weights are
    ``trainer.opponent_policy_weight`` and ``trainer.soft_policy_weight``. A network's shape is
    fixed for its run: a checkpoint records it, and a run resumed with another shape is refused."""

    def validate(self) -> None:
        require(1 <= self.blocks <= 64, f"blocks must be in [1, 64], got {self.blocks}")
        require(4 <= self.channels <= 1024, f"channels must be in [4, 1024], got {self.channels}")
        require(0 <= self.global_pool_every <= self.blocks, f"global_pool_every must be in [0, blocks], got {self.global_pool_every}")
        require(
            all(0 <= b < self.blocks for b in self.global_pool_blocks),
            f"global_pool_blocks must be block indices in [0, {self.blocks}), got {list(self.global_pool_blocks)}",
        )
        require(
            len(set(self.global_pool_blocks)) == len(self.global_pool_blocks),
            f"global_pool_blocks has duplicates: {list(self.global_pool_blocks)}",
        )
        require(
            1 <= self.global_pool_channels < self.channels,
            f"global_pool_channels must be in [1, channels), got {self.global_pool_channels}",
        )
        require(1 <= self.policy_head_channels <= 1024, f"policy_head_channels must be in [1, 1024], got {self.policy_head_channels}")
        require(1 <= self.value_head_channels <= 1024, f"value_head_channels must be in [1, 1024], got {self.value_head_channels}")
        require(1 <= self.value_hidden <= 4096, f"value_hidden must be in [1, 4096], got {self.value_hidden}")

    def pooled_block_indices(self) -> tuple[int, ...]:
        """Sorted indices of the global-pooling blocks."""
        if self.global_pool_blocks:
            return tuple(sorted(self.global_pool_blocks))
        if self.global_pool_every == 0:
            return ()
        k = self.global_pool_every
        return tuple(range(k - 1, self.blocks, k))


def _preset(blocks: int, channels: int, pool: int, head: int, hidden: int, every: int = 3) -> NetworkConfig:
    return NetworkConfig(
        blocks=blocks,
        channels=channels,
        global_pool_every=every,
        global_pool_channels=pool,
        policy_head_channels=head,
        value_head_channels=head,
        value_hidden=hidden,
    )


NETWORK_PRESETS: dict[str, NetworkConfig] = {
    # For tests and CPU smoke runs: one plain block and one global-pooling block.
    "tiny": _preset(blocks=2, channels=16, pool=8, head=8, hidden=16, every=2),
    "b6c64": _preset(blocks=6, channels=64, pool=16, head=24, hidden=48),
    "b6c96": _preset(blocks=6, channels=96, pool=32, head=32, hidden=64),
    "b6c128": _preset(blocks=6, channels=128, pool=32, head=32, hidden=80),
    "b10c128": _preset(blocks=10, channels=128, pool=32, head=32, hidden=80),
    "b20c256": _preset(blocks=20, channels=256, pool=64, head=48, hidden=128),
}


def network_preset(name: str, **overrides: object) -> NetworkConfig:
    """The preset ``name`` (see ``NETWORK_PRESETS``), optionally with some fields replaced."""
    if name not in NETWORK_PRESETS:
        raise ValueError(f"unknown network preset {name!r}; choose from {sorted(NETWORK_PRESETS)}")
    config = NETWORK_PRESETS[name]
    return dataclasses.replace(config, **overrides) if overrides else config
