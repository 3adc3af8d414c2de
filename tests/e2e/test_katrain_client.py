"""KaTrain 1.20.0 drives ``alphazero analysis`` through its own engine class (``katrain.core.engine.
KataGoEngine``, the custom backend: ``altcommand`` run through the shell) on a real game: every
node gets its analysis, and KaTrain's points-lost is positive for a Black and a White blunder
(its winrates and leads asked for from Black's view through ``overrideSettings``).

KaTrain is not a dependency of this project: the test runs where ``katrain`` (with Kivy and
pysgf) is importable, and is skipped with the reason otherwise."""

from __future__ import annotations

import os
import shlex
import sys
import threading
import time

import pytest

pytestmark = pytest.mark.slow

# Kivy reads these when it is first imported: no argument parsing, no console or file logs, and
# its home in a temporary place rather than ~/.kivy.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_HOME", os.path.join(os.environ.get("TMPDIR", "/tmp"), "alphazero-kivy-home"))

engine_module = pytest.importorskip("katrain.core.engine", reason="KaTrain is not installed (pip install katrain==1.20.0 to run this test)")
game_node_module = pytest.importorskip("katrain.core.game_node")
pysgf = pytest.importorskip("pysgf")

# 5x5, komi 0.5. Black leaves White's B4 stone in atari and passes (move 7) instead of taking it;
# later White passes (move 12) instead of taking Black's E1 stone in atari.
GAME = [("B", "A4"), ("W", "B4"), ("B", "B5"), ("W", "D2"), ("B", "C4"), ("W", "D3"), ("B", "pass"),
        ("W", "B3"), ("B", "E1"), ("W", "E2"), ("B", "A2"), ("W", "pass"), ("B", "D1")]
BLACK_BLUNDER, WHITE_BLUNDER = 7, 12  # node depth of each blunder


class HeadlessKaTrain:
    """What KataGoEngine calls on its application object: log(message, level), and calling it
    (popups, which here are failures to report)."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []
        self.popups: list[tuple] = []

    def log(self, message, level=0) -> None:
        self.lines.append((level, str(message)))

    def __call__(self, *args, **kwargs) -> None:
        self.popups.append(args)


def test_katrain_analyses_every_node_and_grades_both_colours_blunders():
    from katrain.core.constants import OUTPUT_ERROR

    command = " ".join(shlex.quote(part) for part in [sys.executable, "-m", "alphazero.cli", "analysis", "--stand-in", "area",
                                                      "--visits", "200", "--batch", "16"])
    config = {"altcommand": command, "max_visits": 200, "fast_visits": 50, "max_time": 300.0, "wide_root_noise": 0.0,
              "_enable_ownership": True}
    katrain = HeadlessKaTrain()
    engine = engine_module.KataGoEngine(katrain, config)
    try:
        root = game_node_module.GameNode(properties={"SZ": "5", "KM": "0.5", "RU": "chinese"})
        nodes = [root]
        for player, vertex in GAME:
            nodes.append(game_node_module.GameNode(parent=nodes[-1], move=pysgf.Move.from_gtp(vertex, player=player)))
        for node in nodes:
            node.analyze(engine)
        deadline = time.monotonic() + 600
        while not all(node.analysis_complete for node in nodes) and time.monotonic() < deadline:
            assert engine.check_alive(), f"engine died: {katrain.lines[-10:]}"
            time.sleep(0.2)
    finally:
        # KaTrain's shutdown: SIGTERM to the shell, then it joins its reader threads, which end
        # only when the engine (orphaned by the shell) exits and closes its pipes.
        stopper = threading.Thread(target=engine.shutdown, kwargs={"finish": False}, daemon=True)
        stopper.start()
        stopper.join(timeout=60)
        assert not stopper.is_alive(), "the engine outlived KaTrain's shutdown"
    errors = [text for level, text in katrain.lines if level == OUTPUT_ERROR]
    assert not errors and not katrain.popups, (errors, katrain.popups)
    assert all(node.analysis_complete for node in nodes), [n.depth for n in nodes if not n.analysis_complete]
    for node in nodes:
        assert node.root_visits == 200
        assert node.candidate_moves and all("pointsLost" in m for m in node.candidate_moves)
        assert len(node.ownership) == 25 and len(node.policy) == 26
    black, white = nodes[BLACK_BLUNDER], nodes[WHITE_BLUNDER]
    assert black.move.player == "B" and white.move.player == "W"
    assert black.points_lost > 1.0, [(n.depth, n.score) for n in nodes]
    assert white.points_lost > 1.0, [(n.depth, n.score) for n in nodes]
