"""Shared test setup: numba's compile cache keyed by the compiled sources (as the CLI does, before any
test imports a kernel); tests marked ``gnugo`` are skipped where GNU Go is not installed."""

from __future__ import annotations

import os
import shutil

import pytest

from alphazero.compile_cache import use_keyed_cache

use_keyed_cache()


def gnugo_path() -> str | None:
    """GNU Go's executable: on PATH, else where Debian puts it (``/usr/games`` is often off PATH)."""
    found = shutil.which("gnugo")
    if found:
        return found
    return "/usr/games/gnugo" if os.access("/usr/games/gnugo", os.X_OK) else None


def pytest_collection_modifyitems(config, items):
    if gnugo_path() is None:
        skip = pytest.mark.skip(reason="GNU Go (gnugo) is not installed")
        for item in items:
            if "gnugo" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def cli_in_process(capfd):
    """``alphazero ARGS`` run through ``alphazero.cli.main`` in this process, returned as
    ``subprocess.run`` would (exit status, stdout, stderr). For the many cases that stop early (bad
    arguments, a re-run with nothing left to do), each of which would otherwise pay a new
    interpreter's imports (torch and Ray: about 4.5 s of CPU a command); each command keeps at
    least one subprocess case for the real process."""
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess:
        from alphazero.cli import main

        capfd.readouterr()  # what came before is not this command's
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse's usage errors; a message as the interpreter prints it
            if isinstance(e.code, str):
                print(e.code, file=sys.stderr)
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        out, err = capfd.readouterr()
        return subprocess.CompletedProcess(["alphazero", *args], code, out, err)

    return run
