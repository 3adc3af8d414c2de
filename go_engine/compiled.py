"""How the hot loops are compiled: the numba options every package's kernels share."""

from __future__ import annotations

from numba import njit


def row_kernel(fn):
    """Compile a kernel that allocates nothing: it reads and writes only the arrays it is given.

    Such kernels are compiled without numba's reference counting (``_nrt=False``). With it, every
    call of a compiled function increments and decrements, atomically, the reference count of each
    array it receives: a ``BoardState`` is 17 arrays, and that cost (about 190 ns a call, measured
    on one point's legality test that itself takes 7 ns) dominated every row kernel. Without it the
    arrays are borrowed from the caller, which holds them for the whole call. A kernel compiled
    this way that tries to allocate an array fails to compile, so the option cannot hide a leak;
    kernels that allocate (or return new arrays) keep plain ``njit``."""
    return njit(cache=True, _nrt=False)(fn)
