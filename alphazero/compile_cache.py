"""Where numba caches the compiled packages' kernels: a directory keyed by a digest of their sources.

numba checks only a kernel's own file for changes, so a kernel cached in ``selfplay`` (which
inlines ``go_engine``'s) would otherwise keep running an old copy of the rules after ``go_engine``
changed. The entry points (the ``alphazero`` command, ``scripts/warmup.py``, the tests' conftest)
call :func:`use_keyed_cache` once, before any compiled module is imported; the library itself
reads no environment and changes no numba setting.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

COMPILED_PACKAGES = ("go_engine", "selfplay")
"""The packages holding ``cache=True`` numba kernels (their sources make the cache key)."""

SOURCE_ROOT = Path(__file__).resolve().parent.parent
"""The directory holding the compiled packages (the checkout, or site-packages)."""


def source_digest(root: Path = SOURCE_ROOT) -> str:
    """16 hex digits over the names and contents of every ``.py`` file of the compiled packages."""
    digest = hashlib.sha256()
    for package in COMPILED_PACKAGES:
        for path in sorted((root / package).glob("*.py")):
            digest.update(f"{package}/{path.name}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def use_keyed_cache(environ: MutableMapping[str, str] = os.environ, root: Path = SOURCE_ROOT) -> str:
    """Point numba's cache at ``root/.numba_cache/<digest>`` and return the directory used.

    A ``NUMBA_CACHE_DIR`` already in ``environ`` is respected as it is (the Docker image sets one).
    The directory goes into ``environ`` so that child processes (Ray workers of a local cluster,
    arena worker processes, GTP engines) use it too. Must run before a compiled module is imported:
    numba fixes a kernel's cache directory when the kernel is defined."""
    cache_dir = environ.get("NUMBA_CACHE_DIR") or str(root / ".numba_cache" / source_digest(root))
    environ["NUMBA_CACHE_DIR"] = cache_dir
    numba = sys.modules.get("numba")
    if numba is not None:
        # numba read the environment when it was imported; later kernels follow its config.
        loaded = sorted(name for name in sys.modules if name.split(".")[0] in COMPILED_PACKAGES and "." in name)
        if loaded and numba.config.CACHE_DIR != cache_dir:
            raise RuntimeError(f"use_keyed_cache() must run before the compiled modules are imported "
                               f"(already imported: {', '.join(loaded)})")
        numba.config.CACHE_DIR = cache_dir
    return cache_dir
