"""Game record: the schema self-play writes and the trainer reads (one game, T positions, as .npz).

Schema (``A = n*n + 1`` actions, pass last; ``T`` recorded positions; ``M`` moves played)::

    game_id                str      unique id, 1..64 printable chars (dedup key for at-least-once delivery)
    board_size             int      n, 2..19
    komi                   float    equal to the komi inside ``rules``
    rules                  str      JSON of go_engine.rules.Rules.to_dict(): the rules this game was
                                    played under (each self-play game draws its own from the mix)
    model_version          int      weights version the game was played with (>= 0)
    history                int      feature history length k (C = features.num_planes(k, feature_version))
    feature_version        int      go_engine.features layout of the planes (schema 2: always 2)
    planes_bits            [T, K] uint8    features.pack_planes(planes)[0]
    planes_scalars         [T, S] float32  features.pack_planes(planes)[1]
    policy                 [T, A] float32  search target; rows sum to 1 (an all-zero row is allowed
                                           where full_search is false)
    full_search            [T] bool        the policy target is trained on only where true
    search_value           [T] float32     root value in [-1, 1], side to move's view
    to_play                [T] int8        1 black, 2 white
    outcome                float    +1 black won, -1 white won, 0 draw
    final_score            float    black's count by the game's rules (go_engine.scoring.count_row:
                                    area, or territory + prisoners; tax; minus komi and bonus); its
                                    sign agrees with outcome unless the game was resigned
    final_ownership        [n*n] int8      +1 black, -1 white, 0 neither, at the end of the game
                                           (points counted for a colour, and the stones standing)
    moves                  [M] int16       every action played, in order (for SGF)
    resigned               bool
    resign_false_positive  int8     -1 unknown / not a no-resign game; 1 if the side that would
                                    have resigned went on to win, else 0

Schema 2 added ``feature_version`` (rules planes, feature version 2); records of schema 1 hold
version-1 planes (another layout) and are refused by name, never mixed with version-2 ones.

On disk: ``np.savez_compressed`` with exactly these names plus ``schema_version``; strings are
numpy unicode arrays and scalars 0-d arrays, so ``allow_pickle=False`` reads everything. Writes
are atomic; ``load_npz`` checks sizes before parsing, then keys, dtypes, shapes and value ranges.

Training targets for value, ownership and score come from ``outcome``/``final_*`` turned to the
side to move's view by ``side_to_move_targets`` (the only place that does so).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alphazero.atomic_io import atomic_writer
from go_engine import coords, features
from go_engine.board import BLACK, WHITE, default_capacity
from go_engine.rules import Rules, check_komi

SCHEMA_VERSION = 2
MAX_GAME_ID_CHARS = 64
MAX_RULES_CHARS = 1024
MAX_HISTORY = 64
POLICY_SUM_TOLERANCE = 1e-3
DEFAULT_MAX_FILE_BYTES = 64 << 20
DEFAULT_MAX_UNCOMPRESSED_BYTES = 256 << 20


class GameRecordError(ValueError):
    """A record breaks the schema; the message says which field and how."""


def max_positions(n: int) -> int:
    """Cap on T and M: twice the engine's default move cap, plus one (a bound for the validator, far
    beyond any game the engine plays)."""
    return 2 * default_capacity(n) + 1


@dataclass(frozen=True, eq=False)
class GameRecord:
    """One self-play game; see the module docstring for every field's meaning and shape."""

    game_id: str
    board_size: int
    komi: float
    rules: str
    model_version: int
    history: int
    feature_version: int
    planes_bits: np.ndarray  # [T, K] uint8
    planes_scalars: np.ndarray  # [T, S] float32
    policy: np.ndarray  # [T, A] float32
    full_search: np.ndarray  # [T] bool
    search_value: np.ndarray  # [T] float32
    to_play: np.ndarray  # [T] int8
    outcome: float
    final_score: float
    final_ownership: np.ndarray  # [n*n] int8
    moves: np.ndarray  # [M] int16
    resigned: bool
    resign_false_positive: int

    @property
    def num_positions(self) -> int:
        return int(self.policy.shape[0])

    # ---- validation --------------------------------------------------------------------------
    def validate(self) -> "GameRecord":
        """Raise ``GameRecordError`` naming the first broken rule; return ``self`` when valid."""
        n = _check_scalars(self)
        _check_result(self, n)
        _check_shapes(self, n)
        _check_values(self)
        return self

    # ---- targets ----------------------------------------------------------------------------
    def training_targets(self) -> dict[str, np.ndarray]:
        """Value/score/ownership targets of every position, side to move's view."""
        return side_to_move_targets(self.to_play, self.outcome, self.final_score, self.final_ownership)

    def planes(self) -> np.ndarray:
        """``[T, C, n, n] float32`` unpacked feature planes."""
        return features.unpack_planes(self.planes_bits, self.planes_scalars, self.board_size, self.history, self.feature_version)

    # ---- npz ----------------------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "schema_version": np.asarray(SCHEMA_VERSION, np.int64),
            "game_id": np.asarray(self.game_id, dtype=f"<U{MAX_GAME_ID_CHARS}"),
            "board_size": np.asarray(self.board_size, np.int64),
            "komi": np.asarray(self.komi, np.float64),
            "rules": np.asarray(self.rules, dtype=f"<U{MAX_RULES_CHARS}"),
            "model_version": np.asarray(self.model_version, np.int64),
            "history": np.asarray(self.history, np.int64),
            "feature_version": np.asarray(self.feature_version, np.int64),
            "planes_bits": self.planes_bits,
            "planes_scalars": self.planes_scalars,
            "policy": self.policy,
            "full_search": self.full_search,
            "search_value": self.search_value,
            "to_play": self.to_play,
            "outcome": np.asarray(self.outcome, np.float64),
            "final_score": np.asarray(self.final_score, np.float64),
            "final_ownership": self.final_ownership,
            "moves": self.moves,
            "resigned": np.asarray(self.resigned, np.bool_),
            "resign_false_positive": np.asarray(self.resign_false_positive, np.int8),
        }

    def save_npz(self, path: str | os.PathLike) -> None:
        """Validate, then write atomically (temp file in the same directory + rename)."""
        self.validate()
        arrays = self.to_arrays()
        with atomic_writer(path) as f:
            np.savez_compressed(f, **arrays)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], where: str = "record") -> "GameRecord":
        """Build and validate a record from named arrays (as ``to_arrays`` makes them)."""
        names = {f.name for f in dataclasses.fields(cls)}
        version = arrays.get("schema_version")
        if version is not None and version.shape == () and version.dtype.kind in "iu" and int(version) == 1:
            raise GameRecordError(f"{where}: a record of schema 1 (feature version 1 planes, 2k+10 of them); this code "
                                  f"trains on feature version {features.FEATURE_VERSION} (schema {SCHEMA_VERSION}) and does not mix "
                                  "the layouts: start a new run (or a new replay directory) for it")
        if version is not None and (version.shape != () or version.dtype.kind not in "iu" or int(version) != SCHEMA_VERSION):
            raise GameRecordError(f"{where}: schema_version {version!r} is not {SCHEMA_VERSION}")
        missing = sorted(names - set(arrays))
        unknown = sorted(set(arrays) - names - {"schema_version"})
        if missing:
            raise GameRecordError(f"{where}: missing arrays {missing}")
        if unknown:
            raise GameRecordError(f"{where}: unknown arrays {unknown}")
        scalar_kinds = {
            "game_id": "U", "board_size": "iu", "komi": "fi", "rules": "U", "model_version": "iu", "history": "iu", "feature_version": "iu",
            "outcome": "fi", "final_score": "fi", "resigned": "b", "resign_false_positive": "iu",
        }  # fmt: skip
        values: dict[str, Any] = {}
        for name, kinds in scalar_kinds.items():
            arr = arrays[name]
            if arr.shape != () or arr.dtype.kind not in kinds:
                raise GameRecordError(f"{where}: {name} must be a scalar of kind {kinds!r}, got {arr.dtype} {arr.shape}")
            values[name] = arr.item()
        values["komi"], values["outcome"], values["final_score"] = (float(values[k]) for k in ("komi", "outcome", "final_score"))
        values["resigned"] = bool(values["resigned"])
        for name in names - set(scalar_kinds):
            values[name] = arrays[name]
        try:
            return cls(**values).validate()
        except GameRecordError as e:
            raise GameRecordError(f"{where}: {e}") from None

    @classmethod
    def load_npz(
        cls,
        path: str | os.PathLike,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    ) -> "GameRecord":
        """Read a record written by ``save_npz``; sizes are checked before anything is parsed."""
        path = Path(path)
        try:
            size = path.stat().st_size
        except OSError as e:
            raise GameRecordError(f"{path}: cannot read ({e.strerror})") from None
        if size > max_file_bytes:
            raise GameRecordError(f"{path}: {size} bytes exceeds the limit of {max_file_bytes}")
        try:
            with zipfile.ZipFile(path) as zf:
                infos = zf.infolist()
                total = sum(info.file_size for info in infos)
                if total > max_uncompressed_bytes:
                    raise GameRecordError(f"{path}: {total} bytes uncompressed exceeds the limit of {max_uncompressed_bytes}")
                if len(infos) > 64:
                    raise GameRecordError(f"{path}: {len(infos)} members is not a game record")
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except GameRecordError:
            raise
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
            raise GameRecordError(f"{path}: not a readable .npz game record ({type(e).__name__}: {e})") from None
        return cls.from_arrays(arrays, str(path))


# ---- validation (``GameRecord.validate``, in its order: the first broken rule is the one named) -----


def _fail(record: GameRecord, message: str) -> GameRecordError:
    return GameRecordError(f"game {record.game_id!r}: {message}" if isinstance(record.game_id, str) else message)


def _check_scalars(record: GameRecord) -> int:
    """The id, the integer and bool fields and the finite numbers; returns the board size."""
    gid = record.game_id
    if not isinstance(gid, str) or not 1 <= len(gid) <= MAX_GAME_ID_CHARS or not gid.isprintable():
        raise GameRecordError(f"game_id must be 1..{MAX_GAME_ID_CHARS} printable characters, got {gid!r:.80}")
    for name in ("board_size", "model_version", "history", "feature_version", "resign_false_positive"):
        value = getattr(record, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise _fail(record, f"{name} must be an integer, got {value!r}")
    try:
        n = coords.check_size(int(record.board_size))
    except ValueError as e:
        raise _fail(record, str(e)) from None
    if record.model_version < 0:
        raise _fail(record, f"model_version must be >= 0, got {record.model_version}")
    if not 1 <= record.history <= MAX_HISTORY:
        raise _fail(record, f"history must be in [1, {MAX_HISTORY}], got {record.history}")
    if record.feature_version != features.FEATURE_VERSION:
        raise _fail(record, f"feature_version {record.feature_version}: this code trains on feature version "
                              f"{features.FEATURE_VERSION} only (older planes have another layout)")
    if record.resign_false_positive not in (-1, 0, 1):
        raise _fail(record, f"resign_false_positive must be -1, 0 or 1, got {record.resign_false_positive}")
    if not isinstance(record.resigned, (bool, np.bool_)):
        raise _fail(record, f"resigned must be a bool, got {record.resigned!r}")
    for name in ("komi", "outcome", "final_score"):
        value = getattr(record, name)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(value):
            raise _fail(record, f"{name} must be a finite number, got {value!r}")
    try:
        check_komi(record.komi)
    except ValueError as e:
        raise _fail(record, str(e)) from None
    return n


def _check_result(record: GameRecord, n: int) -> None:
    """The rules (and their komi), the outcome and a final score possible on the board."""
    if not isinstance(record.rules, str) or len(record.rules) > MAX_RULES_CHARS:
        raise _fail(record, f"rules must be a JSON string of at most {MAX_RULES_CHARS} chars")
    try:
        rules = Rules.from_dict(json.loads(record.rules))
    except (ValueError, TypeError, AttributeError) as e:
        raise _fail(record, f"rules is not a valid Rules JSON ({e})") from None
    if rules.komi != record.komi:
        raise _fail(record, f"komi {record.komi} differs from the rules' komi {rules.komi}")
    if record.outcome not in (-1, 0, 1):
        raise _fail(record, f"outcome must be +1, -1 or 0, got {record.outcome}")
    moves_played = record.moves.shape[0] if isinstance(record.moves, np.ndarray) else 0
    # Prisoners are at most the stones played (plus 9 handicap stones); the bonus at most 9.
    bound = n * n + abs(record.komi) + (moves_played + 18 if rules.is_territory else 9)
    if abs(record.final_score) > bound:
        raise _fail(record, f"final_score {record.final_score} is impossible on {n}x{n} with komi {record.komi} after {moves_played} moves")
    if not record.resigned and record.outcome != np.sign(record.final_score):
        raise _fail(record, f"outcome {record.outcome} disagrees with final_score {record.final_score} in a game that was not resigned")


def _check_shapes(record: GameRecord, n: int) -> None:
    """Every array's dtype and shape (``T`` from the policy), and the moves."""
    t = record.num_positions if isinstance(record.policy, np.ndarray) and record.policy.ndim == 2 else -1
    if not 1 <= t <= max_positions(n):
        raise _fail(record, f"policy must be [T, A] with 1 <= T <= {max_positions(n)}, got {getattr(record.policy, 'shape', None)}")
    a = coords.num_actions(n)
    k_bits, s_scalars = packed_widths(n, record.history)
    shapes = {
        "planes_bits": ((t, k_bits), np.uint8),
        "planes_scalars": ((t, s_scalars), np.float32),
        "policy": ((t, a), np.float32),
        "full_search": ((t,), np.bool_),
        "search_value": ((t,), np.float32),
        "to_play": ((t,), np.int8),
        "final_ownership": ((n * n,), np.int8),
    }
    for name, (shape, dtype) in shapes.items():
        arr = getattr(record, name)
        if not isinstance(arr, np.ndarray) or arr.dtype != dtype or arr.shape != shape:
            got = f"{arr.dtype} {arr.shape}" if isinstance(arr, np.ndarray) else type(arr).__name__
            raise _fail(record, f"{name} must be {np.dtype(dtype)} {shape}, got {got}")
    moves = record.moves
    if not isinstance(moves, np.ndarray) or moves.dtype != np.int16 or moves.ndim != 1 or moves.shape[0] > max_positions(n):
        raise _fail(record, f"moves must be int16 [M] with M <= {max_positions(n)}, got {getattr(moves, 'dtype', None)} {getattr(moves, 'shape', None)}")
    if moves.size and (moves.min() < 0 or moves.max() >= a):
        raise _fail(record, f"moves must be actions in [0, {a}), got range [{moves.min()}, {moves.max()}]")
    if t > moves.shape[0] + 1:
        raise _fail(record, f"{t} positions recorded but only {moves.shape[0]} moves played")


def _check_values(record: GameRecord) -> None:
    """The arrays' values: finite, policy rows normalised, values and colours in range."""
    if not np.isfinite(record.planes_scalars).all():
        raise _fail(record, "planes_scalars contains NaN or inf")
    policy = record.policy
    if not np.isfinite(policy).all():
        raise _fail(record, "policy contains NaN or inf")
    if (policy < 0).any():
        raise _fail(record, "policy has negative entries")
    sums = policy.sum(axis=1, dtype=np.float64)  # [T]
    normalised = np.abs(sums - 1.0) <= POLICY_SUM_TOLERANCE
    ok = normalised | (~record.full_search & (sums == 0))  # [T]
    if not ok.all():
        bad = int(np.flatnonzero(~ok)[0])
        raise _fail(record, f"policy row {bad} sums to {sums[bad]:.6f}, not 1")
    if not np.isfinite(record.search_value).all() or (np.abs(record.search_value) > 1.0).any():
        raise _fail(record, "search_value must be finite and in [-1, 1]")
    if not np.isin(record.to_play, (BLACK, WHITE)).all():
        raise _fail(record, f"to_play must be {BLACK} (black) or {WHITE} (white)")
    if not np.isin(record.final_ownership, (-1, 0, 1)).all():
        raise _fail(record, "final_ownership must be -1, 0 or +1")


def packed_widths(n: int, history: int) -> tuple[int, int]:
    """(K, S): widths of ``planes_bits`` and ``planes_scalars`` for board side n and history k."""
    bits, scalars = features.pack_planes(np.zeros((1, features.num_planes(history), n, n), np.float32))
    return bits.shape[1], scalars.shape[1]


def side_to_move_targets(to_play: np.ndarray, outcome: Any, final_score: Any, final_ownership: np.ndarray) -> dict[str, np.ndarray]:
    """Turn black-view results into side-to-move targets.

    ``to_play`` [T] int8 (1 black, 2 white); ``outcome`` and ``final_score`` scalars or [T]
    (black's view); ``final_ownership`` [n*n] or [T, n*n] (+1 black). Returns
    ``value_wdl`` [T, 3] float32 one-hot (win, loss, draw), ``score`` [T] float32 (points, mover
    minus opponent) and ``ownership`` [T, n*n] float32 (+1 = the mover owns the point).
    """
    sign = np.where(np.asarray(to_play) == BLACK, 1.0, -1.0).astype(np.float32)  # [T]
    z = sign * np.asarray(outcome, np.float32)  # [T] mover's result
    wdl = np.stack([z > 0, z < 0, z == 0], axis=-1).astype(np.float32)  # [T, 3]
    score = (sign * np.asarray(final_score, np.float32)).astype(np.float32)  # [T]
    ownership = sign[:, None] * np.asarray(final_ownership, np.float32)  # [T, n*n]
    return {"value_wdl": wdl, "score": score, "ownership": ownership.astype(np.float32)}
