"""The shared-inference options of the loop config: defaults, and bad combinations refused with the
field named."""

import pytest

from alphazero.config.base import ConfigError
from alphazero.config.run import load_config
from alphazero.train.inference import server_clients


def test_per_actor_inference_is_the_default_everywhere():
    for preset in ("tiny-cpu", "9x9-cpu", "9x9-gpu", "19x19-cluster"):
        assert load_config(preset).loop.inference == "per_actor"


def test_actors_are_spread_over_the_servers_round_robin():
    loop = load_config("tiny-cpu", overrides=["loop.inference=shared", "loop.selfplay_actors=5",
                                              "loop.inference_servers=2"]).loop
    assert server_clients(loop) == [[0, 2, 4], [1, 3]]


def test_shared_gpu_preset_moves_the_gpu_to_the_server():
    loop = load_config("9x9-gpu", overrides=["loop.inference=shared", "loop.actor_gpus=0",
                                             "loop.inference_server_gpus=0.6"]).loop
    assert loop.inference_server_gpus + loop.learner_gpus == pytest.approx(1.0)


@pytest.mark.parametrize("overrides, message", [
    (["loop.inference=both"], "inference: must be one of"),
    (["loop.inference=shared", "loop.actor_gpus=0.1"], "actor_gpus must be 0"),
    (["loop.inference_servers=2"], "inference_servers must be in \\[1, selfplay_actors=1\\]"),
    (["loop.inference_batch=0"], "inference_batch must be in"),
    (["loop.inference_wait_ms=-1"], "inference_wait_ms must be in"),
    (["loop.inference_server_gpus=9"], "inference_server_gpus must be in"),
])
def test_bad_shared_inference_options_are_clear_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config("tiny-cpu", overrides=overrides)
