"""Rules presets by KataGo's names and their spellings; the new fields' defaults keep old files loading as before."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from go_engine.rules import (
    PRESETS,
    HandicapBonus,
    KoRule,
    Rules,
    ScoringRule,
    SuicideRule,
    TaxRule,
    handicap_bonus_points,
    parse_rules_name,
    preset,
)


@pytest.mark.parametrize(
    "name, ko, scoring, tax, suicide, bonus, komi",
    [
        ("japanese", KoRule.SIMPLE, ScoringRule.TERRITORY, TaxRule.SEKI, SuicideRule.FORBIDDEN, HandicapBonus.ZERO, 6.5),
        ("korean", KoRule.SIMPLE, ScoringRule.TERRITORY, TaxRule.SEKI, SuicideRule.FORBIDDEN, HandicapBonus.ZERO, 6.5),
        ("aga", KoRule.SITUATIONAL, ScoringRule.AREA, TaxRule.NONE, SuicideRule.FORBIDDEN, HandicapBonus.N_MINUS_1, 7.5),
        ("chinese", KoRule.POSITIONAL, ScoringRule.AREA, TaxRule.NONE, SuicideRule.FORBIDDEN, HandicapBonus.N, 7.5),
        ("new-zealand", KoRule.SITUATIONAL, ScoringRule.AREA, TaxRule.NONE, SuicideRule.ALLOWED, HandicapBonus.ZERO, 7.0),
        ("tromp-taylor", KoRule.POSITIONAL, ScoringRule.AREA, TaxRule.NONE, SuicideRule.ALLOWED, HandicapBonus.ZERO, 7.5),
        ("stone-scoring", KoRule.SIMPLE, ScoringRule.AREA, TaxRule.ALL, SuicideRule.FORBIDDEN, HandicapBonus.ZERO, 7.5),
    ],
)
def test_presets_match_katago(name, ko, scoring, tax, suicide, bonus, komi):
    r = preset(name)
    assert (r.ko, r.scoring, r.tax, r.suicide, r.white_handicap_bonus, r.komi) == (ko, scoring, tax, suicide, bonus, komi)
    assert r.name() in (name, "japanese")  # korean's rules are japanese's


@pytest.mark.parametrize(
    "spelling, name",
    [("Japanese", "japanese"), ("JP", "japanese"), ("japan", "japanese"), ("Korean", "korean"), ("kr", "korean"),
     ("cn", "chinese"), ("Chinese", "chinese"), ("chinese_ogs", "chinese"), ("AGA", "aga"), ("bga", "aga"),
     ("New Zealand", "new-zealand"), ("new_zealand", "new-zealand"), ("NZ", "new-zealand"), ("Tromp Taylor", "tromp-taylor"),
     ("tt", "tromp-taylor"), ("stone_scoring", "stone-scoring"), (" ancient area ", "stone-scoring")],
)
def test_common_spellings(spelling, name):
    assert parse_rules_name(spelling) == name
    assert preset(spelling) == PRESETS[name]


def test_unknown_name_lists_the_presets():
    with pytest.raises(ValueError, match="unknown rules 'ing'.*japanese"):
        preset("ing")
    with pytest.raises(ValueError, match="must be text"):
        parse_rules_name(3)


def test_field_names_and_bad_values():
    r = Rules(scoring="territory", tax="seki", white_handicap_bonus="n-1")
    assert (r.scoring, r.tax, r.white_handicap_bonus) == (ScoringRule.TERRITORY, TaxRule.SEKI, HandicapBonus.N_MINUS_1)
    with pytest.raises(ValueError, match="unknown scoring rule 'stones'"):
        Rules(scoring="stones")
    with pytest.raises(ValueError, match="tax must be one of"):
        Rules(tax=7)
    with pytest.raises(ValueError, match="white_handicap_bonus must be one of"):
        Rules(white_handicap_bonus=True)


def test_dict_round_trip_and_old_files_load_with_todays_defaults():
    for r in PRESETS.values():
        assert Rules.from_dict(r.to_dict()) == r
    old = {"ko": "positional", "suicide": "forbidden", "komi": 7.5, "max_moves": None}  # before the new fields
    r = Rules.from_dict(old)
    assert (r.scoring, r.tax, r.white_handicap_bonus) == (ScoringRule.AREA, TaxRule.NONE, HandicapBonus.ZERO)
    assert Rules.from_dict("Japanese") == PRESETS["japanese"]
    with pytest.raises(ValueError, match="unknown rules keys"):
        Rules.from_dict({**old, "button": True})
    with pytest.raises(ValueError, match="a table or a preset name"):
        Rules.from_dict(3)


@njit(cache=True)
def _territory_kernel(scoring: int, tax: int) -> int:
    return 10 * scoring + tax


def test_enums_are_plain_integers_in_kernels():
    r = preset("japanese")
    assert _territory_kernel(int(r.scoring), int(r.tax)) == 11
    assert isinstance(int(r.white_handicap_bonus), int) and np.int64(r.tax) == 1


def test_handicap_bonus_points():
    assert [handicap_bonus_points(HandicapBonus.N, h) for h in (0, 1, 2, 9)] == [0, 0, 2, 9]
    assert [handicap_bonus_points(HandicapBonus.N_MINUS_1, h) for h in (0, 1, 2, 9)] == [0, 0, 1, 8]
    assert handicap_bonus_points(HandicapBonus.ZERO, 9) == 0


def test_run_config_takes_a_preset_name_and_old_rules_tables():
    from alphazero.config.base import ConfigError
    from alphazero.config.run import RunConfig, load_config

    config = load_config("9x9-cpu", overrides=["rules=AGA"])
    assert config.rules == PRESETS["aga"]
    assert RunConfig.from_dict(config.to_dict()).rules == PRESETS["aga"]
    data = load_config("9x9-cpu").to_dict()
    data["rules"] = {"ko": "positional", "suicide": "forbidden", "komi": 7.5, "max_moves": None}
    assert RunConfig.from_dict(data).rules == Rules(ko=KoRule.POSITIONAL, komi=7.5)
    # Self-play counts by the rules (go_engine.scoring.count_row): territory presets train too.
    assert load_config("9x9-cpu", overrides=["rules=Japanese"]).rules == PRESETS["japanese"]
    assert load_config("9x9-cpu", overrides=["rules.scoring=territory"]).rules.is_territory
    mixed = load_config("9x9-cpu", overrides=['selfplay.rules_mix=["japanese:1", "chinese:2"]'])
    assert mixed.selfplay.rules_weights() == (("japanese", 1.0), ("chinese", 2.0))
    assert RunConfig.from_dict(mixed.to_dict()) == mixed
    with pytest.raises(ConfigError, match="rules_mix"):
        load_config("9x9-cpu", overrides=['selfplay.rules_mix=["japanese:-1"]'])


def test_cli_rules_argument():
    import argparse

    from alphazero.gtp_cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--rules", "Japanese"]).rules == "japanese"
    with pytest.raises(SystemExit):
        parser.parse_args(["--rules", "ing"])
