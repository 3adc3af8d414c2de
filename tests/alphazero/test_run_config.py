"""The run's config: one min_positions (an old config.json's loop.min_positions still loads), the
saved config.json is the config that runs (limits applied first), and ``alphazero config explain``
lists every field with its docstring and default."""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys

import pytest

from alphazero.config.base import ConfigError
from alphazero.config.explain import _table_type, explain, fields
from alphazero.config.run import PRESETS, LoopConfig, RunConfig
from alphazero.train.loop import prepare_run_dir
from alphazero.train.run_dir import RunDir


def leaf_fields(cls, prefix=""):
    out = []
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            out += leaf_fields(type(default), prefix + f.name + ".")
        elif _table_type(cls, f.name) is not None:  # a list of tables: the list, then a table's fields
            out.append(prefix + f.name)
            out += leaf_fields(_table_type(cls, f.name), prefix + f.name + "[].")
        else:
            out.append(prefix + f.name)
    return out


def test_explain_lists_every_field_with_its_docstring_and_default():
    rows = fields(PRESETS["tiny-cpu"], RunConfig())
    assert [key for key, *_ in rows] == leaf_fields(RunConfig)
    assert all(len(doc) > 10 for *_, doc in rows), [key for key, *_, doc in rows if len(doc) <= 10]
    text = explain(PRESETS["tiny-cpu"], RunConfig(), "title")
    assert "\nsearch.simulations = 8   (default 200)\n" in text  # the preset's value, and the default
    assert "\nloop.seed = 0\n" in text  # equal to the default: no note
    assert "\n    Board side (2..19).\n" in text


def test_config_explain_command(tmp_path):
    out = subprocess.run([sys.executable, "-m", "alphazero.cli", "config", "explain", "--preset", "tiny-cpu"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "search.simulations = 8   (default 200)" in out.stdout and "replay.min_positions = 100" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "alphazero.cli", "config", "explain", "--preset", "nope"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown preset 'nope'" in bad.stderr


def test_one_min_positions_and_old_configs_still_load(caplog):
    assert "min_positions" not in {f.name for f in dataclasses.fields(LoopConfig)}
    saved = PRESETS["tiny-cpu"].to_dict()
    saved["loop"]["min_positions"] = 300  # written by a version that had both thresholds
    with caplog.at_level(logging.WARNING):
        config = RunConfig.from_dict(saved)
    assert config.replay.min_positions == 300  # the learner waited for the larger one, and still does
    assert "loop.min_positions is no longer a field" in caplog.text
    saved["loop"]["min_positions"] = 5
    assert RunConfig.from_dict(saved).replay.min_positions == 100
    with pytest.raises(ConfigError, match="loop.min_positions"):
        PRESETS["tiny-cpu"].with_overrides(["loop.min_positions=5"])


def test_saved_config_is_the_config_that_runs(tmp_path):
    run = RunDir(tmp_path / "run")
    config = prepare_run_dir(run, PRESETS["tiny-cpu"], resume=False, max_generations=7, time_limit_minutes=1.5)
    saved = json.loads(run.config_path.read_text())
    assert config.loop.max_generations == 7 and saved["loop"]["max_generations"] == 7
    assert saved["loop"]["time_limit_minutes"] == 1.5 and RunConfig.from_dict(saved) == config
    resumed = prepare_run_dir(run, None, resume=True)
    assert resumed == config
    longer = prepare_run_dir(run, None, resume=True, max_generations=9)
    assert longer.loop.max_generations == 9 and longer.loop.time_limit_minutes == 1.5
    assert RunConfig.from_dict(json.loads(run.config_path.read_text())) == longer


def test_one_move_cap():
    from alphazero.arena.match import GameSettings
    from alphazero.game_record import max_positions
    from go_engine import board
    from go_engine.rules import Rules

    assert board.default_capacity(9) == 4 * 81 == board.move_cap(Rules(), 9)
    assert GameSettings(9).move_cap == board.move_cap(Rules(), 9)  # the arena's default is the engine's
    assert GameSettings(9, Rules(max_moves=50)).move_cap == 50 and GameSettings(9, max_moves=20).move_cap == 20
    assert max_positions(9) == 2 * board.default_capacity(9) + 1
