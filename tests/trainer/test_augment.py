"""Augmentation: planes and policy/ownership targets move together, checked with an equivariant net."""

import numpy as np
import torch

from alphazero.config.network import network_preset
from alphazero.model import PolicyValueNet, scalar_value
from go_engine import features, symmetry
from trainer.augment import augment, random_symmetries
from tests.networks import spread_network

torch.set_num_threads(2)
C = features.num_planes(2)


class SymmetrisedNet:
    """Averages a random net over the 8 symmetries: equivariant by construction."""

    def __init__(self) -> None:
        self.net = spread_network(C).eval()

    def __call__(self, planes: np.ndarray):
        n = planes.shape[-1]
        policy, ownership, value = 0.0, 0.0, 0.0
        with torch.no_grad():
            for s in range(8):
                out = self.net(torch.from_numpy(symmetry.transform_planes(planes, s)))
                inv = symmetry.inverse(s)
                policy = policy + symmetry.transform_policy(torch.softmax(out.policy_logits, 1).numpy(), inv, n)
                ownership = ownership + symmetry.transform_policy(torch.tanh(out.ownership_logits).numpy(), inv, n)
                value = value + scalar_value(out.value_logits).numpy()
        return policy / 8, ownership / 8, value / 8


def test_augmented_targets_match_net_on_augmented_inputs():
    net = SymmetrisedNet()
    n = 6
    planes = (np.random.default_rng(0).random((16, C, n, n)) < 0.3).astype(np.float32)
    policy, ownership, value = net(planes)  # targets a perfect net would be trained on
    syms = random_symmetries(16, np.random.default_rng(1))
    syms[:8] = np.arange(8)  # every symmetry at least once
    aug_planes, aug_policy, aug_ownership = augment(planes, policy, ownership, syms)
    got_policy, got_ownership, got_value = net(aug_planes)
    np.testing.assert_allclose(got_policy, aug_policy, atol=1e-5)
    np.testing.assert_allclose(got_ownership, aug_ownership, atol=1e-5)
    np.testing.assert_allclose(got_value, value, atol=1e-5)
    # Not vacuous: the targets really moved, and a mismatched transform would be caught.
    moved = syms != 0
    assert np.abs(aug_policy[moved] - policy[moved]).max() > 1e-3
    _, wrong_policy, _ = augment(planes, policy, ownership, (syms + 1) % 8)
    assert np.abs(got_policy - wrong_policy).max() > 1e-3


def test_pass_stays_last_and_inputs_untouched():
    n = 4
    planes = np.random.default_rng(2).random((8, C, n, n)).astype(np.float32)
    policy = np.random.default_rng(3).random((8, n * n + 1)).astype(np.float32)
    ownership = np.random.default_rng(4).random((8, n * n)).astype(np.float32)
    copies = planes.copy(), policy.copy(), ownership.copy()
    syms = np.arange(8, dtype=np.int8)
    out_planes, out_policy, out_ownership = augment(planes, policy, ownership, syms)
    np.testing.assert_array_equal(out_policy[:, -1], policy[:, -1])
    np.testing.assert_array_equal(out_planes[0], planes[0])  # symmetry 0 is the identity
    for original, now in zip(copies, (planes, policy, ownership)):
        np.testing.assert_array_equal(original, now)
    for i in range(8):
        back = symmetry.transform_planes(out_planes[i], symmetry.inverse(i))
        np.testing.assert_array_equal(back, planes[i])
        np.testing.assert_allclose(out_policy[i].sum(), policy[i].sum(), rtol=1e-6)
