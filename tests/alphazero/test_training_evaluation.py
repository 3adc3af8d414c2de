"""Evaluation during training: each generation's Elo is anchored to the fixed opponent and shown
with its 95% interval (display line, log line, metrics, plot); the chained Elo is kept only as
such, its interval growing with every link; a real evaluation of a tiny run."""

from __future__ import annotations

import io
import json
import math
import pickle
from pathlib import Path

import pytest

from alphazero.config.run import LoopConfig, load_config
from alphazero.config.search import SearchConfig
from alphazero.train.display import Display, anchored_elo_text, evaluation_text
from alphazero.train.evaluation import Evaluation, elo_history_path, evaluate_generation, record_and_plot
from alphazero.train.loop import Counters, prepare_run_dir
from alphazero.train.metrics import MetricsLog, read_metrics
from alphazero.train.run_dir import RunDir
from tests.alphazero.tiny_checkpoint import make_checkpoint


def evaluation(generation: int, previous: int, elo_anchor: float | None, ci_anchor: float | None,
               anchor_score=(7, 3, 0)) -> Evaluation:
    return Evaluation(generation, previous, 6, 4, 0, 100.0, 80.0, elo_anchor, ci_anchor, "n/a",
                      "gnugo-l1", *anchor_score)


def display_line(entry: dict | None) -> str:
    stream = io.StringIO()  # not a terminal: every update is a plain line
    display = Display(quiet=False, interval=1.0, stream=stream)
    display.update(Counters(generation=31, games=500, positions=9000, samples_trained=50_000), {}, None, LoopConfig(), entry)
    return stream.getvalue()


def test_display_and_metrics_show_the_anchored_elo_with_its_interval_not_the_chain(tmp_path):
    run = RunDir(tmp_path / "run")
    entries = [record_and_plot(run, evaluation(10, 0, -50.0, 150.0)),
               record_and_plot(run, evaluation(20, 10, 10.0, 140.0)),
               record_and_plot(run, evaluation(30, 20, 60.0, 130.0))]
    # The chain sums the matches vs the previous generation and its interval grows with each link.
    assert [e["elo_chain"] for e in entries] == [100.0, 200.0, 300.0]
    assert [e["ci_chain"] for e in entries] == pytest.approx([80.0, 80.0 * math.sqrt(2), 80.0 * math.sqrt(3)])
    history = json.loads(elo_history_path(run).read_text())
    assert [(h["generation"], h["elo_vs_anchor"], h["ci_vs_anchor"], h["anchor"]) for h in history] == [
        (10, -50.0, 150.0, "gnugo-l1"), (20, 10.0, 140.0, "gnugo-l1"), (30, 60.0, 130.0, "gnugo-l1")]
    png = (run.root / "arena" / "training_elo.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000

    line = display_line(entries[-1])
    assert "Elo vs gnugo-l1 +60 +- 130 (g30)" in line
    assert "+300" not in line and "+200" not in line  # the chained number is not displayed
    assert "Elo" not in display_line(None)

    text = evaluation_text(entries[-1], gating=False)
    assert text.startswith("evaluation of generation 30: Elo vs gnugo-l1 +60 +- 130 (95%; 7-3-0);")
    assert "6-4-0 vs generation 20 (Elo +100 +- 80)" in text and "gate" not in text
    assert "gate: n/a" in evaluation_text(entries[-1], gating=True)

    # The loop logs the entry as the "arena" metrics record: anchored Elo, interval and anchor in it.
    metrics = MetricsLog(tmp_path / "metrics.jsonl", "off", "test", {}, None)
    metrics.log("arena", entries[-1])
    metrics.close()
    (record,) = read_metrics(tmp_path / "metrics.jsonl")
    assert (record["kind"], record["elo_vs_anchor"], record["ci_vs_anchor"], record["anchor"]) == ("arena", 60.0, 130.0, "gnugo-l1")


def test_without_anchor_games_there_is_no_anchored_elo(tmp_path):
    run = RunDir(tmp_path / "run")
    entry = record_and_plot(run, evaluation(5, 0, None, None, (0, 0, 0)))
    assert anchored_elo_text(entry) is None and "Elo vs" not in display_line(entry)
    assert evaluation_text(entry, gating=False).startswith("evaluation of generation 5: 6-4-0 vs generation 0")
    assert (run.root / "arena" / "training_elo.png").read_bytes()[:4] == b"\x89PNG"


def test_a_real_evaluation_is_anchored_and_searches_like_self_play(tmp_path):
    config = load_config("tiny-cpu", overrides=[
        "arena.every_generations=1", "arena.games_vs_previous=2", "arena.games_vs_anchor=2", "arena.anchor=random",
        "arena.max_moves=20", "arena.opening_moves=2"])
    run = RunDir(tmp_path / "run")
    prepare_run_dir(run, config, resume=False)
    for g in (0, 1):
        make_checkpoint(run.model_dir(g), seed=g, generation=g, history=config.history, size=config.board_size,
                        network=config.network)
    result = evaluate_generation._function(str(run.root), config, 1, 0)  # the Ray task's body, in this process
    assert isinstance(result, Evaluation) and pickle.loads(pickle.dumps(result)) == result  # it crosses Ray
    assert result.anchor == "random"
    assert result.anchor_wins + result.anchor_losses + result.anchor_draws == 2
    assert result.wins + result.losses + result.draws == 2
    assert math.isfinite(result.elo_vs_anchor) and 0 < result.ci_vs_anchor < math.inf
    header = json.loads((run.root / "arena" / "training" / "000001-vs-anchor" / "match.json").read_text())
    played = SearchConfig.from_dict(header["a"]["search"])
    assert played.gumbel and played.simulations == config.search.simulations
    assert played.gumbel_considered == config.search.gumbel_considered and header["b"]["name"] == "random"
    entry = record_and_plot(run, result)
    assert f"Elo vs random {result.elo_vs_anchor:+.0f}" in display_line(entry)
