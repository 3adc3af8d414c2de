"""The typed messages of a run's actors: frozen, read by attribute, unchanged through pickle (Ray)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from alphazero.train.display import Display
from alphazero.train.loop import Counters, Window
from alphazero.train.messages import LearnerReport, SelfPlayResult
from alphazero.config.run import LoopConfig


def selfplay_result(**changes) -> SelfPlayResult:
    values = dict(worker=1, incarnation="abc", version=3, seconds=2.0, steps=40, evaluations=500,
                  network_evaluations=400, eval_cache_lookups=500, eval_cache_hits=100, games=2, positions=30,
                  lengths=(12, 18), resigned=1, no_resign_checked=1, resign_false_positives=0, black_wins=1,
                  record_versions=(2, 3), added=2, added_positions=30, buffer_games=7, buffer_positions=90)
    return SelfPlayResult(**{**values, **changes})


def test_messages_are_frozen_and_survive_pickle():
    result = selfplay_result()
    report = LearnerReport(steps=10, samples_seen=640, threads=2, samples_per_s=99.5,
                           losses={"loss/total": 2.5, "policy_top1": 0.25})
    for message in (result, report):
        assert pickle.loads(pickle.dumps(message)) == message
        with pytest.raises(dataclasses.FrozenInstanceError):
            message.steps = 0


def test_learner_report_flattens_to_the_metrics_record():
    report = LearnerReport(steps=10, samples_seen=640, threads=2, samples_per_s=99.5, losses={"loss/total": 2.5},
                           batches_by_size={"7": 3, "9": 7})
    assert report.to_metrics() == {"loss/total": 2.5, "steps": 10, "samples_seen": 640, "threads": 2,
                                   "samples_per_s": 99.5, "batches_by_size": {"7": 3, "9": 7}}
    assert report.metric("loss/total") == 2.5 and report.metric("loss/value") is None


def test_window_and_display_read_the_messages():
    window = Window()
    window.add(selfplay_result(), version=3)
    window.add(selfplay_result(games=1, positions=10, lengths=(40,), record_versions=(1,), black_wins=0), version=3)
    summary = window.summary()
    assert summary["games"] == 3 and summary["game_length"] == pytest.approx((12 + 18 + 40) / 3)
    assert summary["version_lag"] == pytest.approx((1 + 0 + 2) / 3) and summary["eval_cache_hit_rate"] == 0.2
    lines = []

    class Stream:
        def write(self, text):
            lines.append(text)

        def flush(self):
            pass

        def isatty(self):
            return False

    display = Display(quiet=False, interval=1.0, stream=Stream())
    report = LearnerReport(steps=10, samples_seen=640, threads=2, samples_per_s=99.5,
                           losses={"loss/total": 2.5, "loss/policy": 1.75, "loss/value": 0.5, "policy_top1": 0.25})
    display.update(Counters(generation=2, games=3), summary, report, LoopConfig())
    display.generation(3, Counters(generation=3), report, 60.0)
    display.update(Counters(), {}, None, LoopConfig())
    assert "loss 2.500 pol 1.750 val 0.500" in lines[0] and "policy top-1 0.250" in lines[1]
    assert "loss - pol - val -" in lines[2]


def test_arena_messages_round_trip_as_json():
    from alphazero.arena.messages import GameJob, PlayedGame

    job = GameJob(plan=1, game=3, black={"name": "b", "kind": "random"}, white={"name": "w", "kind": "random"},
                  a_is_black=False, seed=11, opening_seed=12, settings={"size": 5, "rules": {"komi": 0.5}}, stderr="/x")
    assert GameJob.from_json(job.to_json()) == job
    played = PlayedGame(game=3, seed=11, black="b", white="w", a_is_black=False, winner=None, score_a=0.5,
                        reason="score", detail="two passes", margin=0.0, moves=((1, 4), (2, 25)), num_moves=2,
                        seconds=0.25)
    assert PlayedGame.from_json(played.to_json()) == played
    line = played.results_line("games/game_000003.sgf")
    assert "moves" not in line and line["sgf"] == "games/game_000003.sgf" and line["score_a"] == 0.5
    assert set(line) == {f.name for f in dataclasses.fields(PlayedGame)} - {"moves"} | {"sgf"}
