"""NetworkEvaluator: the search's contract (shapes, dtypes, masking, value range), batching."""

import numpy as np
import pytest
import torch

from alphazero.config.network import network_preset
from alphazero.evaluator import ILLEGAL_LOGIT, NetworkEvaluator
from alphazero.model import PolicyValueNet
from go_engine import features
from tests.networks import random_inputs, spread_network

torch.set_num_threads(2)
C = features.num_planes(2)


def evaluator(max_batch: int = 1024, precision: str = "float32") -> NetworkEvaluator:
    return NetworkEvaluator(spread_network(C), precision=precision, max_batch=max_batch)


def inputs(b: int, n: int, seed: int = 0):
    return random_inputs(b, C, n, seed, legal_share=0.5)


@pytest.mark.parametrize("n", [2, 9, 19])
def test_contract(n):
    planes, legal = inputs(6, n)
    logits, value, aux = evaluator()(planes, legal)
    assert logits.shape == (6, n * n + 1) and logits.dtype == np.float32
    assert value.shape == (6,) and value.dtype == np.float32
    assert aux["ownership"].shape == (6, n * n) and aux["ownership"].dtype == np.float32
    assert aux["score"].shape == (6,) and aux["score"].dtype == np.float32
    assert (logits[~legal] == np.float32(ILLEGAL_LOGIT)).all()
    assert (logits[legal] > -1e4).all()
    assert np.isfinite(logits).all()
    assert ((value >= -1) & (value <= 1)).all()
    assert ((aux["ownership"] >= -1) & (aux["ownership"] <= 1)).all()
    probs = np.exp(logits - logits.max(1, keepdims=True))
    assert (probs[~legal] == 0).all()


def test_rows_do_not_interfere_and_chunking_is_transparent():
    planes, legal = inputs(9, 9, seed=1)
    whole = evaluator()(planes, legal)
    chunked = evaluator(max_batch=4)(planes, legal)
    single = [evaluator()(planes[i : i + 1], legal[i : i + 1]) for i in range(9)]
    np.testing.assert_allclose(chunked[0], whole[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.concatenate([s[0] for s in single]), whole[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.concatenate([s[1] for s in single]), whole[1], rtol=1e-5, atol=1e-5)


def test_bfloat16_is_close_to_float32():
    planes, legal = inputs(8, 9, seed=2)
    full = evaluator()(planes, legal)
    half = evaluator(precision="bfloat16")(planes, legal)
    assert half[0].dtype == np.float32
    np.testing.assert_allclose(half[1], full[1], atol=0.1)
    assert (half[0][~legal] == np.float32(ILLEGAL_LOGIT)).all()


def test_bad_inputs_refused():
    ev = evaluator()
    planes, legal = inputs(2, 9)
    with pytest.raises(ValueError, match="planes must be"):
        ev(planes[:, :-1], legal)
    with pytest.raises(ValueError, match="legal must be"):
        ev(planes, legal[:, :-1])
    with pytest.raises(ValueError, match="float16 inference needs CUDA"):
        evaluator(precision="float16")
    empty = ev(planes[:0], legal[:0])
    assert empty[0].shape == (0, 82)


def test_new_weights_change_outputs():
    planes, legal = inputs(3, 9)
    ev = evaluator()
    before = ev(planes, legal)[0]
    other = PolicyValueNet(network_preset("tiny"), C).state_dict()
    ev.load_state_dict(other)
    assert not np.allclose(before, ev(planes, legal)[0])
