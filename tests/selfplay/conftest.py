"""Shared helpers for the search tests: building searches on ASCII positions."""

from __future__ import annotations

import numpy as np
import pytest

from alphazero.config.search import SearchConfig
from go_engine import ascii_board
from go_engine import board as B
from go_engine.rules import Rules
from selfplay.mcts import BatchedMCTS


def search_on(text: str, evaluator, config: SearchConfig, rules: Rules, to_play: int = B.BLACK, history: int = 2) -> BatchedMCTS:
    """A one-row search over the drawn position (not started)."""
    state = ascii_board.from_ascii(text, rules, to_play=to_play, history=history)
    return BatchedMCTS(config, rules, state, evaluator, history=history)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
