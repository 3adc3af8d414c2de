"""Learner: overfits one batch, weights the policy loss by full_search, EMA, exact resume, schedules."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from alphazero.config.network import network_preset
from alphazero.config.trainer import TrainerConfig
from alphazero.model import PolicyValueNet
from go_engine import features
from trainer.learner import Learner, batch_to_tensors
from trainer.losses import compute_losses
from trainer.replay_buffer import Batch

torch.set_num_threads(2)
HISTORY = 2
C = features.num_planes(HISTORY)


def fixed_batch(b: int = 16, n: int = 5, seed: int = 0) -> Batch:
    """Targets a net can fit exactly: one-hot policy and results, ownership in {-1, +1}."""
    rng = np.random.default_rng(seed)
    a = n * n + 1
    policy = np.zeros((b, a), np.float32)
    policy[np.arange(b), rng.integers(0, a, b)] = 1.0
    wdl = np.zeros((b, 3), np.float32)
    wdl[np.arange(b), rng.integers(0, 3, b)] = 1.0
    return Batch(
        planes=(rng.random((b, C, n, n)) < 0.4).astype(np.float32),
        policy=policy,
        full_search=np.ones(b, bool),
        value_wdl=wdl,
        score=rng.uniform(-20, 20, b).astype(np.float32),
        ownership=rng.choice([-1.0, 1.0], (b, n * n)).astype(np.float32),
        symmetries=np.zeros(b, np.int8),
        settled=np.ones(b, bool),
    )


def learner(seed: int = 0, **kw) -> Learner:
    torch.manual_seed(seed)
    values = dict(batch_size=32, optimizer="adamw", lr=0.01, warmup_steps=0, weight_decay=0.0, ema_decay=0.9)
    values.update(kw)
    return Learner(PolicyValueNet(network_preset("tiny"), C), TrainerConfig(**values))


def test_overfits_one_batch():
    """About 250 steps of ~8 ms each on 2 idle cores (a few seconds)."""
    batch = fixed_batch()
    learn = learner(score_weight=1.0)
    first = learn.train_step(batch)
    for _ in range(250):
        metrics = learn.train_step(batch)
    assert first["loss/total"] > 3.0
    assert metrics["loss/policy"] < 0.05 and metrics["loss/value"] < 0.05
    assert metrics["loss/ownership"] < 0.05 and metrics["loss/score"] < 0.05
    assert metrics["policy_top1"] == 1.0


def test_metrics_cover_every_term():
    metrics = learner().train_step(fixed_batch())
    for key in ("loss/policy", "loss/value", "loss/ownership", "loss/score", "loss/l2", "loss/total", "policy_top1",
                "policy_entropy", "value_mean_pred", "value_mean_target", "value_brier", "grad_norm", "lr", "samples_per_s"):
        assert key in metrics and np.isfinite(metrics[key]), key
    assert 0.0 <= metrics["policy_top1"] <= 1.0


def test_policy_loss_ignores_fast_search_rows():
    net = PolicyValueNet(network_preset("tiny"), C).eval()
    batch = fixed_batch()
    mask = np.arange(16) % 2 == 0
    config = TrainerConfig()

    def policy_loss(policy):
        b = Batch(batch.planes, policy, mask, batch.value_wdl, batch.score, batch.ownership, batch.symmetries, batch.settled)
        planes, targets = batch_to_tensors(b, torch.device("cpu"))
        with torch.no_grad():
            return compute_losses(net(planes), targets, config)[1]["policy"].item()

    changed = batch.policy.copy()
    changed[~mask] = np.roll(changed[~mask], 3, axis=1)
    assert policy_loss(changed) == policy_loss(batch.policy)
    changed[mask] = np.roll(changed[mask], 3, axis=1)
    assert policy_loss(changed) != policy_loss(batch.policy)



def test_score_and_ownership_losses_ignore_resigned_games():
    """A resigned game's final area count is not its result: rows that are not settled add
    nothing to the score and ownership terms (not even a NaN), and a batch of them only gives 0."""
    net = PolicyValueNet(network_preset("tiny"), C).eval()
    batch = fixed_batch()
    settled = np.arange(16) % 3 != 0
    config = TrainerConfig()

    def aux_losses(score, ownership, settled_rows):
        b = Batch(batch.planes, batch.policy, batch.full_search, batch.value_wdl, score, ownership, batch.symmetries, settled_rows)
        planes, targets = batch_to_tensors(b, torch.device("cpu"))
        with torch.no_grad():
            terms = compute_losses(net(planes), targets, config)[1]
        return terms["score"].item(), terms["ownership"].item()

    base = aux_losses(batch.score, batch.ownership, settled)
    score, ownership = batch.score.copy(), batch.ownership.copy()
    score[~settled] = np.nan
    ownership[~settled] = -ownership[~settled]
    assert aux_losses(score, ownership, settled) == base
    score[settled] += 5.0
    ownership[settled] = -ownership[settled]
    changed = aux_losses(score, ownership, settled)
    assert changed[0] != base[0] and changed[1] != base[1]
    assert aux_losses(batch.score, batch.ownership, np.zeros(16, bool)) == (0.0, 0.0)


def test_ema_is_published_and_lags_the_live_weights():
    learn = learner(ema_decay=0.99)
    initial = {k: v.clone() for k, v in learn.publish_state_dict().items()}
    for _ in range(20):
        learn.train_step(fixed_batch())
    published = learn.publish_state_dict()
    live = learn.model.state_dict()
    weight = "stem_conv.weight"
    assert not torch.equal(published[weight], initial[weight])
    assert not torch.equal(published[weight], live[weight])
    assert torch.equal(published["stem_bn.running_mean"], live["stem_bn.running_mean"])
    # Between the initial and live weights: closer to live than the start is.
    assert (published[weight] - live[weight]).norm() < (initial[weight] - live[weight]).norm()


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_resume_without_pickle_is_exact(optimizer):
    a = learner(optimizer=optimizer, weight_decay=1e-3)
    for seed in range(3):
        a.train_step(fixed_batch(seed=seed))
    tensors, info = a.training_state()
    blob, text = st_save({k: v.contiguous() for k, v in tensors.items()}), json.dumps(info)
    b = learner(seed=99, optimizer=optimizer, weight_decay=1e-3)
    b.load_training_state(st_load(blob), json.loads(text))
    assert b.step == 3 and b.samples_seen == 48
    ma, mb = a.train_step(fixed_batch(seed=5)), b.train_step(fixed_batch(seed=5))
    assert ma["loss/total"] == mb["loss/total"]
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k]), k
    for k, v in a.publish_state_dict().items():
        assert torch.equal(v, b.publish_state_dict()[k]), k


def test_non_finite_gradient_step_is_skipped():
    learn = learner()
    batch = fixed_batch()
    bad = Batch(batch.planes, batch.policy, batch.full_search, batch.value_wdl, batch.score * np.nan, batch.ownership, batch.symmetries, batch.settled)
    before = {k: v.clone() for k, v in learn.model.state_dict().items() if "weight" in k}
    metrics = learn.train_step(bad)
    assert metrics["skipped_steps"] == 1.0 and learn.step == 0
    for k, v in before.items():
        assert torch.equal(v, learn.model.state_dict()[k]), k


def test_warmup_sets_learning_rate():
    learn = learner(warmup_steps=10, warmup_start_factor=0.1, lr=0.01)
    lrs = [learn.train_step(fixed_batch())["lr"] for _ in range(3)]
    assert lrs == pytest.approx([0.001, 0.0019, 0.0028])
    assert learn.optimizer.param_groups[0]["lr"] == pytest.approx(0.0028)
