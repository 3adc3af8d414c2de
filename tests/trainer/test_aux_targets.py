"""KataGo's auxiliary policy targets: the opponent's reply as the replay buffer samples it (the next
record row's target under the input's symmetry, masked at a game's end and after fast searches),
the soft target, their loss terms, and that with the outputs off (or weighted 0) training is what
it was before they existed."""

import dataclasses

import numpy as np
import pytest
import torch

from alphazero.config.network import network_preset
from alphazero.config.trainer import ReplayConfig, TrainerConfig
from alphazero.model import PolicyValueNet, count_parameters
from go_engine import features, symmetry
from tests.records import synthetic_record
from trainer.learner import Learner, batch_to_tensors
from trainer.losses import compute_losses, soft_policy_target
from trainer.replay_buffer import Batch, ReplayBuffer

torch.set_num_threads(2)
N, HISTORY = 5, 2
C = features.num_planes(HISTORY)
A = N * N + 1
AUX = network_preset("tiny", aux_policy=True)


def replay_config(**kw) -> ReplayConfig:
    values = dict(max_size=10_000, window_base=10_000, window_alpha=0.0, window_beta=0.5, min_positions=1)
    values.update(kw)
    return ReplayConfig(**values)


def record(seed: int, positions: int, fast: tuple[int, ...] = ()):
    """A game whose rows all had a full search except those in ``fast`` (all-zero targets)."""
    rec = synthetic_record(np.random.default_rng(seed), N, HISTORY, positions, f"game-{seed}")
    full = np.ones(positions, bool)
    full[list(fast)] = False
    policy = rec.policy.copy()
    policy[~full] = 0.0
    return dataclasses.replace(rec, full_search=full, policy=policy).validate()


def source_rows(batch: Batch, planes: np.ndarray) -> np.ndarray:
    """``[B]`` the row of ``planes`` ([T, C, n, n], all games' rows in order) each sampled
    position came from, found by undoing its symmetry on the input planes."""
    rows = []
    for i in range(len(batch)):
        original = symmetry.transform_planes(batch.planes[i], symmetry.inverse(int(batch.symmetries[i])))
        hits = np.flatnonzero((planes == original).all(axis=(1, 2, 3)))
        assert len(hits) == 1, f"row {i}: {len(hits)} matches"
        rows.append(int(hits[0]))
    return np.array(rows)


@pytest.mark.parametrize("max_size", [10_000, 23])  # 23: the third game wraps around the ring
def test_opponent_target_is_the_next_rows_policy_under_the_inputs_symmetry(tmp_path, max_size):
    games = [record(1, 9, fast=(4,)), record(2, 8), record(3, 7, fast=(0, 3))]
    buf = ReplayBuffer(tmp_path, replay_config(max_size=max_size, window_base=max_size), N, HISTORY, opponent_policy=True)
    for g in games:
        assert buf.add(g)
    planes = np.concatenate([g.planes() for g in games])  # [24, C, n, n], every game's rows in order
    policy = np.concatenate([g.policy for g in games])
    full = np.concatenate([g.full_search for g in games])
    last = np.cumsum([g.num_positions for g in games]) - 1  # each game's last row
    for source in (buf, ReplayBuffer(tmp_path, replay_config(max_size=max_size, window_base=max_size), N, HISTORY, opponent_policy=True)):
        batch = source.sample(600, np.random.default_rng(7))
        assert batch.opponent_policy.shape == (600, A) and batch.opponent_policy.dtype == np.float32
        assert batch.opponent_valid.shape == (600,) and batch.opponent_valid.dtype == np.bool_
        assert set(batch.symmetries.tolist()) == set(range(8))
        rows = source_rows(batch, planes)
        assert rows.min() >= len(planes) - min(max_size, len(planes))  # a wrapped ring no longer holds the first row
        expect_valid = ~np.isin(rows, last) & full[np.minimum(rows + 1, len(full) - 1)]
        np.testing.assert_array_equal(batch.opponent_valid, expect_valid)
        assert np.isin(rows, last).any() and (~expect_valid & ~np.isin(rows, last)).any()  # both masks were drawn
        for i in range(600):
            sym = int(batch.symmetries[i])
            if expect_valid[i]:
                reply = policy[rows[i] + 1]
                np.testing.assert_array_equal(batch.opponent_policy[i], symmetry.transform_policy(reply, sym, N))
                if sym != 0:  # the targets are not symmetric: an untransformed reply would differ
                    assert not np.array_equal(batch.opponent_policy[i], reply)
            else:
                assert not batch.opponent_policy[i].any()


def test_batches_carry_no_opponent_target_unless_asked(tmp_path):
    buf = ReplayBuffer(tmp_path, replay_config(), N, HISTORY)
    buf.add(record(1, 9))
    batch = buf.sample(8, np.random.default_rng(0))
    assert batch.opponent_policy is None and batch.opponent_valid is None


def test_soft_target_is_the_target_to_the_power_one_over_t():
    rng = np.random.default_rng(0)
    p = rng.gamma(0.3, size=(6, A)).astype(np.float32) * (rng.random((6, A)) < 0.6)
    p /= p.sum(axis=1, keepdims=True)
    p[2] = 0.0  # a fast-search row
    soft = soft_policy_target(torch.from_numpy(p), 4.0).numpy()
    expected = p.astype(np.float64) ** 0.25
    expected[[0, 1, 3, 4, 5]] /= expected[[0, 1, 3, 4, 5]].sum(axis=1, keepdims=True)
    np.testing.assert_allclose(soft, expected, rtol=1e-5, atol=1e-7)
    assert not soft[2].any() and (soft[p == 0] == 0).all()
    assert soft[0].max() < p[0].max()  # flatter
    np.testing.assert_allclose(soft_policy_target(torch.from_numpy(p), 1.0).numpy(), p, rtol=1e-5, atol=1e-7)


def aux_batch(b: int = 16, n: int = N, seed: int = 0) -> Batch:
    """Dense random targets (some fast-search rows, some unsettled, some rows without a reply)."""
    rng = np.random.default_rng(seed)
    a = n * n + 1
    policy = rng.gamma(0.3, size=(b, a)).astype(np.float32)
    policy /= policy.sum(1, keepdims=True)
    reply = rng.gamma(0.3, size=(b, a)).astype(np.float32)
    reply /= reply.sum(1, keepdims=True)
    valid = np.arange(b) % 3 != 0
    reply[~valid] = 0.0
    wdl = np.zeros((b, 3), np.float32)
    wdl[np.arange(b), rng.integers(0, 3, b)] = 1
    return Batch(planes=(rng.random((b, C, n, n)) < 0.4).astype(np.float32), policy=policy, full_search=np.arange(b) % 4 != 0,
                 value_wdl=wdl, score=rng.uniform(-20, 20, b).astype(np.float32),
                 ownership=rng.choice([-1.0, 1.0], (b, n * n)).astype(np.float32),
                 symmetries=np.zeros(b, np.int8), settled=np.arange(b) % 5 != 0, opponent_policy=reply, opponent_valid=valid)


def perturbed_net(network=None, seed: int = 0) -> PolicyValueNet:
    torch.manual_seed(seed)
    net = PolicyValueNet(network or network_preset("tiny"), C)
    torch.manual_seed(seed + 1)  # the outputs' initialisation drew from the seed's stream last
    named = sorted(net.named_parameters(), key=lambda item: ".aux_" in item[0])  # and so are perturbed last
    with torch.no_grad():
        for _, p in named:
            p.add_(0.2 * torch.randn_like(p))
    return net.eval()


def losses(net: PolicyValueNet, batch: Batch, config: TrainerConfig) -> tuple[float, dict[str, float]]:
    planes, targets = batch_to_tensors(batch, torch.device("cpu"))
    with torch.no_grad():
        total, terms = compute_losses(net(planes), targets, config)
    return total.item(), {k: v.item() for k, v in terms.items()}


def test_without_the_outputs_the_network_and_its_losses_are_todays():
    """Numbers from the code before the auxiliary targets existed (commit 7d42ad7, same seed and batch)."""
    assert count_parameters(PolicyValueNet(network_preset("tiny"), C)) == 14695
    assert count_parameters(PolicyValueNet(network_preset("b6c64"), C)) == 490471
    batch = dataclasses.replace(aux_batch(), opponent_policy=None, opponent_valid=None)
    total, terms = losses(perturbed_net(), batch, TrainerConfig())
    assert set(terms) == {"policy", "value", "ownership", "score"}
    today = {"policy": 3.461186647415161, "value": 1.5196332931518555, "ownership": 1.746358036994934, "score": 2.0265250205993652}
    assert total == pytest.approx(5.955325126647949, rel=1e-6)
    assert terms == pytest.approx(today, rel=1e-6)


def test_outputs_weighted_zero_change_nothing_else():
    """Same seed: the auxiliary outputs are created last, so every other weight is the plain
    network's; weighted 0 they leave the total loss exactly as it is without them."""
    plain, aux = perturbed_net(), perturbed_net(AUX)
    assert count_parameters(aux) - count_parameters(plain) == 2 * (8 + 1) + 2 * (8 + 1)  # 1x1 conv and pass layer, 2 outputs each
    batch = aux_batch()
    x = torch.from_numpy(batch.planes)
    with torch.no_grad():
        a, b = plain(x), aux(x)
    for name in ("policy_logits", "value_logits", "ownership_logits", "score"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert a.opponent_policy_logits is None and b.opponent_policy_logits.shape == (16, A) and b.soft_policy_logits.shape == (16, A)
    total_plain, terms_plain = losses(plain, batch, TrainerConfig())
    total_aux, terms_aux = losses(aux, batch, TrainerConfig())
    assert total_aux == total_plain
    assert {k: terms_aux[k] for k in terms_plain} == terms_plain
    assert terms_aux["opponent_policy"] > 0 and terms_aux["soft_policy"] > 0
    weighted = TrainerConfig(opponent_policy_weight=0.15, soft_policy_weight=8.0)
    total_weighted, _ = losses(aux, batch, weighted)
    assert total_weighted == pytest.approx(total_plain + 0.15 * terms_aux["opponent_policy"] + 8.0 * terms_aux["soft_policy"], rel=1e-6)


def test_aux_terms_count_only_their_rows():
    net, batch = perturbed_net(AUX), aux_batch()
    config = TrainerConfig()
    base = losses(net, batch, config)[1]
    reply, policy = batch.opponent_policy.copy(), batch.policy.copy()
    reply[~batch.opponent_valid] = np.roll(batch.policy[~batch.opponent_valid], 2, axis=1)  # garbage where masked
    policy[~batch.full_search] = np.roll(policy[~batch.full_search], 5, axis=1)
    masked = losses(net, dataclasses.replace(batch, opponent_policy=reply, policy=policy), config)[1]
    assert masked["opponent_policy"] == base["opponent_policy"] and masked["soft_policy"] == base["soft_policy"]
    reply[batch.opponent_valid] = np.roll(reply[batch.opponent_valid], 1, axis=1)
    policy[batch.full_search] = np.roll(policy[batch.full_search], 1, axis=1)
    changed = losses(net, dataclasses.replace(batch, opponent_policy=reply, policy=policy), config)[1]
    assert changed["opponent_policy"] != base["opponent_policy"] and changed["soft_policy"] != base["soft_policy"]
    # The soft term's target is the soft target of the policy: its value is that cross-entropy.
    x = torch.from_numpy(batch.planes)
    with torch.no_grad():
        logp = torch.log_softmax(net(x).soft_policy_logits, dim=1)
    soft = soft_policy_target(torch.from_numpy(batch.policy), 4.0)
    expected = -(soft * logp).sum(1)[torch.from_numpy(batch.full_search)].mean().item()
    assert base["soft_policy"] == pytest.approx(expected, rel=1e-6)


def learner(network, seed: int = 0, **kw) -> Learner:
    torch.manual_seed(seed)
    values = dict(batch_size=16, optimizer="adamw", lr=0.01, warmup_steps=0, weight_decay=0.0, ema_decay=0.9)
    values.update(kw)
    return Learner(PolicyValueNet(network, C), TrainerConfig(**values))


def test_training_lowers_the_aux_losses_and_reports_them():
    batch = aux_batch()
    learn = learner(AUX, opponent_policy_weight=0.15, soft_policy_weight=8.0)
    first = learn.train_step(batch)
    for _ in range(60):
        metrics = learn.train_step(batch)
    # A cross-entropy's floor is its target's entropy: the excess over it (a KL divergence) halves.
    def entropy(p: np.ndarray, rows: np.ndarray) -> float:
        return float(-(p * np.log(np.maximum(p, 1e-30))).sum(axis=1)[rows].mean())

    floors = {"loss/opponent_policy": entropy(batch.opponent_policy, batch.opponent_valid),
              "loss/soft_policy": entropy(soft_policy_target(torch.from_numpy(batch.policy), 4.0).numpy(), batch.full_search)}
    for key, floor in floors.items():
        assert np.isfinite(first[key]) and metrics[key] - floor < 0.5 * (first[key] - floor), (key, floor, first[key], metrics[key])


def test_training_with_the_outputs_weighted_zero_is_training_without_them():
    """Step for step the same losses as a network without the outputs (same seed, same batches), to
    float rounding: the global gradient norm also sums the extra outputs' zero gradients, in another
    order, and came out one ulp apart on a CI run; any real pull of the outputs on the shared trunk
    moves these numbers by far more than 1e-6. The unweighted outputs' weights stay as initialised."""
    plain, aux = learner(network_preset("tiny")), learner(AUX)
    start = {k: v.clone() for k, v in aux.model.state_dict().items() if "aux_" in k}
    batch = aux_batch()
    plain_batch = dataclasses.replace(batch, opponent_policy=None, opponent_valid=None)
    for _ in range(5):
        a, b = plain.train_step(plain_batch), aux.train_step(batch)
        for key in ("loss/total", "loss/policy", "loss/value", "loss/ownership", "loss/score", "grad_norm"):
            assert a[key] == pytest.approx(b[key], rel=1e-6, abs=1e-9), key
    assert "loss/opponent_policy" not in a and "loss/opponent_policy" in b
    for k, v in start.items():
        assert torch.equal(aux.model.state_dict()[k], v), k


def test_weights_without_the_outputs_and_outputs_without_targets_are_refused():
    with pytest.raises(ValueError, match="aux_policy"):
        learner(network_preset("tiny"), soft_policy_weight=8.0)
    batch = dataclasses.replace(aux_batch(), opponent_policy=None, opponent_valid=None)
    with pytest.raises(ValueError, match="opponent_policy"):
        learner(AUX).train_step(batch)
