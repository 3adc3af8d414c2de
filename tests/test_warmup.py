"""The build-time warm-up (scripts/warmup.py, run by the Dockerfile) compiles the kernels that
self-play and training run, the parallel twins included."""

import importlib.util
from pathlib import Path

import numba

ROOT = Path(__file__).resolve().parent.parent
# The engine and the search: what a self-play worker calls (the network-free evaluators in
# selfplay.evaluators serve tests and benchmarks only).
RUN_BY_SELFPLAY = ("go_engine.board", "go_engine.features", "selfplay.mcts")


def load_warmup():
    spec = importlib.util.spec_from_file_location("warmup", ROOT / "scripts" / "warmup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_warmup_compiles_every_parallel_kernel_of_selfplay():
    import sys

    names = load_warmup().warm()
    parallel = []
    for module_name in RUN_BY_SELFPLAY:
        for attr, value in vars(sys.modules[module_name]).items():
            if isinstance(value, numba.core.registry.CPUDispatcher) and value.targetoptions.get("parallel"):
                parallel.append(f"{module_name}.{attr}")
    assert len(parallel) >= 7, parallel
    missing = sorted(set(parallel) - set(names))
    assert not missing, f"parallel kernels the warm-up never compiled: {missing}"
    assert "selfplay.mcts.select_leaves" in names and "go_engine.board._legal_all_serial" in names
