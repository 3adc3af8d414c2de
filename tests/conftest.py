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
