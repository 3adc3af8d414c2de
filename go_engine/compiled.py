"""How the hot loops are compiled and run: the numba options every package's kernels share, the
serial/parallel twins of a batch loop, and the one place that sets numba's thread count."""

from __future__ import annotations

import types

import numba
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


def parallel_twins(batch_loop):
    """``(parallel, serial)``: one loop over a batch, written with ``prange``, compiled twice, with
    ``parallel=True`` and without (where ``prange`` is ``range``). Pick one with ``parallel_worth_it``.

    The serial twin compiles a copy of the function named ``<name>_serial``: numba's cache files
    are named after the function (and its line), and the key inside does not hold the compile
    options, so two compilations of one function would load each other's code."""
    serial = types.FunctionType(batch_loop.__code__, batch_loop.__globals__, batch_loop.__name__ + "_serial",
                                batch_loop.__defaults__, batch_loop.__closure__)
    serial.__qualname__ = batch_loop.__qualname__ + "_serial"
    serial.__doc__ = batch_loop.__doc__
    return njit(cache=True, parallel=True)(batch_loop), njit(cache=True)(serial)


def parallel_worth_it(batch: int, min_batch: int) -> bool:
    """Whether a batched kernel should run its parallel twin: waking threads costs far more than
    a few rows of work (milliseconds on a loaded machine), so small batches run serially."""
    return batch >= min_batch and numba.get_num_threads() > 1


def set_num_threads(k: int) -> None:
    """Threads used by the parallel kernels: ``k`` clamped to [1, NUMBA_NUM_THREADS] (numba refuses more)."""
    numba.set_num_threads(max(1, min(int(k), numba.config.NUMBA_NUM_THREADS)))
