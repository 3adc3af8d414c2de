"""The auxiliary policy outputs (network.aux_policy) outside the trainer: config validation, presets
untouched, checkpoints with and without them (old ones load unchanged, a run resumed as another
network is refused by name), and inference that ignores them: the torch and onnxruntime
evaluators give the policy and value of the same network without them, and self-play plays."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from alphazero.checkpoint import META_FILE, CheckpointError, CheckpointMeta, load_checkpoint, load_model, read_meta, require_network, save_checkpoint
from alphazero.config.base import ConfigError
from alphazero.config.network import NETWORK_PRESETS, NetworkConfig, network_preset
from alphazero.config.run import PRESETS, load_config
from alphazero.config.trainer import TrainerConfig
from alphazero.evaluator import NetworkEvaluator
from alphazero.model import PolicyValueNet
from go_engine import features
from tests.networks import random_inputs, spread_network

torch.set_num_threads(2)
HISTORY = 2
C = features.num_planes(HISTORY)
AUX = network_preset("tiny", aux_policy=True)
AUX_OVERRIDES = ["network.aux_policy=true", "trainer.opponent_policy_weight=0.15", "trainer.soft_policy_weight=8"]


def perturbed(network: NetworkConfig, seed: int = 0) -> PolicyValueNet:
    return spread_network(C, network, seed=seed, buffers=True).eval()


def meta(network: NetworkConfig) -> CheckpointMeta:
    return CheckpointMeta(network=network, input_planes=C, feature_version=features.FEATURE_VERSION, history=HISTORY, board_sizes=(5,))


def without_aux(net: PolicyValueNet) -> PolicyValueNet:
    """A network without the outputs holding ``net``'s other weights."""
    plain = PolicyValueNet(dataclasses.replace(net.config, aux_policy=False), C)
    plain.load_state_dict({k: v for k, v in net.state_dict().items() if ".aux_" not in k}, strict=True)
    return plain.eval()


def inputs(b: int, n: int, seed: int = 0):
    return random_inputs(b, C, n, seed, legal_share=0.6)


def test_config_fields_are_validated_by_name():
    with pytest.raises(ConfigError, match="aux_policy"):
        NetworkConfig.from_dict({"aux_policy": "yes"}, "network")
    for field, bad in (("opponent_policy_weight", -0.1), ("soft_policy_weight", 101.0), ("soft_policy_temperature", 0.5)):
        with pytest.raises(ConfigError, match=field):
            TrainerConfig(**{field: bad})
    for weight in ("opponent_policy_weight", "soft_policy_weight"):
        with pytest.raises(ConfigError, match=f"trainer.{weight}.*network.aux_policy"):
            load_config("tiny-cpu", overrides=[f"trainer.{weight}=0.5"])
    config = load_config("tiny-cpu", overrides=AUX_OVERRIDES)
    assert config.network.aux_policy and config.trainer.soft_policy_weight == 8.0 and config.trainer.soft_policy_temperature == 4.0
    assert load_config("tiny-cpu", overrides=["network.aux_policy=true"]).trainer.opponent_policy_weight == 0.0


def test_every_preset_leaves_the_targets_off():
    assert not any(p.aux_policy for p in NETWORK_PRESETS.values())
    for name, preset in PRESETS.items():
        assert not preset.network.aux_policy, name
        assert preset.trainer.opponent_policy_weight == 0.0 and preset.trainer.soft_policy_weight == 0.0, name


def test_checkpoint_round_trip_with_the_outputs_loads_and_evaluates_as_without_them(tmp_path):
    net = perturbed(AUX)
    save_checkpoint(tmp_path / "aux", net, meta(AUX))
    loaded, loaded_meta = load_model(tmp_path / "aux")
    assert loaded_meta.network.aux_policy and loaded.policy_head.aux
    planes, legal = inputs(6, 5)
    x = torch.from_numpy(planes)
    with torch.no_grad():
        a, b = net(x), loaded(x)
    for name in a._fields:
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    evaluator, _ = NetworkEvaluator.from_checkpoint(tmp_path / "aux")
    logits, value, aux = evaluator(planes, legal)
    ref_logits, ref_value, ref_aux = NetworkEvaluator(without_aux(net))(planes, legal)
    np.testing.assert_array_equal(logits, ref_logits)
    np.testing.assert_array_equal(value, ref_value)
    np.testing.assert_array_equal(aux["ownership"], ref_aux["ownership"])
    np.testing.assert_array_equal(aux["score"], ref_aux["score"])


def test_onnxruntime_exports_a_network_with_the_outputs():
    pytest.importorskip("onnxruntime")
    net = perturbed(AUX, seed=1)
    planes, legal = inputs(5, 7, seed=1)
    logits, value, aux = NetworkEvaluator(net, backend="onnxruntime", threads=1)(planes, legal)
    ref_logits, ref_value, ref_aux = NetworkEvaluator(without_aux(net))(planes, legal)
    np.testing.assert_allclose(logits, ref_logits, atol=1e-4)
    np.testing.assert_allclose(value, ref_value, atol=1e-5)
    np.testing.assert_allclose(aux["score"], ref_aux["score"], atol=1e-3)


def test_old_checkpoints_load_unchanged(tmp_path):
    """A checkpoint written before the field existed has no ``aux_policy`` in its metadata."""
    net = perturbed(network_preset("tiny"))
    save_checkpoint(tmp_path / "old", net, meta(net.config))
    path = tmp_path / "old" / META_FILE
    data = json.loads(path.read_text())
    del data["network"]["aux_policy"]
    path.write_text(json.dumps(data))
    loaded, loaded_meta = load_model(tmp_path / "old")
    assert loaded_meta.network == network_preset("tiny") and not loaded.policy_head.aux
    with torch.no_grad():
        out = loaded(torch.from_numpy(inputs(3, 5)[0]))
    assert out.opponent_policy_logits is None and out.soft_policy_logits is None
    assert set(loaded.state_dict()) == set(net.state_dict())


def test_mismatched_checkpoints_are_refused_by_name(tmp_path):
    plain, aux = perturbed(network_preset("tiny")), perturbed(AUX)
    save_checkpoint(tmp_path / "lacks", plain.state_dict(), meta(AUX))  # says aux, holds none
    with pytest.raises(CheckpointError, match="missing.*aux_"):
        load_checkpoint(tmp_path / "lacks")
    save_checkpoint(tmp_path / "extra", aux.state_dict(), meta(plain.config))  # holds aux, says none
    with pytest.raises(CheckpointError, match="unexpected.*aux_"):
        load_checkpoint(tmp_path / "extra")
    save_checkpoint(tmp_path / "plain", plain, meta(plain.config))
    require_network(read_meta(tmp_path / "plain"), network_preset("tiny"), "here")
    with pytest.raises(CheckpointError, match="network.aux_policy: checkpoint False, config True"):
        require_network(read_meta(tmp_path / "plain"), AUX, "here")


def test_a_run_resumed_with_the_outputs_its_checkpoints_lack_is_refused(tmp_path):
    """Refused by the driver before Ray starts or any actor loads a weight."""
    from alphazero.train.loop import train
    from alphazero.train.run_dir import RunDir

    config = load_config("tiny-cpu", overrides=AUX_OVERRIDES)
    run = RunDir(tmp_path / "run")
    run.create()
    run.config_path.write_text(json.dumps(config.to_dict()))
    plain = PolicyValueNet(dataclasses.replace(config.network, aux_policy=False), features.num_planes(config.history))
    save_checkpoint(run.model_dir(0), plain, CheckpointMeta(network=plain.config, input_planes=plain.in_planes,
                                                           feature_version=features.FEATURE_VERSION, history=config.history))
    with pytest.raises(ConfigError, match="network.aux_policy: checkpoint False, config True"):
        train(None, run.root, resume=True, quiet=True)


def test_selfplay_plays_with_a_checkpoint_of_the_outputs(tmp_path):
    from alphazero.train.actors import self_play_worker

    config = load_config("tiny-cpu", overrides=AUX_OVERRIDES + ["selfplay.games_in_parallel=2", "selfplay.max_game_moves=6",
                                                                "search.simulations=4", "search.gumbel_considered=2"])
    net = PolicyValueNet(config.network, features.num_planes(config.history))
    save_checkpoint(tmp_path / "ckpt", net, CheckpointMeta(network=config.network, input_planes=net.in_planes,
                                                           feature_version=features.FEATURE_VERSION, history=config.history))
    weights = {k: v.numpy() for k, v in load_checkpoint(tmp_path / "ckpt").state_dict.items()}
    assert any(".aux_" in k for k in weights)
    records, stats = self_play_worker(config, 0, device="cpu").run(0, weights, 40)
    assert records and stats.evaluations > 0
