"""ArenaConfig: documented fields, validation naming the field, schedule; the gating decisions it configures."""

from __future__ import annotations

import dataclasses

import pytest

from alphazero.arena.gate import gate
from alphazero.config.arena import ArenaConfig
from alphazero.config.base import ConfigError, field_docs


def test_every_field_is_documented():
    docs = field_docs(ArenaConfig)
    assert set(docs) == {f.name for f in dataclasses.fields(ArenaConfig)}
    assert all(len(text) > 10 for text in docs.values())


def test_round_trip_and_unknown_key():
    config = ArenaConfig(gating=True, anchor="gnugo:3")
    assert ArenaConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown config key"):
        ArenaConfig.from_dict({"gating_winrate": 0.6})


@pytest.mark.parametrize("field,value,message", [
    ("anchor", "gnugo:11", "anchor"),
    ("anchor", "alphago", "anchor"),
    ("gating_win_rate", 0.4, "gating_win_rate"),
    ("sprt_elo1", -5.0, "sprt_elo1"),
    ("sprt_alpha", 0.7, "sprt_alpha"),
    ("every_generations", -1, "every_generations"),
    ("games_vs_previous", 0, "games_vs_previous"),
    ("move_timeout_s", 0.0, "move_timeout_s"),
])
def test_bad_values_name_the_field(field, value, message):
    with pytest.raises(ConfigError, match=message):
        ArenaConfig(**{field: value})
    with pytest.raises(ConfigError, match=message):
        ArenaConfig.from_dict({field: value})
    with pytest.raises(ConfigError, match="gating_method"):
        ArenaConfig.from_dict({"gating_method": "vote"})


def test_schedule():
    assert [g for g in range(7) if ArenaConfig(every_generations=3).due(g)] == [0, 3, 6]
    assert not any(ArenaConfig(every_generations=0).due(g) for g in range(5))


def test_win_rate_gating_waits_for_all_games():
    config = ArenaConfig(gating=True, gating_method="win_rate", games_vs_previous=20, gating_win_rate=0.55)
    assert gate(config, 10, 0) == "continue"
    assert gate(config, 11, 9) == "accept"
    assert gate(config, 10, 9, 1) == "reject"  # 10.5 / 20 = 0.525


def test_sprt_gating_stops_early_and_falls_back_to_the_win_rate():
    config = ArenaConfig(gating=True, gating_method="sprt", games_vs_previous=400)
    assert gate(config, 5, 5) == "continue"
    assert gate(config, 150, 100) == "accept"
    assert gate(config, 100, 150) == "reject"
    capped = ArenaConfig(gating=True, gating_method="sprt", games_vs_previous=10)
    assert gate(capped, 6, 4) == "accept" and gate(capped, 5, 5) == "reject"
