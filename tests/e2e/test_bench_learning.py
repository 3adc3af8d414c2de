"""``alphazero bench learning``: two tiny configs trained for seconds each, their checkpoints at
wall-clock marks played against an anchor; the table, JSON and PNG; a re-run resumes."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from alphazero.config.base import ConfigError
from alphazero.train.metrics import read_metrics

ROOT = Path(__file__).resolve().parents[2]
BENCH = [sys.executable, "-m", "alphazero.cli", "bench", "learning"]


def load_tool():
    spec = importlib.util.spec_from_file_location("bench_learning", ROOT / "scripts" / "bench" / "bench_learning.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tool = load_tool()


def test_config_specs_parse_presets_files_and_overrides():
    c = tool.CurveConfig.parse("base=9x9-cpu")
    assert (c.label, c.preset, c.file, c.overrides) == ("base", "9x9-cpu", None, ())
    c = tool.CurveConfig.parse("big=9x9-cpu search.simulations=32 'loop.selfplay_actors=2'")
    assert c.overrides == ("search.simulations=32", "loop.selfplay_actors=2")
    assert c.resolve().search.simulations == 32
    c = tool.CurveConfig.parse("f=7x7-cpu+my.toml")
    assert (c.preset, c.file) == ("7x7-cpu", "my.toml")
    assert tool.CurveConfig.parse("g=run.toml").file == "run.toml"
    for bad in ["9x9-cpu", "a b=9x9-cpu", "x=", "x=9x9-cpu search.simulations"]:
        with pytest.raises(ConfigError, match="--config"):
            tool.CurveConfig.parse(bad)
    with pytest.raises(ConfigError, match="simulations"):
        tool.CurveConfig.parse("x=9x9-cpu search.simulations=0").resolve()


def test_anchor_specs_need_a_fixed_opponent_and_a_budget():
    a = tool.Anchor.parse("gnugo:1@16")
    assert (a.spec, a.visits, a.key) == ("gnugo:1", 16, "gnugo_1-at16")
    assert tool.Anchor.parse("random@200").visits == 200
    for bad in ["gnugo:1", "gnugo:1@0", "gnugo:1@x", "mcts:no/such/run@16", "gnugo:11@16"]:
        with pytest.raises(ConfigError, match="--match"):
            tool.Anchor.parse(bad)


def test_a_fixed_checkpoint_is_an_anchor(tmp_path):
    from tests.alphazero import tiny_checkpoint

    ckpt = tiny_checkpoint.make_checkpoint(tmp_path / "models" / "000034", generation=34)
    a = tool.Anchor.parse(f"mcts:{ckpt}@16@32")
    assert (a.spec, a.visits) == (f"mcts:{ckpt}@16", 32)
    assert tool.Anchor.parse(f"raw:{ckpt}@16").spec == f"raw:{ckpt}"
    (ckpt / "model.json").write_text("{not json")
    with pytest.raises(ConfigError, match="--match"):
        tool.Anchor.parse(f"mcts:{ckpt}@16")


def test_marks_default_to_every_ten_minutes_and_the_end():
    assert tool.marks_from(None, 60) == [10, 20, 30, 40, 50, 60]
    assert tool.marks_from(None, 25) == [10, 20, 25]
    assert tool.marks_from(None, 5) == [5]
    assert tool.marks_from("30, 10,20", 30) == [10, 20, 30]
    for bad in ["0,10", "10,40", "ten"]:
        with pytest.raises(ConfigError, match="--marks"):
            tool.marks_from(bad, 30)


def test_a_mark_takes_the_newest_generation_published_by_then():
    gens = [{"generation": g, "elapsed_s": 30.0 * g, "games": 10 * g, "positions": 100 * g} for g in range(1, 6)]
    assert tool.generation_at(gens, 0.4)["generation"] == 0  # 24 s: nothing published yet
    assert tool.generation_at(gens, 1.0)["generation"] == 2  # 60 s: generation 2 exactly at the mark
    assert tool.generation_at(gens, 1.9)["generation"] == 3
    assert tool.generation_at(gens, 100.0)["games"] == 50


def test_table_has_a_row_per_config_and_minute_and_a_column_per_anchor():
    base = {"generation": 3, "games_played": 1234, "wins": 3, "losses": 1, "draws": 0, "games": 4, "score": 0.75,
            "elo": 190.8, "ci95": 400.2}
    points = [{**base, "config": c, "minute": m, "anchor": a, "visits": 16}
              for c in ("b", "a") for m in (10.0, 5.0) for a in ("random", "gnugo:1")]
    lines = tool.table(points).splitlines()
    assert lines[0] == "| config | minute | generation | games | vs gnugo:1 (16 visits) | vs random (16 visits) |"
    assert [line.split(" | ")[0:2] for line in lines[2:]] == [["| a", "5"], ["| a", "10"], ["| b", "5"], ["| b", "10"]]
    assert lines[2].endswith("| 3-1-0 (75%), Elo +191 +- 400 | 3-1-0 (75%), Elo +191 +- 400 |")
    assert "1,234" in lines[2]


@pytest.mark.slow
def test_two_tiny_configs_give_table_json_png_and_a_rerun_resumes(cli_in_process, tmp_path):
    out = tmp_path / "curves"
    args = ["--out", str(out), "--minutes", "0.4", "--marks", "0.2,0.4",
            "--config", "base=tiny-cpu loop.max_generations=1000",
            "--config", "cheap=tiny-cpu loop.max_generations=1000 search.simulations=4",
            "--match", "random@4", "--games", "2", "--final-games", "4", "--parallel", "1"]
    proc = subprocess.run(BENCH + args, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((out / "curves.json").read_text())
    assert data["schema"] == 1 and data["minutes"] == 0.4 and data["marks"] == [0.2, 0.4]
    assert data["machine"]["cores"] >= 1 and data["machine"]["cpu"]
    assert [c["label"] for c in data["configs"]] == ["base", "cheap"]
    points = data["points"]
    assert sorted((p["config"], p["minute"]) for p in points) == [("base", 0.2), ("base", 0.4), ("cheap", 0.2), ("cheap", 0.4)]
    for p in points:
        run = out / "runs" / p["config"]
        gens = [r for r in read_metrics(run / "metrics.jsonl") if r["kind"] == "generation"]
        expected = max([r["generation"] for r in gens if r["elapsed_s"] <= p["minute"] * 60 + 1e-6], default=0)
        assert p["generation"] == expected
        assert p["games"] == (4 if p["minute"] == 0.4 else 2) == p["wins"] + p["losses"] + p["draws"]
        assert p["anchor"] == "random" and p["visits"] == 4 and p["elo"] is not None
        results = list((out / "matches" / p["config"]).glob(f"m{p['minute']:g}-g{p['generation']}-vs-random-at4/results.jsonl"))
        assert len(results) == 1 and len(results[0].read_text().splitlines()) == p["games"]
    assert json.loads((out / "runs" / "base" / "config.json").read_text())["search"]["simulations"] == 8
    assert json.loads((out / "runs" / "cheap" / "config.json").read_text())["search"]["simulations"] == 4
    table = (out / "curves.md").read_text()
    assert table.count("| base |") == 2 and table.count("| cheap |") == 2 and "vs random (4 visits)" in table
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Same command again: nothing is trained or played again, the outputs are the same.
    before = {p: p.stat().st_mtime_ns for p in out.rglob("results.jsonl")}
    proc = cli_in_process("bench", "learning", *args)  # it stops early: no new interpreter's imports to pay
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("trained already") == 2
    assert {p: p.stat().st_mtime_ns for p in out.rglob("results.jsonl")} == before
    assert json.loads((out / "curves.json").read_text())["points"] == points

    # Earlier results drawn beside new ones: --include alone adds no training.
    both = tmp_path / "both"
    proc = cli_in_process("bench", "learning", "--out", str(both), "--include", str(out / "curves.json"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (both / "curves.md").read_text().count("| base |") == 2


def test_bad_arguments_are_refused_with_the_reason(cli_in_process, tmp_path):
    cases = [
        (["--config", "a=tiny-cpu", "--match", "random@4"], "required: --out"),
        (["--out", str(tmp_path), "--match", "random@4"], "at least one --config"),
        (["--out", str(tmp_path), "--config", "a=tiny-cpu"], "at least one --match"),
        (["--out", str(tmp_path), "--config", "a=tiny-cpu", "--config", "a=tiny-cpu", "--match", "random@4"], "labels must differ"),
        (["--out", str(tmp_path), "--config", "a=tiny-cpu search.gumbel=maybe", "--match", "random@4"], "gumbel"),
        (["--out", str(tmp_path), "--config", "a=no-such-preset", "--match", "random@4"], "unknown preset"),
        (["--out", str(tmp_path), "--include", str(tmp_path / "missing.json")], "cannot read curves JSON"),
    ]
    for args, message in cases:
        proc = cli_in_process("bench", "learning", *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
    # And as a process: the exit status of the real command.
    args, message = cases[-1]
    proc = subprocess.run(BENCH + args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
    assert message in proc.stderr, (args, proc.stderr)
