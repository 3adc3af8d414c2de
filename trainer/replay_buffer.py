"""Replay buffer: a growing window over the most recent positions, persisted as one .npz shard per game.

On disk (``directory``): ``<seq:010d>_<end:013d>.npz``, a ``GameRecord`` written atomically, where
``seq`` numbers the shards and ``end`` is the count of positions ever added once this shard was (so
a restart recovers the run's total without any other file). Temp files from a killed writer are
hidden names and are ignored. Reopening the directory reloads the shards that can still be in the
window, so a restart loses nothing that was acknowledged by ``add``.

In memory: a ring of ``max_size`` positions kept packed (bit-packed planes, the policy target, and
the small black-view result fields), about ``K + 4A + n*n + 9`` bytes per position: planes are
unpacked only for the sampled batch.

Opponent's reply (``opponent_policy``, for the network's auxiliary policy): a record's rows are its
game's positions in order, one per move (``selfplay.game_driver``), and sit in consecutive ring
slots, so the reply to the position in slot ``s`` is the policy
target in slot ``s + 1`` (mod the ring), and one flag per slot says whether that next position
is of the same game and had a full search. The next position was stored after its predecessor,
so while a position is held its reply is too; a game's last position has none.

Window: after ``N`` positions have been added, sampling draws uniformly from the newest
``ReplayConfig.window_size(N) = min(N, max_size, base + alpha * N**beta)`` positions (KataGo's
tapered window, in the simpler power-law form).

Board sizes (a board-size curriculum): one ring per size, each position tagged with its place in
the order of all positions, so the one window spans the sizes. A sampled batch holds one size
(the network takes one board side per call): the size asked for once the window holds
``min_positions`` of it, otherwise one drawn in proportion to the sizes' shares of the window.

Duplicates (a game id already stored: Ray delivers at least once) and malformed records are refused
with a logged reason; duplicates are detected against every game loaded or added since opening.
"""

from __future__ import annotations

import logging
import os
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alphazero.atomic_io import is_temp_path
from alphazero.config.trainer import ReplayConfig
from alphazero.game_record import GameRecord, GameRecordError, packed_widths, side_to_move_targets
from go_engine import coords, features
from trainer.augment import augment, random_symmetries, transform_vectors

log = logging.getLogger(__name__)

SHARD_NAME = re.compile(r"^(\d{10})_(\d{13})\.npz$")


def shard_name(seq: int, end: int) -> str:
    return f"{seq:010d}_{end:013d}.npz"


@dataclass(frozen=True)
class Batch:
    """A sampled, augmented training batch (numpy; the learner moves it to the device)."""

    planes: np.ndarray  # [B, C, n, n] float32
    policy: np.ndarray  # [B, A] float32 search target
    full_search: np.ndarray  # [B] bool: policy target counts only where true
    value_wdl: np.ndarray  # [B, 3] float32 one-hot win/loss/draw, side to move's view
    score: np.ndarray  # [B] float32 final margin in points, side to move's view
    ownership: np.ndarray  # [B, n*n] float32 in {-1, 0, 1}, side to move's view
    symmetries: np.ndarray  # [B] int8 symmetry applied to each row
    settled: np.ndarray  # [B] bool: the game ended on the board; score and ownership count only there
    opponent_policy: np.ndarray | None = None  # [B, A] float32 the next position's policy target, same symmetry; 0 where not valid
    opponent_valid: np.ndarray | None = None  # [B] bool: the next position is of the same game and had a full search

    def __len__(self) -> int:
        return int(self.planes.shape[0])


@dataclass(frozen=True)
class _Shard:
    seq: int
    end: int  # positions ever added once this shard was written
    path: Path


class _Ring:
    """The positions of one board size: a ring of ``cap`` packed positions, each with its place in
    the buffer's order of all positions (``order``), so the window can be cut across sizes."""

    def __init__(self, cap: int, n: int, history: int) -> None:
        self.cap, self.n, self.history = cap, n, history
        a = coords.num_actions(n)
        k_bits, s_scalars = packed_widths(n, history)
        # np.zeros maps pages lazily: a large, mostly empty ring costs no resident memory.
        self.bits = np.zeros((cap, k_bits), np.uint8)  # [cap, K]
        self.scalars = np.zeros((cap, s_scalars), np.float32)  # [cap, S]
        self.policy = np.zeros((cap, a), np.float32)  # [cap, A]
        self.full_search = np.zeros(cap, np.bool_)  # [cap]
        self.to_play = np.zeros(cap, np.int8)  # [cap]
        self.outcome = np.zeros(cap, np.int8)  # [cap] black's view
        self.final_score = np.zeros(cap, np.float32)  # [cap] black's view
        self.ownership = np.zeros((cap, n * n), np.int8)  # [cap, n*n] black's view
        self.settled = np.zeros(cap, np.bool_)  # [cap] the game was not resigned
        self.reply_full = np.zeros(cap, np.bool_)  # [cap] slot + 1 holds this game's next position, with a full search
        self.order = np.zeros(cap, np.int64)  # [cap] index of the position among all sizes' stored ones
        self.stored = 0  # positions of this size written since opening (ring slot = index % cap)

    def store(self, record: GameRecord, keep: slice, first: int) -> None:
        count = keep.stop - keep.start
        slots = (self.stored + np.arange(count)) % self.cap  # [count]
        self.bits[slots] = record.planes_bits[keep]
        self.scalars[slots] = record.planes_scalars[keep]
        self.policy[slots] = record.policy[keep]
        self.full_search[slots] = record.full_search[keep]
        self.to_play[slots] = record.to_play[keep]
        self.outcome[slots] = int(record.outcome)
        self.final_score[slots] = record.final_score
        self.ownership[slots] = record.final_ownership
        self.settled[slots] = not record.resigned
        # keep always ends at the game's last position (an oversized game keeps its newest ones).
        self.reply_full[slots] = np.append(record.full_search[keep.start + 1 : keep.stop], False)
        self.order[slots] = first + np.arange(count)
        self.stored += count

    def count_since(self, start: int) -> int:
        """Positions of this size still held whose order is >= ``start`` (the newest ones)."""
        lo, hi = self.stored - min(self.stored, self.cap), self.stored
        end = hi
        while lo < hi:  # first held position at or after start (orders grow with the ring index)
            mid = (lo + hi) // 2
            if self.order[mid % self.cap] >= start:
                hi = mid
            else:
                lo = mid + 1
        return end - lo

    def sample(self, batch_size: int, count: int, rng: np.random.Generator, opponent_policy: bool = False) -> Batch:
        index = rng.integers(self.stored - count, self.stored, size=batch_size)  # [B]
        slots = index % self.cap
        planes = features.unpack_planes(self.bits[slots], self.scalars[slots], self.n, self.history)
        targets = side_to_move_targets(self.to_play[slots], self.outcome[slots], self.final_score[slots], self.ownership[slots])
        syms = random_symmetries(batch_size, rng)
        planes, policy, ownership = augment(planes, self.policy[slots], targets["ownership"], syms)
        reply, valid = None, None
        if opponent_policy:
            valid = self.reply_full[slots]  # [B] (a copy: fancy indexing)
            reply = np.where(valid[:, None], self.policy[(slots + 1) % self.cap], np.float32(0.0))  # [B, A]
            reply = transform_vectors(reply, syms, self.n)
        return Batch(planes, policy, self.full_search[slots].copy(), targets["value_wdl"], targets["score"], ownership, syms,
                     self.settled[slots].copy(), reply, valid)


class ReplayBuffer:
    """Holds one feature history and one or more board sizes (a board-size curriculum's: one ring
    per size, one window over all of them); see the module docstring."""

    def __init__(self, directory: str | os.PathLike, config: ReplayConfig, board_sizes: int | Sequence[int], history: int,
                 opponent_policy: bool = False) -> None:
        """``opponent_policy``: batches carry each position's opponent's reply (see the module
        docstring), for a network with ``aux_policy``."""
        self.directory = Path(directory)
        self.config = config
        self.opponent_policy = opponent_policy
        sizes = (board_sizes,) if isinstance(board_sizes, int) else tuple(board_sizes)
        if not sizes:
            raise ValueError("a replay buffer needs at least one board size")
        self.sizes = tuple(sorted({coords.check_size(int(n)) for n in sizes}))
        self.n = self.sizes[-1]  # the largest (the run's own) size
        self.history = history
        self.directory.mkdir(parents=True, exist_ok=True)
        self._rings = {n: _Ring(config.max_size, n, history) for n in self.sizes}
        self._stored = 0  # positions written into the rings since opening, all sizes
        self.total_seen = 0  # positions ever added over the whole run (drives the window size)
        self._next_seq = 0
        self._shards: deque[_Shard] = deque()
        self._game_ids: set[str] = set()
        self.games_added = 0
        self.duplicates = 0
        self.rejected = 0
        self._reload()

    # ---- public API ------------------------------------------------------------------------
    def window_size(self) -> int:
        """Positions that sampling currently draws from."""
        return min(self.config.window_size(self.total_seen), self._stored)

    def __len__(self) -> int:
        return self.window_size()

    @property
    def ready(self) -> bool:
        return self.window_size() >= self.config.min_positions

    def add(self, record: GameRecord) -> bool:
        """Validate, persist and store a game. Returns False (and logs why) for a duplicate or a
        malformed record; the buffer is unchanged then."""
        reason = self._refusal(record)
        if reason is not None:
            log.warning("replay buffer %s: refused game %r: %s", self.directory, getattr(record, "game_id", "?"), reason)
            return False
        end = self.total_seen + record.num_positions
        path = self.directory / shard_name(self._next_seq, end)
        record.save_npz(path)  # atomic: after this line a restart sees the game
        self._shards.append(_Shard(self._next_seq, end, path))
        self._next_seq += 1
        self.total_seen = end
        self._store(record)
        self._delete_evicted()
        return True

    def add_file(self, path: str | os.PathLike) -> bool:
        """Ingest a record file written by someone else (size-capped and validated on load)."""
        try:
            record = GameRecord.load_npz(path, self.config.max_file_bytes, self.config.max_uncompressed_bytes)
        except GameRecordError as e:
            self.rejected += 1
            log.warning("replay buffer %s: refused file: %s", self.directory, e)
            return False
        return self.add(record)

    def window_by_size(self) -> dict[int, int]:
        """Positions of each board size in the window (they add up to ``window_size()``)."""
        start = self._stored - self.window_size()
        return {n: ring.count_since(start) for n, ring in self._rings.items()}

    def sample(self, batch_size: int, rng: np.random.Generator, board_size: int | None = None) -> Batch:
        """``batch_size`` positions drawn uniformly (with replacement) from the window, each under
        a random one of the 8 board symmetries. A batch holds one board size: ``board_size`` when
        the window holds ``replay.min_positions`` of it, else a size drawn in proportion to the
        sizes' shares of the window (so every position of the window is equally likely)."""
        window = self.window_size()
        if window < self.config.min_positions or window == 0:
            raise ValueError(f"replay buffer holds {window} positions in its window; sampling needs {self.config.min_positions}")
        if board_size is not None and board_size not in self._rings:
            raise ValueError(f"board size {board_size} is not one of this buffer's {list(self.sizes)}")
        counts = self.window_by_size() if len(self.sizes) > 1 else {self.n: window}
        if board_size is not None and counts[board_size] >= max(self.config.min_positions, 1):
            n = board_size
        else:
            held = [m for m in self.sizes if counts[m] > 0]
            if len(held) == 1:
                n = held[0]
            else:
                weights = np.array([counts[m] for m in held], np.float64)
                n = held[int(rng.choice(len(held), p=weights / weights.sum()))]
        return self._rings[n].sample(batch_size, counts[n], rng, self.opponent_policy)

    def stats(self) -> dict:
        return {
            "window": self.window_size(),
            "total_seen": self.total_seen,
            "games_added": self.games_added,
            "games_ever": self._next_seq,  # games stored over the whole run, evicted ones too (shard numbers)
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "shards": len(self._shards),
            "window_by_size": {str(n): c for n, c in self.window_by_size().items()},
        }

    # ---- internals -------------------------------------------------------------------------
    def _refusal(self, record: GameRecord) -> str | None:
        if not isinstance(record, GameRecord):
            self.rejected += 1
            return f"not a GameRecord but {type(record).__name__}"
        try:
            record.validate()
        except GameRecordError as e:
            self.rejected += 1
            return str(e)
        if int(record.board_size) not in self._rings or record.history != self.history:
            self.rejected += 1
            sizes = "/".join(str(n) for n in self.sizes)
            return f"board size {record.board_size} / history {record.history}, this buffer holds {sizes} / {self.history}"
        if record.game_id in self._game_ids:
            self.duplicates += 1
            return "duplicate game id"
        return None

    def _store(self, record: GameRecord) -> None:
        """Copy a validated record's positions into the ring (overwriting the oldest)."""
        t, cap = record.num_positions, self.config.max_size
        if t > cap:  # only the newest positions of an oversized game can fit
            keep = slice(t - cap, t)
        else:
            keep = slice(0, t)
        self._rings[int(record.board_size)].store(record, keep, self._stored)
        self._stored += keep.stop - keep.start
        self._game_ids.add(record.game_id)
        self.games_added += 1

    def _delete_evicted(self) -> None:
        """Forget shards whose every position is older than the largest possible window."""
        horizon = self.total_seen - self.config.max_size
        while len(self._shards) > 1 and self._shards[0].end <= horizon:
            shard = self._shards.popleft()
            if self.config.delete_evicted_shards:
                try:
                    shard.path.unlink()
                except OSError as e:
                    log.warning("replay buffer %s: could not delete %s: %s", self.directory, shard.path, e)

    def _reload(self) -> None:
        found: list[_Shard] = []
        temps = 0
        for path in self.directory.iterdir():
            match = SHARD_NAME.match(path.name)
            if match:
                found.append(_Shard(int(match.group(1)), int(match.group(2)), path))
            elif is_temp_path(path):
                temps += 1  # a writer was killed mid-write: the game was never acknowledged
        if temps:
            log.info("replay buffer %s: ignoring %d leftover temp file(s)", self.directory, temps)
        if not found:
            return
        found.sort(key=lambda s: s.seq)
        self.total_seen = max(s.end for s in found)
        self._next_seq = found[-1].seq + 1
        horizon = self.total_seen - self.config.max_size
        for shard in found:
            if shard.end <= horizon and shard is not found[-1]:
                continue  # entirely outside any possible window
            try:
                record = GameRecord.load_npz(shard.path, self.config.max_file_bytes, self.config.max_uncompressed_bytes)
            except GameRecordError as e:
                self.rejected += 1
                log.warning("replay buffer %s: skipping unreadable shard: %s", self.directory, e)
                continue
            reason = self._refusal(record)
            if reason is not None:
                log.warning("replay buffer %s: skipping shard %s: %s", self.directory, shard.path.name, reason)
                continue
            self._shards.append(shard)
            self._store(record)
