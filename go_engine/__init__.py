"""The game: rules (numba kernels over batched boards), coordinates, input features, symmetries, SGF.

Importing the package points numba's compile cache at a directory named by a digest of the
compiled sources (``go_engine`` and ``selfplay``): numba checks only a kernel's own file for
changes, so a kernel cached in ``selfplay`` would otherwise keep running an old copy of the rules
after ``go_engine`` changed. ``NUMBA_CACHE_DIR``, when set, is respected as it is.
"""

import hashlib
import os
from pathlib import Path

COMPILED_PACKAGES = ("go_engine", "selfplay")


def _source_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for package in COMPILED_PACKAGES:
        for path in sorted((root / package).glob("*.py")):
            digest.update(f"{package}/{path.name}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _configure_numba_cache() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    import numba

    root = Path(__file__).resolve().parent.parent
    numba.config.CACHE_DIR = str(root / ".numba_cache" / _source_digest(root))


_configure_numba_cache()
