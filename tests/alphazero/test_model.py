"""PolicyValueNet: shapes on every board size, head ranges, and equivariance of a symmetrised net."""

import numpy as np
import pytest
import torch

from alphazero.config.network import network_preset
from alphazero.model import PolicyValueNet, scalar_value
from go_engine import features, symmetry
from tests.networks import spread_network

torch.set_num_threads(2)
HISTORY = 2
C = features.num_planes(HISTORY)


def make_net(seed: int = 0) -> PolicyValueNet:
    # Non-trivial weights everywhere (zero-initialised residual branches would hide the tower).
    return spread_network(C, seed=seed).eval()


@pytest.mark.parametrize("n", [2, 3, 9, 13, 19])
def test_output_shapes_on_every_board_size(n):
    net = make_net()
    x = torch.from_numpy((np.random.default_rng(n).random((4, C, n, n)) < 0.3).astype(np.float32))
    with torch.no_grad():
        out = net(x)
    assert out.policy_logits.shape == (4, n * n + 1)
    assert out.value_logits.shape == (4, 3)
    assert out.ownership_logits.shape == (4, n * n)
    assert out.score.shape == (4,)
    value = scalar_value(out.value_logits)
    assert bool(((value >= -1) & (value <= 1)).all())
    # Rows must not be identical: the net actually reads the input.
    assert not torch.allclose(out.policy_logits[0], out.policy_logits[1])


def test_pass_logit_reacts_to_pooled_features():
    net = make_net()
    x = torch.zeros(2, C, 9, 9)
    x[1, 0] = 1.0  # a board full of own stones
    with torch.no_grad():
        out = net(x)
    assert out.policy_logits[0, -1] != out.policy_logits[1, -1]


def symmetrised(net: PolicyValueNet, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Average of sym^-1(net(sym(x))) over the 8 symmetries: equivariant by construction."""
    n = planes.shape[-1]
    policy, ownership, value = 0.0, 0.0, 0.0
    with torch.no_grad():
        for s in range(symmetry.NUM_SYMMETRIES):
            out = net(torch.from_numpy(symmetry.transform_planes(planes, s)))
            inv = symmetry.inverse(s)
            policy = policy + symmetry.transform_policy(out.policy_logits.numpy(), inv, n)
            ownership = ownership + symmetry.transform_policy(torch.tanh(out.ownership_logits).numpy(), inv, n)
            value = value + scalar_value(out.value_logits).numpy()
    return policy / 8, ownership / 8, value / 8


def test_symmetrised_net_is_equivariant_and_raw_net_is_not():
    net = make_net(1)
    n = 7
    planes = (np.random.default_rng(3).random((2, C, n, n)) < 0.3).astype(np.float32)
    p0, o0, v0 = symmetrised(net, planes)
    with torch.no_grad():
        raw = net(torch.from_numpy(planes)).policy_logits.numpy()
    for s in range(1, 8):
        p1, o1, v1 = symmetrised(net, symmetry.transform_planes(planes, s))
        np.testing.assert_allclose(p1, symmetry.transform_policy(p0, s, n), atol=1e-4)
        np.testing.assert_allclose(o1, symmetry.transform_policy(o0, s, n), atol=1e-4)
        np.testing.assert_allclose(v1, v0, atol=1e-5)
        with torch.no_grad():
            raw_t = net(torch.from_numpy(symmetry.transform_planes(planes, s))).policy_logits.numpy()
        # The raw net is not equivariant, so the check above is not vacuous.
        assert np.abs(raw_t - symmetry.transform_policy(raw, s, n)).max() > 1e-3
