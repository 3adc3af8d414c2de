"""Compile every numba kernel self-play and training run, into NUMBA_CACHE_DIR (else the keyed cache
of ``alphazero.compile_cache``): the serial kernels and their parallel twins (batches of 64 and
more take those), the engine, the encoder and both searches (PUCT and Gumbel) on two board sizes. The Dockerfile runs it at build time so Ray workers
start warm. Prints the kernels compiled."""

from __future__ import annotations

import sys
import time

import numpy as np

# Batches on both sides of the parallel threshold (go_engine.compiled.parallel_worth_it).
BATCHES = (2, 64)


def warm() -> list[str]:
    """Run every compiled entry point once per batch size; the names of the kernels compiled."""
    import numba

    from alphazero.config.search import SearchConfig, SelfPlayConfig
    from go_engine import board, compiled, features
    from go_engine.rules import preset
    from selfplay.evaluators import UniformEvaluator
    from selfplay.game_driver import SelfPlayDriver

    rules = preset("chinese")
    # The parallel twins run only with more than one thread: compile them whatever thread count
    # the caller left (a test, a worker clamped to one core), then put it back.
    previous = numba.get_num_threads()
    compiled.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    try:
        for b in BATCHES:
            s = board.state_for(rules, b, 9)
            board.legal_mask(s, rules)
            board.play(s, np.zeros(b, np.int64), rules)
            features.encode(s, rules)
            board.score(s)
            board.outcome(s)
            board.play_random_games(board.state_for(rules, b, 9), rules, seed=1, avoid_eyes=True)
            board.play_random_games(board.state_for(rules, b, 9), rules, seed=1, avoid_eyes=False)
            for gumbel in (False, True):
                search = SearchConfig(simulations=4, gumbel=gumbel, gumbel_considered=2)
                play = SelfPlayConfig(games_in_parallel=b, cheap_simulations=2, max_game_moves=6)
                driver = SelfPlayDriver(search, play, rules, 9, UniformEvaluator(), 8, np.random.default_rng(0))
                driver.play(num_games=b, max_steps=40)
    finally:
        numba.set_num_threads(previous)
    return compiled_kernels()


def compiled_kernels() -> list[str]:
    """Every numba dispatcher of the compiled packages that has at least one compiled signature."""
    import numba

    from alphazero.compile_cache import COMPILED_PACKAGES

    names = []
    for module_name, module in sorted(sys.modules.items()):
        if module is None or module_name.split(".")[0] not in COMPILED_PACKAGES:
            continue
        for attr, value in vars(module).items():
            if isinstance(value, numba.core.registry.CPUDispatcher) and value.signatures:
                names.append(f"{module_name}.{attr}")
    return sorted(set(names))


def main() -> int:
    from alphazero.compile_cache import use_keyed_cache

    use_keyed_cache()  # before the compiled modules are imported (in warm)
    start = time.perf_counter()
    names = warm()
    print(f"warm-up: {len(names)} kernels compiled or loaded from the cache in {time.perf_counter() - start:.1f} s")
    for name in names:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
