"""The board-size curriculum's config: validation with clear errors, the stage schedule, the
per-stage rules, TOML / override round trips and ``alphazero config explain``."""

import json

import pytest

from alphazero.config.base import ConfigError
from alphazero.config.explain import explain
from alphazero.config.run import PRESETS, CurriculumConfig, CurriculumStage, RunConfig, load_config

TWO_STAGES = "curriculum.stages=[{board_size=7,komi=9.0,until_minutes=8},{board_size=9}]"


def curriculum(*stages, **kw) -> CurriculumConfig:
    return CurriculumConfig(stages=tuple(CurriculumStage(**s) for s in stages), **kw)


def test_override_builds_the_stages_and_their_rules():
    config = load_config("9x9-cpu", overrides=[TWO_STAGES])
    assert config.curriculum.enabled and len(config.curriculum.stages) == 2
    n, rules = config.stage_rules(0)
    assert (n, rules.komi) == (7, 9.0)
    n, rules = config.stage_rules(1)
    assert (n, rules) == (9, config.rules)  # komi unset: the run's rules
    assert config.curriculum.board_sizes(9) == (7, 9)
    assert PRESETS["7x7-cpu"].curriculum.board_sizes(7) == (7,)  # no curriculum: the run's size only
    assert PRESETS["7x7-cpu"].stage_rules(0) == (7, PRESETS["7x7-cpu"].rules)


def test_the_9x9_cpu_preset_starts_on_7x7():
    config = PRESETS["9x9-cpu"]
    assert [(s.board_size, s.komi, s.until_minutes) for s in config.curriculum.stages] == [(7, 9.0, 8.0), (9, None, 0.0)]
    assert config.stage_rules(0)[0] == 7 and config.stage_rules(1) == (9, config.rules)
    assert load_config("9x9-cpu", overrides=["curriculum.stages=[]"]).curriculum.board_sizes(9) == (9,)  # opt out


def test_round_trip_through_json_and_toml(tmp_path):
    config = load_config("9x9-cpu", overrides=[TWO_STAGES, "curriculum.replay=window"])
    again = RunConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    toml = tmp_path / "c.toml"
    toml.write_text('[curriculum]\nreplay = "window"\n\n[[curriculum.stages]]\nboard_size = 7\nkomi = 9.0\n'
                    'until_minutes = 8\n\n[[curriculum.stages]]\nboard_size = 9\n')
    assert load_config("9x9-cpu", file=toml) == config


def test_schedule_by_minutes_generations_and_games():
    c = curriculum(dict(board_size=5, until_generation=3), dict(board_size=7, until_minutes=10.0, until_games=500),
                   dict(board_size=9))
    assert c.stage_at(0.0, 0, 0) == 0
    assert c.stage_at(99.0, 2, 0) == 0  # stage 0 ends by generation only
    assert c.stage_at(0.0, 3, 0) == 1
    assert c.stage_at(9.9, 3, 499) == 1
    assert c.stage_at(10.0, 3, 0) == 2  # the first end reached: minutes
    assert c.stage_at(1.0, 3, 500) == 2  # or games
    assert c.stage_at(50.0, 100, 10_000) == 2  # the last stage lasts to the end
    # Never back: a resumed run whose clock reads less than at the switch stays where it was.
    assert c.stage_at(0.0, 0, 0, at_least=1) == 1
    assert c.stage_at(0.0, 0, 0, at_least=7) == 2
    assert CurriculumConfig().stage_at(100.0, 100, 100) == 0


@pytest.mark.parametrize("override, message", [
    ("curriculum.stages=[{board_size=7,until_minutes=8},{board_size=7}]", "the last stage plays board_size 7, but the run is for board_size 9"),
    ("curriculum.stages=[{board_size=21,until_minutes=8},{board_size=9}]", "curriculum.stages[0]: board_size: board size must be an integer in [2, 19], got 21"),
    ("curriculum.stages=[{board_size=1,until_minutes=8},{board_size=9}]", "board size must be an integer in [2, 19], got 1"),
    ("curriculum.stages=[{board_size=5,until_minutes=8},{board_size=7,until_minutes=4},{board_size=9}]",
     "stages out of order: stages[1].until_minutes = 4.0 must be greater than stages[0].until_minutes = 8.0"),
    ("curriculum.stages=[{board_size=5,until_games=80},{board_size=7,until_games=80},{board_size=9}]",
     "stages out of order: stages[1].until_games = 80 must be greater than stages[0].until_games = 80"),
    ("curriculum.stages=[{board_size=7},{board_size=9}]", "stages[0] (board_size 7) has no end"),
    ("curriculum.stages=[{board_size=7,until_minutes=3},{board_size=9,until_games=3}]", "stages[1] is the last stage"),
    ("curriculum.stages=[{board_size=7,until_minutes=-1},{board_size=9}]", "until_minutes must be >= 0"),
    ("curriculum.stages=[{board_size=7,until_minutes=3,komi=9.3},{board_size=9}]", "komi must be a finite multiple of 0.5"),
    ("curriculum.stages=[{board_size=7,until_minutes=3,size=7},{board_size=9}]", "unknown config key(s) in [curriculum.stages[0]]: size"),
    ("curriculum.replay=mixed", "curriculum.replay: must be one of ['current', 'window'], got 'mixed'"),
    ("curriculum.stages=7", "curriculum.stages: expected a list"),
])
def test_bad_curricula_are_clear_errors(override, message):
    with pytest.raises(ConfigError) as e:
        load_config("9x9-cpu", overrides=[override])
    assert message in str(e.value)


def test_explain_lists_the_stage_fields():
    text = explain(load_config("9x9-cpu", overrides=[TWO_STAGES]), RunConfig(), "title")
    assert "\ncurriculum.stages = [2 table(s)]   (default [0 table(s)])\n" in text
    assert "\ncurriculum.stages[0].board_size = 7\n" in text
    assert "\ncurriculum.stages[0].until_minutes = 8.0   (default 0.0)\n" in text
    assert "\ncurriculum.stages[1].board_size = 9   (default 7)\n" in text
    plain = explain(PRESETS["7x7-cpu"], RunConfig(), "title")
    assert "\ncurriculum.stages[].until_generation = 0\n" in plain  # what a stage takes, without stages
    assert "Board side of this stage's self-play games" in plain
