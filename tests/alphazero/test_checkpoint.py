"""Checkpoints: bit-exact round trip; truncated, corrupt and mismatched files refused clearly."""

import hashlib
import json

import numpy as np
import pytest
import torch

from alphazero.checkpoint import META_FILE, WEIGHTS_FILE, CheckpointError, CheckpointMeta, load_checkpoint, load_model, read_meta, save_checkpoint
from alphazero.config.network import network_preset
from alphazero.evaluator import NetworkEvaluator
from alphazero.model import PolicyValueNet
from go_engine import features
from go_engine.rules import Rules

torch.set_num_threads(2)
HISTORY = 2
C = features.num_planes(HISTORY)


def trained_like_net(seed: int = 0, preset: str = "tiny") -> PolicyValueNet:
    torch.manual_seed(seed)
    net = PolicyValueNet(network_preset(preset), C)
    with torch.no_grad():
        for t in net.state_dict().values():
            if t.is_floating_point():
                t.add_(torch.randn_like(t) * 0.1)  # odd bit patterns in every tensor, buffers too
        net.stem_bn.num_batches_tracked.fill_(12345)
    return net


def meta_for(net: PolicyValueNet, **kw) -> CheckpointMeta:
    return CheckpointMeta(
        network=net.config,
        input_planes=net.in_planes,
        feature_version=features.FEATURE_VERSION,
        history=HISTORY,
        board_sizes=(9,),
        rules=(Rules().to_dict(),),
        generation=3,
        samples_seen=1000,
        parent="models/2",
        **kw,
    )


def test_round_trip_is_bit_exact(tmp_path):
    net = trained_like_net()
    written = save_checkpoint(tmp_path / "3", net, meta_for(net))
    assert written.weights_sha256 == hashlib.sha256((tmp_path / "3" / WEIGHTS_FILE).read_bytes()).hexdigest()
    ckpt = load_checkpoint(tmp_path / "3", expected_feature_version=features.FEATURE_VERSION, expected_input_planes=C)
    assert ckpt.meta == written
    original = net.state_dict()
    assert set(ckpt.state_dict) == set(original)
    for name, tensor in original.items():
        assert ckpt.state_dict[name].dtype == tensor.dtype
        assert torch.equal(ckpt.state_dict[name].view(torch.uint8) if tensor.is_floating_point() else ckpt.state_dict[name],
                           tensor.view(torch.uint8) if tensor.is_floating_point() else tensor), name
    model, meta = load_model(tmp_path / "3")
    assert meta.generation == 3 and meta.parent == "models/2" and meta.board_sizes == (9,)
    planes = (np.random.default_rng(0).random((5, C, 9, 9)) < 0.3).astype(np.float32)
    legal = np.ones((5, 82), bool)
    a = NetworkEvaluator(net.eval())(planes, legal)
    b = NetworkEvaluator(model)(planes, legal)
    assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes()
    assert a[2]["ownership"].tobytes() == b[2]["ownership"].tobytes()
    # Saving again produces identical bytes (deterministic format).
    save_checkpoint(tmp_path / "again", model, meta_for(model))
    assert (tmp_path / "again" / WEIGHTS_FILE).read_bytes() == (tmp_path / "3" / WEIGHTS_FILE).read_bytes()
    assert not [p for p in (tmp_path / "3").iterdir() if p.name not in (WEIGHTS_FILE, META_FILE)]


@pytest.fixture
def saved(tmp_path):
    net = trained_like_net()
    save_checkpoint(tmp_path / "ck", net, meta_for(net))
    return tmp_path / "ck"


def test_truncated_weights_refused(saved):
    data = (saved / WEIGHTS_FILE).read_bytes()
    (saved / WEIGHTS_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"model\.safetensors.*truncated"):
        load_checkpoint(saved)


def test_flipped_byte_refused(saved):
    data = bytearray((saved / WEIGHTS_FILE).read_bytes())
    data[-7] ^= 0x40
    (saved / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256 .* does not match"):
        load_checkpoint(saved)


def test_truncated_or_corrupt_json_refused(saved):
    text = (saved / META_FILE).read_text()
    (saved / META_FILE).write_text(text[:40])
    with pytest.raises(CheckpointError, match=r"model\.json.*not valid JSON"):
        load_checkpoint(saved)
    (saved / META_FILE).write_text(json.dumps({**json.loads(text), "input_planes": -1}))
    with pytest.raises(CheckpointError, match="input_planes must be a non-negative"):
        load_checkpoint(saved)
    (saved / META_FILE).write_text(json.dumps({**json.loads(text), "format": "pytorch"}))
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_checkpoint(saved)


def test_missing_files_refused(saved, tmp_path):
    with pytest.raises(CheckpointError, match="not a checkpoint directory"):
        load_checkpoint(tmp_path / "nowhere")
    (saved / META_FILE).unlink()
    with pytest.raises(CheckpointError, match=r"model\.json: missing"):
        load_checkpoint(saved)


def test_metadata_of_another_network_refused(saved, tmp_path):
    # Weights of one network with metadata describing another (hash consistent): shapes must catch it.
    meta = json.loads((saved / META_FILE).read_text())
    meta["network"] = network_preset("tiny", channels=24, global_pool_channels=8).to_dict()
    (saved / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="tensor .* needs"):
        load_checkpoint(saved)
    meta["network"] = network_preset("tiny", blocks=3).to_dict()
    (saved / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(saved)


def test_wrong_features_refused(saved):
    with pytest.raises(CheckpointError, match="feature version"):
        load_checkpoint(saved, expected_feature_version=features.FEATURE_VERSION + 1)
    with pytest.raises(CheckpointError, match="input planes"):
        load_checkpoint(saved, expected_input_planes=C + 2)


def test_garbage_with_matching_hash_refused(saved):
    garbage = b"\xff" * 64
    (saved / WEIGHTS_FILE).write_bytes(garbage)
    meta = json.loads((saved / META_FILE).read_text())
    meta.update(weights_sha256=hashlib.sha256(garbage).hexdigest(), weights_bytes=len(garbage))
    (saved / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_checkpoint(saved)
    assert read_meta(saved).weights_bytes == 64


def test_checkpoint_error_is_value_error():
    assert issubclass(CheckpointError, ValueError)
