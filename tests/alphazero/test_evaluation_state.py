"""The gate's state across sessions (``state/evaluation.json``): what a resumed run publishes for
self-play, which matches it replays, and the checkpoints pruning must keep."""

import json

import pytest

from alphazero.config.arena import ArenaConfig
from alphazero.train.evaluation import EvaluationState, restore_evaluation_state
from alphazero.train.run_dir import RunDir

GATED = ArenaConfig(every_generations=1, gating=True)


def make_run(tmp_path, state: dict | None) -> RunDir:
    run = RunDir(tmp_path / "run")
    run.create()
    if state is not None:
        run.write_evaluation_state(state)
    return run


def test_round_trip_through_json(tmp_path):
    state = EvaluationState(published=2, last_evaluated=4, pending={4: 2}, decisions={1: "accept", 2: "accept", 3: "reject"})
    run = make_run(tmp_path, state.to_json())
    assert EvaluationState.from_json(run.read_evaluation_state()) == state
    assert state.accepted() == [1, 2]
    assert state.in_use() == {2, 4}


def test_a_resume_keeps_the_accepted_generation_and_replays_open_matches(tmp_path):
    saved = EvaluationState(published=2, last_evaluated=4, pending={4: 2}, decisions={1: "accept", 2: "accept", 3: "reject"})
    state = restore_evaluation_state(make_run(tmp_path, saved.to_json()), GATED, newest=4)
    assert state.published == 2 and state.pending == {4: 2} and state.decisions[3] == "reject"


def test_generations_published_after_the_last_state_write_get_their_match(tmp_path):
    # The last session died between writing checkpoint 5 and recording its match.
    saved = EvaluationState(published=2, last_evaluated=4, pending={}, decisions={3: "reject", 4: "reject"})
    state = restore_evaluation_state(make_run(tmp_path, saved.to_json()), GATED, newest=5)
    assert state.published == 2 and state.pending == {5: 2} and state.last_evaluated == 5
    chain = ArenaConfig(every_generations=2)  # no gating: each due generation plays the previous due one
    state = restore_evaluation_state(make_run(tmp_path / "b", EvaluationState(3, 2).to_json()), chain, newest=7)
    assert state.pending == {4: 2, 6: 4} and state.published == 7


def test_checkpoints_that_did_not_survive_are_forgotten(tmp_path):
    # Checkpoint 4 (published, and the one under test) was corrupt, so the run goes on from 3.
    saved = EvaluationState(published=4, last_evaluated=5, pending={5: 4}, decisions={4: "accept"})
    state = restore_evaluation_state(make_run(tmp_path, saved.to_json()), GATED, newest=3)
    assert state.published == 3 and state.pending == {} and state.decisions == {} and state.last_evaluated == 3


@pytest.mark.parametrize("text", ["[1, 2]", '{"published": "x", "last_evaluated": 0}', '{"published": -1, "last_evaluated": 0}',
                                  '{"last_evaluated": 0}', "not json"])
def test_a_malformed_state_falls_back_to_the_newest_checkpoint_with_a_warning(tmp_path, caplog, text):
    run = make_run(tmp_path, None)
    run.evaluation_state_path.write_text(text)
    state = restore_evaluation_state(run, GATED, newest=6)
    assert state.published == 6 and state.pending == {}
    assert str(run.evaluation_state_path) in caplog.text


def test_pruning_keeps_the_published_generation(tmp_path):
    run = make_run(tmp_path, None)
    for g in range(8):
        run.model_dir(g).mkdir(parents=True)
        (run.model_dir(g) / "model.json").write_text(json.dumps({}))
    run.prune_models(keep=2, protect=frozenset({3, 5}))
    assert run.generations() == [0, 3, 5, 6, 7]
