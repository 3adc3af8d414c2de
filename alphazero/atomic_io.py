"""Crash-safe file writes: a temp file in the same directory, fsync, then ``os.replace``."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_MARKER = ".tmp-"  # temp names are ".<final name>.tmp-<pid>-<hex>": hidden and never a final name
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class DiskFullError(OSError):
    """A write ran out of space (or quota): its temp file is gone and the file it was to replace is
    untouched, so everything written before is intact; free space and retry (or resume the run)."""


def no_space_error(path: Path, error: OSError) -> DiskFullError:
    return DiskFullError(error.errno, f"no space left on the device holding {path} ({error.strerror}): the write was "
                                      "abandoned and what was written before is intact; free space, then resume")


def temp_path_for(path: Path) -> Path:
    """A unique temp name next to ``path`` (same directory, so ``os.replace`` is atomic)."""
    return path.parent / f".{path.name}{TEMP_MARKER}{os.getpid()}-{secrets.token_hex(4)}"


def is_temp_path(path: Path) -> bool:
    return path.name.startswith(".") and TEMP_MARKER in path.name


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (no-op where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a binary temp file; on clean exit it is fsynced and renamed onto ``path``. On error the
    temp file is removed and ``path`` is untouched (a reader sees the old file or the new, never half)."""
    final = Path(path)
    tmp = temp_path_for(final)
    try:
        with open(tmp, "xb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError) and e.errno in NO_SPACE and not isinstance(e, DiskFullError):
            raise no_space_error(final, e) from e
        raise
    fsync_dir(final.parent)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_writer(path) as f:
        f.write(data)

