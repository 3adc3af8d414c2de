"""A bounded evaluation cache between the search and the network: rows whose exact input was
evaluated before are answered from a table, only the others go to the network.

Contract: ``CachedEvaluator(inner, size)`` is itself an evaluator (``alphazero.evaluator``'s
contract: ``(planes [B, C, n, n] float32, legal [B, A] bool) -> (logits [B, A], value [B], aux)``)
and answers every row with the bytes ``inner`` returned for that very input.

The key is a 128-bit digest of everything the network's output depends on: the bits of the input
planes (the stone history the features use, side to move, liberties, the ko plane, the rules and
komi planes) and of the legal mask. A Zobrist key would have to repeat the feature encoding's
choices (how much history, which ko bans) to be as exact; the digest is exact by construction, and
costs about a microsecond a row (``alphazero bench eval_cache``), against hundreds for a network
row on a CPU. Positions that differ only in history or in ko legality are different inputs, hence
different keys. No symmetry is applied here or in ``NetworkEvaluator``, so a rotated position is
simply another input; an evaluator that applied a random symmetry would not be a function of its
input and could not be cached this way.

The table is KataGo-like and fixed: ``size // WAYS`` buckets of ``WAYS`` entries chosen by the
digest's low lane, least recently used entry replaced. Identical rows within one batch reach the
network once. Collisions of both 64-bit lanes are the only way to return another input's answer:
about ``lookups * size / 2**128``, i.e. never in practice.

Exactness is per input: a hit returns what the network returned when that input was evaluated.
PyTorch's CPU kernels are not batch-invariant (a row's float32 outputs can differ in the last
bit, ~3e-8, with the batch it was evaluated in), so a search with the cache equals the uncached one
bit for bit when the inner evaluator's rows do not depend on their batch (``max_batch=1``, as the
tests check), and up to that last-bit noise otherwise: the same noise an uncached search sees
between runs whose batches differ.

Clear the cache when the weights change: ``load_state_dict`` forwards the new weights and clears.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

WAYS = 4  # entries per bucket
# 64-bit primes of xxHash64.
P1 = np.uint64(0x9E3779B185EBCA87)
P2 = np.uint64(0xC2B2AE3D27D4EB4F)
P3 = np.uint64(0x165667B19E3779F9)
P4 = np.uint64(0x85EBCA77C2B2AE63)
SEEDS = np.array([0x243F6A8885A308D3, 0x13198A2E03707344], np.uint64)  # one per 64-bit lane (digits of pi)


# ---- kernels --------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _rotl(x: np.uint64, r: int) -> np.uint64:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@njit(cache=True, inline="always")
def _round(acc: np.uint64, word: np.uint64) -> np.uint64:
    return _rotl(acc + word * P2, 31) * P1


@njit(cache=True, inline="always")
def _absorb(h: np.uint64, word: np.uint64) -> np.uint64:
    return _rotl(h ^ _round(np.uint64(0), word), 27) * P1 + P4


@njit(cache=True)
def _xxh64_words(a: np.ndarray, b: np.ndarray, seed: np.uint64) -> np.uint64:
    """xxHash64's structure over the 64-bit words of ``a`` then ``b`` (four independent
    accumulators over ``a``, the rest absorbed one word at a time) with the final avalanche."""
    n = a.shape[0]
    v1 = seed + P1 + P2
    v2 = seed + P2
    v3 = seed
    v4 = seed - P1
    i = 0
    while i + 4 <= n:
        v1 = _round(v1, a[i])
        v2 = _round(v2, a[i + 1])
        v3 = _round(v3, a[i + 2])
        v4 = _round(v4, a[i + 3])
        i += 4
    h = _rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)
    for v in (v1, v2, v3, v4):
        h = (h ^ _round(np.uint64(0), v)) * P1 + P4
    h += np.uint64(8 * (n + b.shape[0]))
    while i < n:
        h = _absorb(h, a[i])
        i += 1
    for j in range(b.shape[0]):
        h = _absorb(h, b[j])
    h ^= h >> np.uint64(33)
    h *= P2
    h ^= h >> np.uint64(29)
    h *= P3
    h ^= h >> np.uint64(32)
    return h


@njit(cache=True)
def input_digests(plane_words: np.ndarray, legal_words: np.ndarray, seeds: np.ndarray, out: np.ndarray) -> None:
    """``out[r]`` ([k, 2] uint64) := two independently seeded 64-bit digests of row r's plane
    words ([k, W] uint64) followed by its legal-mask words ([k, M] uint64)."""
    for r in range(plane_words.shape[0]):
        for lane in range(2):
            out[r, lane] = _xxh64_words(plane_words[r], legal_words[r], seeds[lane])


@njit(cache=True)
def lookup(keys: np.ndarray, table_keys: np.ndarray, stamps: np.ndarray, pending: np.ndarray, clock: int,
           hit_slot: np.ndarray, source: np.ndarray, miss_rows: np.ndarray, miss_slots: np.ndarray) -> int:
    """Look each row's key ([k, 2] uint64) up in the table and reserve an entry for each new one.

    Row r is a hit (``hit_slot[r]`` = its entry, ``source[r]`` = -1), a repeat of a row missed
    earlier in this batch (``source[r]`` = that miss's number), or a new miss (``source[r]`` = its
    number m; ``miss_rows[m]`` = r; ``miss_slots[m]`` = the entry reserved for it, or -1 once a
    later miss of this batch took that entry back). Reserved entries are marked ``pending`` (miss
    number + 1) until ``store`` fills them; every touched entry gets stamp ``clock``. Returns the
    number of misses. Entries: ``table_keys`` [S, 2] uint64, ``stamps`` [S] int64 (0 = empty),
    ``pending`` [S] int32."""
    ways = min(WAYS, stamps.shape[0])
    buckets = np.uint64(stamps.shape[0] // ways)
    m = 0
    for r in range(keys.shape[0]):
        h0, h1 = keys[r, 0], keys[r, 1]
        base = int(h0 % buckets) * ways
        found = -1
        victim = base
        for w in range(ways):
            e = base + w
            if stamps[e] > 0 and table_keys[e, 0] == h0 and table_keys[e, 1] == h1:
                found = e
                break
            if stamps[e] < stamps[victim]:
                victim = e
        if found >= 0:
            stamps[found] = clock
            if pending[found] > 0:
                source[r] = pending[found] - 1
            else:
                source[r] = -1
                hit_slot[r] = found
            continue
        if pending[victim] > 0:
            miss_slots[pending[victim] - 1] = -1
        table_keys[victim, 0] = h0
        table_keys[victim, 1] = h1
        stamps[victim] = clock
        pending[victim] = m + 1
        miss_rows[m] = r
        miss_slots[m] = victim
        source[r] = m
        m += 1
    return m


@njit(cache=True)
def store(table_out: np.ndarray, pending: np.ndarray, hit_slot: np.ndarray, source: np.ndarray,
          miss_slots: np.ndarray, results: np.ndarray, out: np.ndarray) -> None:
    """Fill ``out`` ([k, D] float32): hits from their entries first (a later miss of this batch
    may have reserved the same entry, whose outputs are overwritten only below), then every other
    row from ``results`` ([m, D] float32, one row per miss), which also fill the reserved entries
    of ``table_out`` ([S, D] float32)."""
    for r in range(out.shape[0]):
        if source[r] < 0:
            out[r] = table_out[hit_slot[r]]
    for i in range(miss_slots.shape[0]):
        e = miss_slots[i]
        if e >= 0:
            table_out[e] = results[i]
            pending[e] = 0
    for r in range(out.shape[0]):
        if source[r] >= 0:
            out[r] = results[source[r]]


# ---- orchestration --------------------------------------------------------------------------


@dataclass
class CacheCounters:
    """Counts since the cache was built (clearing the table keeps them)."""

    lookups: int = 0  # rows asked for
    hits: int = 0  # rows answered from the table
    repeats: int = 0  # rows answered by an identical row of the same batch
    evaluated: int = 0  # rows sent to the network

    @property
    def saved(self) -> int:
        """Rows the network did not have to evaluate."""
        return self.hits + self.repeats

    @property
    def hit_rate(self) -> float:
        """Share of rows answered without the network (0 before any lookup)."""
        return self.saved / self.lookups if self.lookups else 0.0


def _words(rows: np.ndarray) -> np.ndarray:
    """``[k, bytes]`` uint8 rows, zero-padded to whole 64-bit words, as ``[k, W]`` uint64."""
    pad = -rows.shape[1] % 8
    if pad:
        rows = np.concatenate([rows, np.zeros((rows.shape[0], pad), np.uint8)], axis=1)
    return np.ascontiguousarray(rows).view(np.uint64)


def digest_inputs(planes: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """``[k, 2] uint64``: the cache keys of ``planes`` ([k, C, n, n] float32) with ``legal`` ([k, A] bool)."""
    k = planes.shape[0]
    plane_bytes = np.ascontiguousarray(planes, dtype=np.float32).reshape(k, -1).view(np.uint8)
    legal_bits = np.packbits(np.ascontiguousarray(legal, dtype=np.bool_), axis=1)
    # The shape goes in as one more word, so inputs of different shapes never share bytes.
    shape = np.broadcast_to(np.array([[planes.shape[1], planes.shape[2], legal.shape[1], 0]], np.uint16).view(np.uint8), (k, 8))
    out = np.zeros((k, 2), np.uint64)
    input_digests(_words(plane_bytes), _words(np.concatenate([shape, legal_bits], axis=1)), SEEDS, out)
    return out


class CachedEvaluator:
    """``inner`` behind a table of at most ``size`` evaluations (``size`` >= 1; the table's rows
    are allocated on the first evaluation, ``size`` x (A + 1 + aux widths) float32)."""

    def __init__(self, inner, size: int) -> None:
        if not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"the evaluation cache needs size >= 1 positions, got {size!r}")
        self.inner = inner
        ways = min(WAYS, int(size))
        self.capacity = int(size) // ways * ways  # entries actually held (size rounded down to whole buckets)
        self.counters = CacheCounters()
        self.table_keys = np.zeros((self.capacity, 2), np.uint64)  # [S, 2]
        self.stamps = np.zeros(self.capacity, np.int64)  # [S] last use, 0 = empty
        self.pending = np.zeros(self.capacity, np.int32)  # [S] reserved for miss number - 1 of the current call
        self.table_out: np.ndarray | None = None  # [S, D] float32 outputs, laid out as ``self.layout``
        self.layout: tuple | None = None  # (A, arity, ((aux name, per-row shape), ...)) of the stored outputs
        self.clock = 0

    @property
    def num_entries(self) -> int:
        """Entries held now."""
        return int(np.count_nonzero(self.stamps))

    def clear(self) -> None:
        """Forget every entry (new weights); counters are kept."""
        self.stamps[:] = 0
        self.pending[:] = 0

    def load_state_dict(self, state_dict) -> None:
        """New weights for ``inner`` (a ``NetworkEvaluator``): its old answers are dropped."""
        self.inner.load_state_dict(state_dict)
        self.clear()

    def __call__(self, planes: np.ndarray, legal: np.ndarray):
        if planes.ndim != 4 or planes.dtype != np.float32 or planes.shape[2] != planes.shape[3]:
            raise ValueError(f"planes must be float32 [B, C, n, n], got {planes.dtype} {planes.shape}")
        k, n = planes.shape[0], planes.shape[2]
        if legal.shape != (k, n * n + 1) or legal.dtype != np.bool_:
            raise ValueError(f"legal must be bool [{k}, {n * n + 1}], got {legal.dtype} {legal.shape}")
        if self.layout is not None and self.layout[0] != legal.shape[1]:
            self.table_out, self.layout = None, None  # another board size: the old entries cannot match
            self.clear()
        if k == 0:
            return self.inner(planes, legal) if self.layout is None else self._unpack(np.zeros((0, self.table_out.shape[1]), np.float32))
        keys = digest_inputs(planes, legal)
        self.clock += 1
        hit_slot = np.zeros(k, np.int64)
        source = np.zeros(k, np.int64)
        miss_rows = np.zeros(k, np.int64)
        miss_slots = np.zeros(k, np.int64)
        try:
            m = lookup(keys, self.table_keys, self.stamps, self.pending, self.clock, hit_slot, source, miss_rows, miss_slots)
            results = self._evaluate(planes, legal, miss_rows[:m])
            out = np.empty((k, self.table_out.shape[1]), np.float32)
            store(self.table_out, self.pending, hit_slot, source, miss_slots[:m], results, out)
        except BaseException:
            self.clear()  # entries reserved for this call hold no outputs
            raise
        hits = int(np.count_nonzero(source < 0))
        c = self.counters
        c.lookups += k
        c.evaluated += m
        c.hits += hits
        c.repeats += k - m - hits
        return self._unpack(out)

    def _evaluate(self, planes: np.ndarray, legal: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``[m, D] float32``: the network's outputs for ``rows``, packed as ``self.layout``."""
        if rows.shape[0] == 0:
            return np.zeros((0, self.table_out.shape[1]), np.float32)
        m, A = rows.shape[0], legal.shape[1]
        # Misses come in row order, so m == k means every row (no copy needed).
        out = self.inner(planes, legal) if m == planes.shape[0] else self.inner(planes[rows], legal[rows])
        aux = out[2] if len(out) > 2 else {}
        layout = (A, len(out), tuple((name, np.shape(v)[1:]) for name, v in sorted(aux.items())))
        if self.layout is None:
            width = A + 1 + sum(int(np.prod(shape)) for _, shape in layout[2])
            self.table_out = np.zeros((self.capacity, width), np.float32)
            self.layout = layout
        elif layout != self.layout:
            raise ValueError(f"the evaluator's outputs changed layout from {self.layout} to {layout}; a cache holds one layout")
        logits, value = np.asarray(out[0]), np.asarray(out[1])
        if logits.shape != (m, A) or value.shape != (m,) or any(np.shape(v)[0] != m for v in aux.values()):
            raise ValueError(f"the evaluator returned logits {logits.shape} and value {value.shape} for a batch of {m}")
        parts = [logits, value[:, None]] + [np.asarray(aux[name]).reshape(m, -1) for name, _ in layout[2]]
        return np.concatenate(parts, axis=1, dtype=np.float32)

    def _unpack(self, out: np.ndarray):
        A, arity, aux_layout = self.layout
        logits, value = out[:, :A], out[:, A]
        if arity == 2:
            return logits, value
        aux, col = {}, A + 1
        for name, shape in aux_layout:
            width = int(np.prod(shape))
            aux[name] = out[:, col : col + width].reshape(out.shape[0], *shape)
            col += width
        return logits, value, aux
