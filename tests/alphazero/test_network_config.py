"""NetworkConfig / TrainerConfig / ReplayConfig: presets, range checks, documented fields."""

import pytest

from alphazero.config.base import ConfigError, field_docs
from alphazero.config.network import NETWORK_PRESETS, NetworkConfig, network_preset
from alphazero.config.trainer import ReplayConfig, TrainerConfig


def test_presets_exist_and_pooled_blocks():
    assert {"tiny", "b6c64", "b6c96", "b6c128", "b10c128", "b20c256"} <= set(NETWORK_PRESETS)
    assert network_preset("b6c96").pooled_block_indices() == (2, 5)
    assert network_preset("tiny").pooled_block_indices() == (1,)
    assert network_preset("b20c256").blocks == 20 and network_preset("b20c256").channels == 256
    assert network_preset("tiny", blocks=3).blocks == 3
    assert NetworkConfig(blocks=4, global_pool_blocks=(0, 3)).pooled_block_indices() == (0, 3)
    with pytest.raises(ValueError, match="unknown network preset"):
        network_preset("b99c1")


@pytest.mark.parametrize(
    "bad",
    [
        {"blocks": 0},
        {"channels": 2},
        {"global_pool_blocks": (7,)},
        {"global_pool_blocks": (1, 1)},
        {"global_pool_channels": 96},
        {"global_pool_every": 9},
    ],
)
def test_network_config_rejects_out_of_range(bad):
    with pytest.raises(ConfigError):
        NetworkConfig(**bad)


def test_dict_round_trip_and_unknown_keys():
    config = network_preset("b6c64")
    assert NetworkConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown config key"):
        NetworkConfig.from_dict({**config.to_dict(), "dropout": 0.1})
    assert TrainerConfig().with_overrides(["lr=0.1", "optimizer=adamw"]).optimizer == "adamw"
    with pytest.raises(ConfigError):
        TrainerConfig().with_overrides(["optimizer=adam"])


@pytest.mark.parametrize("cls", [NetworkConfig, TrainerConfig, ReplayConfig])
def test_every_field_is_documented(cls):
    import dataclasses

    docs = field_docs(cls)
    assert {f.name for f in dataclasses.fields(cls)} == set(docs)
    assert all(docs.values())


def test_lr_schedule_warmup_and_milestones():
    config = TrainerConfig(lr=1.0, warmup_steps=10, warmup_start_factor=0.1, lr_milestones=(20, 30), lr_gamma=0.5)
    assert config.lr_at(0) == pytest.approx(0.1)
    assert config.lr_at(5) == pytest.approx(0.55)
    assert config.lr_at(10) == pytest.approx(1.0)
    assert config.lr_at(25) == pytest.approx(0.5)
    assert config.lr_at(30) == pytest.approx(0.25)
    with pytest.raises(ConfigError):
        TrainerConfig(lr_milestones=(30, 20))


def test_replay_window_grows_then_caps():
    config = ReplayConfig(max_size=1000, window_base=100, window_alpha=2.0, window_beta=0.5, min_positions=1)
    assert config.window_size(50) == 50  # never more than what was seen
    assert config.window_size(400) == 140  # 100 + 2 * sqrt(400)
    assert config.window_size(10_000) == 300
    assert config.window_size(10**8) == 1000
    sizes = [config.window_size(n) for n in range(0, 10**6, 997)]
    assert sizes == sorted(sizes)
    with pytest.raises(ConfigError):
        ReplayConfig(window_beta=1.0)
