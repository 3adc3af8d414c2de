"""Arena players named by command-line specs: uniform random, raw network, network + MCTS, any GTP engine.

Specs (an optional ``NAME=`` prefix renames the player)::

    random                      uniform over legal moves that do not fill an own simple eye
    raw:PATH                    the network alone: argmax of its policy over legal moves
    mcts:PATH[@VISITS|@SECs][:default-puct]
                                the network with search: by default the run's own self-play search
                                (see below); ``@VISITS`` replaces the budget only, ``@2.5s`` searches
                                2.5 seconds per move (PUCT only); ``:default-puct`` plays the built-in
                                default search instead (PUCT, ``SearchConfig()`` constants, 200 visits)
    gnugo:LEVEL                 GNU Go 0..10 with the match's rules (the reference anchor)
    gtp:COMMAND LINE            any GTP engine, e.g. ``gtp:gnugo --mode gtp --level 1`` or
                                ``gtp:python -m alphazero.cli gtp --checkpoint DIR --visits 32``
                                (a bare ``python`` is the interpreter running the arena, a bare
                                ``gnugo`` is found by ``find_gnugo``)

PATH is a checkpoint directory (``model.json`` + ``model.safetensors``) or a run directory, which
names its newest ``models/<generation>``. In-process players read the referee's ``BoardHistory``;
GTP players keep their own board in step through ``play`` commands.

The search of ``mcts:``: a checkpoint of a run (``RUN/models/<generation>`` with ``RUN/config.json``)
searches as that run's self-play did, so that the gauntlet and the IDA meter measure the amplifier
that produced the training targets: the run's ``search`` section (PUCT or Gumbel, c constants,
first-play urgency, considered actions) at its ``search.simulations`` budget. Play drops what only
exists to explore in self-play: Dirichlet noise and forced playouts (PUCT), the Gumbel noise of the
root (Gumbel). Gumbel play is then deterministic sequential halving over the ``gumbel_considered``
actions of highest prior, ranked by log prior + sigma(completed Q), the survivor played: the
evaluation policy of mctx's ``gumbel_muzero_policy`` (gumbel scale 0), and the cheap searches of
our own self-play. A checkpoint with no run config (a bare directory) searches with the defaults:
PUCT, ``SearchConfig()`` constants, 200 visits.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from alphazero.checkpoint import META_FILE, CheckpointError, read_meta
from alphazero.config.base import ConfigError
from alphazero.config.search import SearchConfig
from alphazero.gtp.resign import RESIGN_WINRATE, hopeless, report_is_hopeless
from alphazero.gtp_client import (
    GNUGO_MAX_LEVEL,
    GtpEngine,
    GtpEngineDied,
    GtpEngineFailure,
    GtpError,
    GtpTimeout,
    find_gnugo,
    gnugo_command,
)
from go_engine import board as B
from go_engine import coords
from go_engine import features as F
from go_engine.history import BoardHistory
from go_engine.rules import Rules

RESIGN = -1  # genmove's answer for a resignation (actions are >= 0)
DEFAULT_VISITS = 200  # mcts budget of a checkpoint without a run config, and of ``:default-puct``
DEFAULT_PUCT = ":default-puct"  # mcts spec suffix: the built-in default search, not the run's
RUN_CONFIG = "config.json"  # in the run directory, two levels above models/<generation>
STARTUP_TIMEOUT_S = 120.0  # first command and first genmove of a fresh engine (imports, JIT compilation)
KINDS = ("random", "raw", "mcts", "gnugo", "gtp")
_NAME_PREFIX = re.compile(r"^([A-Za-z0-9_.+-]+)=(?=(random$|raw:|mcts:|gnugo:|gtp:))")
_BUDGET = re.compile(r"^(?:(\d+)|(\d+(?:\.\d*)?|\.\d+)s)$")


class SpecError(ValueError):
    """A player spec that cannot be used; the message names the spec and the problem."""


class Forfeit(Exception):
    """The player lost the game by breaking it: ``reason`` is illegal, timeout, crash, protocol,
    refused (would not accept a legal move) or error (answered ``?`` to genmove)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# ---- specs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlayerSpec:
    """A parsed spec: plain data (sent as JSON to worker processes, which build the player)."""

    kind: str  # one of KINDS
    name: str
    path: str = ""  # resolved checkpoint directory (raw, mcts)
    visits: int = 0  # mcts visits per move (when seconds is None)
    seconds: float | None = None  # mcts seconds per move
    level: int = 0  # gnugo
    argv: tuple[str, ...] = ()  # gtp
    text: str = ""  # the spec as given
    # mcts: the SearchConfig (as a dict) the player plays with, resolved when the spec is parsed
    # (the run's self-play search without its noise, or the defaults), so a match records it.
    search: dict | None = field(default=None, hash=False)
    search_from: str = ""  # mcts: the run config.json it came from, or "" for the defaults

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["argv"] = list(self.argv)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "PlayerSpec":
        return cls(**{**data, "argv": tuple(data.get("argv", ()))})

    def with_name(self, name: str) -> "PlayerSpec":
        return dataclasses.replace(self, name=name)


def list_generations(run_dir: str | Path) -> list[tuple[int, Path]]:
    """``(generation, checkpoint dir)`` of every ``models/<integer>/`` holding a ``model.json``,
    ascending; both ``000003`` and ``3`` are accepted, a generation named twice is an error."""
    models = Path(run_dir) / "models"
    if not models.is_dir():
        raise SpecError(f"{run_dir}: not a run directory (no models/ folder)")
    found: dict[int, Path] = {}
    for p in models.iterdir():
        if p.is_dir() and p.name.isdigit() and (p / META_FILE).is_file():
            g = int(p.name)
            if g in found:
                raise SpecError(f"{models}: generation {g} appears twice ({found[g].name} and {p.name})")
            found[g] = p
    return sorted(found.items())


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory as given, or a run directory's newest generation; metadata checked."""
    p = Path(path).expanduser()
    if not p.exists():
        raise SpecError(f"{path}: no such checkpoint or run directory")
    if not (p / META_FILE).is_file():
        if not (p / "models").is_dir():
            raise SpecError(f"{path}: neither a checkpoint (no {META_FILE}) nor a run directory (no models/)")
        generations = list_generations(p)
        if not generations:
            raise SpecError(f"{path}: the run directory has no checkpoint under models/<generation>/ yet")
        p = generations[-1][1]
    try:
        read_meta(p)
    except CheckpointError as e:
        raise SpecError(f"{path}: {e}") from None
    return p.resolve()


def run_config_path(checkpoint: Path) -> Path | None:
    """``RUN/config.json`` of a checkpoint at ``RUN/models/<generation>``, None if there is none."""
    if checkpoint.parent.name != "models":
        return None
    path = checkpoint.parent.parent / RUN_CONFIG
    return path if path.is_file() else None


def read_run_search(config_path: Path) -> SearchConfig:
    """The ``search`` section of a run's ``config.json`` (missing keys keep their defaults)."""
    try:
        data = json.loads(Path(config_path).read_text())
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        return SearchConfig.from_dict(data.get("search", {}), "search")
    except (OSError, ValueError, ConfigError) as e:
        raise SpecError(f"{config_path}: cannot read the run's search config ({e})") from None


def engine_search_config(checkpoint: str | Path | None) -> SearchConfig:
    """The search ``alphazero gtp`` and ``alphazero analysis`` play a checkpoint with: the default
    constants, with the score utility of the checkpoint's run (``RUN/config.json`` of
    ``RUN/models/<generation>``) when it has one, so a network trained with a score utility plays
    with it. SpecError when that file cannot be read."""
    config_path = run_config_path(Path(checkpoint)) if checkpoint else None
    if config_path is None:
        return SearchConfig()
    return SearchConfig().with_score_utility_of(read_run_search(config_path))


def play_search_config(search: SearchConfig, visits: int | None) -> SearchConfig:
    """A self-play search as a player plays it: no Dirichlet noise, no forced playouts (Gumbel
    play draws no root noise either: players search with ``full_search=False``), and
    ``visits`` simulations when the budget is in visits."""
    return dataclasses.replace(search, dirichlet_epsilon=0.0, forced_playouts_k=0.0,
                               simulations=visits if visits is not None else search.simulations)


def describe_search(spec: PlayerSpec) -> str:
    """One line on an mcts spec's search, e.g. ``Gumbel (8 considered), 16 visits, from RUN/config.json``
    (``... with score utility (static 0.1, dynamic 0.3), ...`` when it has one)."""
    if spec.kind != "mcts":
        return spec.kind
    search = SearchConfig.from_dict(spec.search) if spec.search is not None else SearchConfig()
    kind = (f"Gumbel ({search.gumbel_considered} considered)" if search.gumbel
            else f"PUCT (c_puct_init {search.c_puct_init:g})")
    if search.uses_score_utility:
        kind += (f" with score utility (static {search.static_score_utility_factor:g}, "
                 f"dynamic {search.dynamic_score_utility_factor:g})")
    budget = f"{spec.seconds:g} s per move" if spec.seconds is not None else f"{spec.visits} visits"
    return f"{kind}, {budget}, " + (f"from {spec.search_from}" if spec.search_from else "the default search")


def checkpoint_label(path: Path) -> str:
    """``<run>/g<gen>`` for a run's checkpoint, else the directory name."""
    if path.parent.name == "models" and path.name.isdigit():
        return f"{path.parent.parent.name}/g{int(path.name)}"
    return path.name


def _resolve_executable(argv: list[str], text: str) -> list[str]:
    exe = argv[0]
    if exe in ("python", "python3"):
        return [sys.executable, *argv[1:]]  # the interpreter (and so the environment) running the arena
    if exe == "gnugo":
        found = find_gnugo()
        if found is None:
            raise SpecError(f"{text!r}: GNU Go is not installed (no gnugo on PATH or in /usr/games)")
        return [found, *argv[1:]]
    if "/" in exe:
        if not Path(exe).is_file():
            raise SpecError(f"{text!r}: no executable {exe}")
        return argv
    if shutil.which(exe) is None:
        raise SpecError(f"{text!r}: executable {exe!r} not found on PATH")
    return argv


def parse_spec(text: str) -> PlayerSpec:
    """Parse and check a player spec (see the module docstring); raises ``SpecError``."""
    if not isinstance(text, str) or not text.strip():
        raise SpecError("empty player spec; use random, raw:PATH, mcts:PATH[@VISITS][:default-puct], gnugo:LEVEL or gtp:COMMAND")
    raw = text.strip()
    name = None
    m = _NAME_PREFIX.match(raw)
    if m:
        name, raw = m.group(1), raw[m.end():]
    kind, sep, rest = raw.partition(":")
    if kind == "random" and not sep:
        spec = PlayerSpec("random", "random")
    elif kind in ("raw", "mcts") and sep:
        budget = None
        forced_default = False
        if kind == "mcts":
            # The suffix may follow the budget (mcts:P@64:default-puct) or precede it.
            if rest.endswith(DEFAULT_PUCT):
                rest, forced_default = rest[: -len(DEFAULT_PUCT)], True
            if "@" in rest:
                head, _, tail = rest.rpartition("@")
                if not _BUDGET.match(tail):
                    raise SpecError(f"{text!r}: search budget {tail!r} is neither visits (@64) nor seconds (@2.5s)")
                rest, budget = head, tail
            if not forced_default and rest.endswith(DEFAULT_PUCT):
                rest, forced_default = rest[: -len(DEFAULT_PUCT)], True
        if not rest:
            raise SpecError(f"{text!r}: missing checkpoint or run directory after '{kind}:'")
        path = resolve_checkpoint(rest)
        label = checkpoint_label(path)
        if kind == "raw":
            spec = PlayerSpec("raw", f"raw:{label}", path=str(path))
        else:
            spec = _mcts_spec(text, path, label, budget, forced_default)
    elif kind == "gnugo" and sep:
        if not rest.isdigit() or not 0 <= int(rest) <= GNUGO_MAX_LEVEL:
            raise SpecError(f"{text!r}: GNU Go level must be an integer in [0, {GNUGO_MAX_LEVEL}]")
        if find_gnugo() is None:
            raise SpecError(f"{text!r}: GNU Go is not installed (no gnugo on PATH or in /usr/games)")
        spec = PlayerSpec("gnugo", f"gnugo-l{int(rest)}", level=int(rest))
    elif kind == "gtp" and sep:
        try:
            argv = shlex.split(rest)
        except ValueError as e:
            raise SpecError(f"{text!r}: cannot split the command line ({e})") from None
        if not argv:
            raise SpecError(f"{text!r}: missing command line after 'gtp:'")
        argv = _resolve_executable(argv, text)
        spec = PlayerSpec("gtp", f"gtp:{rest.strip()}", argv=tuple(argv))
    else:
        raise SpecError(f"unknown player spec {text!r}; use random, raw:PATH, mcts:PATH[@VISITS][:default-puct], gnugo:LEVEL or gtp:COMMAND")
    return dataclasses.replace(spec, name=name or spec.name, text=text.strip())


def _mcts_spec(text: str, path: Path, label: str, budget: str | None, forced_default: bool) -> PlayerSpec:
    """An mcts spec: the run's self-play search (or the defaults) with the budget given, if any."""
    config_path = None if forced_default else run_config_path(path)
    search = read_run_search(config_path) if config_path is not None else SearchConfig()
    visits, seconds = (search.simulations if config_path is not None else DEFAULT_VISITS), None
    if budget is not None:
        bm = _BUDGET.match(budget)
        if bm.group(1) is not None:
            visits = int(bm.group(1))
        else:
            seconds = float(bm.group(2))
        if visits < 1 or (seconds is not None and seconds <= 0):
            raise SpecError(f"{text!r}: the search budget must be positive")
    if seconds is not None and search.gumbel:
        raise SpecError(f"{text!r}: {config_path} self-plays with Gumbel search, whose sequential halving needs its "
                        f"visit count in advance: give @VISITS, or add {DEFAULT_PUCT} for a PUCT search on a time budget")
    shown = f"{seconds:g}s" if seconds is not None else str(visits)
    play = play_search_config(search, visits if seconds is None else None)
    return PlayerSpec("mcts", f"mcts:{label}@{shown}" + (DEFAULT_PUCT if forced_default else ""), path=str(path),
                      visits=visits, seconds=seconds, search=play.to_dict(),
                      search_from=str(config_path) if config_path is not None else "")


# ---- players -----------------------------------------------------------------------------------


class Player(Protocol):
    name: str
    history: int  # feature history the player reads from the referee's game (1 if none)

    def new_game(self, game: BoardHistory, seed: int) -> None:
        """A fresh game (empty board of ``game.size`` under ``game.rules``) starts."""

    def genmove(self, game: BoardHistory, colour: int) -> int:
        """An action for ``colour`` to play in ``game`` (not yet played), or ``RESIGN``; raises ``Forfeit``."""

    def observe(self, colour: int, action: int) -> None:
        """A move this player did not choose was played (the opponent's, or an opening move)."""

    def close(self) -> None:
        """Release processes and memory."""


class RandomPlayer:
    """Uniform over legal moves except filling an own simple eye; passes when nothing else is left."""

    history = 1

    def __init__(self, name: str = "random") -> None:
        self.name = name
        self.rng = np.random.default_rng(0)

    def new_game(self, game: BoardHistory, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def genmove(self, game: BoardHistory, colour: int) -> int:
        return random_move(game, colour, self.rng)

    def observe(self, colour: int, action: int) -> None:
        pass

    def close(self) -> None:
        pass


def random_move(game: BoardHistory, colour: int, rng: np.random.Generator) -> int:
    n = game.size
    points = coords.action_points(n)
    candidates = [int(a) for a in game.legal_actions(colour)
                  if a != n * n and not B.is_own_eye_row(game.state, 0, int(points[a]), colour)]
    return candidates[int(rng.integers(len(candidates)))] if candidates else n * n


class RawNetworkPlayer:
    """The network's policy alone: the legal move with the highest logit, no search."""

    def __init__(self, name: str, evaluator, history: int, feature_version: int = F.FEATURE_VERSION) -> None:
        self.name, self.evaluator, self.history = name, evaluator, history
        self.feature_version = feature_version

    def new_game(self, game: BoardHistory, seed: int) -> None:
        pass

    def genmove(self, game: BoardHistory, colour: int) -> int:
        state = game.position_for(colour)
        planes = F.encode(state, game.rules, history=self.history, version=self.feature_version)  # [1, C, n, n]
        legal = B.legal_mask(state, game.rules)  # [1, A]
        logits, _, _ = self.evaluator(planes, legal)
        return int(np.argmax(np.where(legal[0], logits[0], -np.inf)))

    def observe(self, colour: int, action: int) -> None:
        pass

    def close(self) -> None:
        pass


class SearchNetworkPlayer:
    """The network with PUCT MCTS (``alphazero.gtp.search_player``): a visit or time budget per
    move, the lower-confidence-bound choice, the tree kept between moves when the config reuses
    trees; resigns like ``alphazero gtp`` when both the root and the best move look hopeless."""

    def __init__(self, name: str, search_player, seconds: float | None = None, resign_winrate: float = RESIGN_WINRATE) -> None:
        self.name, self.search, self.seconds, self.resign_winrate = name, search_player, seconds, resign_winrate
        self.history = search_player.history

    @property
    def search_config(self) -> SearchConfig:
        """The search it plays with."""
        return self.search.search_config

    def new_game(self, game: BoardHistory, seed: int) -> None:
        self.search.rng = np.random.default_rng(seed)

    def genmove(self, game: BoardHistory, colour: int) -> int:
        if game.to_play != colour:
            raise Forfeit("error", f"asked to move for colour {colour} out of turn")
        report = self.search.think(game, self.seconds)
        if report_is_hopeless(report, self.resign_winrate):
            return RESIGN
        return int(report.best_action)

    def observe(self, colour: int, action: int) -> None:
        pass

    def close(self) -> None:
        pass


class GumbelNetworkPlayer:
    """The network with the Gumbel root search its run self-played with, minus the sampling noise:
    the ``gumbel_considered`` actions of highest prior, sequential halving over them with the whole
    visit budget (ranked by log prior + sigma(completed Q); interior nodes as in self-play), and
    the survivor played (``BatchedMCTS.gumbel_action`` with zero Gumbel noise). Deterministic for a
    position; a fresh tree each move, since the halving schedule assumes a fresh root."""

    def __init__(self, name: str, evaluator, search_config: SearchConfig, history: int,
                 resign_winrate: float = RESIGN_WINRATE, feature_version: int = F.FEATURE_VERSION) -> None:
        if not search_config.gumbel:
            raise ValueError("GumbelNetworkPlayer needs a search config with gumbel=true")
        self.name, self.evaluator, self.search_config, self.history = name, evaluator, search_config, history
        self.visits = search_config.simulations
        self.feature_version = feature_version
        self.resign_winrate = resign_winrate
        self.rng = np.random.default_rng(0)  # unused by noiseless Gumbel search; kept for the search API
        self._mcts = None  # BatchedMCTS over a batch of one, rebuilt when the size or rules change
        self._key = None

    def new_game(self, game: BoardHistory, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def _search(self, game: BoardHistory):
        from selfplay.mcts import BatchedMCTS

        key = (game.size, game.rules)
        if self._mcts is None or self._key != key:
            self._mcts = BatchedMCTS(self.search_config, game.rules, B.take_rows(game.state, [0]), self.evaluator,
                                     history=self.history, max_simulations=self.visits, max_moves=B.capacity(game.state),
                                     feature_version=self.feature_version)
            self._key = key
        mcts = self._mcts
        B.copy_row(game.state, 0, mcts.roots, 0)
        mcts.roots.done[0] = False  # GTP games go on after two passes (cleanup, disputes)
        mcts.reset(0)
        # full_search=False: no Gumbel noise at the root (play, not exploration).
        mcts.search(self.rng, self.visits, full_search=False, rows=[0])
        return mcts

    def genmove(self, game: BoardHistory, colour: int) -> int:
        from selfplay.tree import ROOT, child_win_loss

        if game.to_play != colour:
            raise Forfeit("error", f"asked to move for colour {colour} out of turn")
        mcts = self._search(game)
        action = int(mcts.gumbel_action(0))
        root = (1.0 + mcts.root_value(0)) / 2.0
        q = float(child_win_loss(mcts.tree, 0)[action])  # win/loss: resigning ignores the score utility
        best = (1.0 + q) / 2.0 if math.isfinite(q) else root
        if hopeless(int(mcts.tree.visits[0, ROOT]), root, best, lambda: self._score_lead(game), self.resign_winrate):
            return RESIGN
        return action

    def _score_lead(self, game: BoardHistory) -> float:
        """The network's score lead for the side to move (0 without a score head)."""
        planes = F.encode(game.state, game.rules, history=self.history, version=self.feature_version)  # [1, C, n, n]
        out = self.evaluator(planes, B.legal_mask(game.state, game.rules))
        return float(out[2]["score"][0]) if len(out) > 2 and "score" in out[2] else 0.0

    def observe(self, colour: int, action: int) -> None:
        pass

    def close(self) -> None:
        self._mcts = None


class GtpPlayer:
    """An external engine over GTP. The process is reused across games and restarted after a
    failure; every failure (death, timeout, protocol error, refusal) is a ``Forfeit``.

    Engines that know ``kgs-genmove_cleanup`` (GNU Go, ours) are asked with it: it plays like
    ``genmove`` but does not pass while the opponent's dead stones are still on the board, which
    area scoring counts as alive (GNU Go's plain genmove passes and then loses won games to random)."""

    history = 1

    def __init__(self, name: str, argv: list[str], move_timeout: float, stderr_path: str | None = None) -> None:
        self.name, self.argv, self.move_timeout, self.stderr_path = name, list(argv), move_timeout, stderr_path
        self.engine: GtpEngine | None = None
        self.size = 0
        self.genmove_command = "genmove"
        self.warm = False  # the first genmove of a fresh process may include its warm-up (JIT, caches)

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except GtpTimeout as e:
            raise Forfeit("timeout", str(e)) from None
        except GtpEngineDied as e:
            raise Forfeit("crash", str(e)) from None
        except GtpEngineFailure as e:
            raise Forfeit("protocol", str(e)) from None
        except GtpError as e:
            raise Forfeit("error" if what == "genmove" else "refused", str(e)) from None

    def new_game(self, game: BoardHistory, seed: int) -> None:
        if self.engine is not None and self.engine.failure is not None:
            self.engine.close()
            self.engine = None
        if self.engine is None:
            self.engine = self._call("start", GtpEngine, self.argv, timeout=self.move_timeout, name=self.name, stderr_path=self.stderr_path)
            self._call("start", self.engine.command, "protocol_version", timeout=max(STARTUP_TIMEOUT_S, self.move_timeout))
            cleanup = self._call("start", self.engine.known_command, "kgs-genmove_cleanup")
            self.genmove_command = "kgs-genmove_cleanup" if cleanup else "genmove"
            self.warm = False
        self.size = game.size
        self._call("boardsize", self.engine.boardsize, game.size)
        self._call("clear_board", self.engine.clear_board)
        self._call("komi", self.engine.komi, game.komi)

    def genmove(self, game: BoardHistory, colour: int) -> int:
        colour_name = "black" if colour == B.BLACK else "white"
        timeout = self.move_timeout if self.warm else max(self.move_timeout, STARTUP_TIMEOUT_S)
        reply = self._call("genmove", self.engine.command, self.genmove_command, colour_name, timeout=timeout).strip()
        self.warm = True
        if reply.lower() == "resign":
            return RESIGN
        try:
            return coords.gtp_to_action(reply, self.size)
        except ValueError as e:
            raise Forfeit("protocol" if "not a GTP vertex" in str(e) else "illegal", f"{self.name} played {reply!r}: {e}") from None

    def observe(self, colour: int, action: int) -> None:
        vertex = coords.action_to_gtp(action, self.size)
        self._call("play", self.engine.play, "black" if colour == B.BLACK else "white", vertex)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None


def build_player(spec: PlayerSpec, rules: Rules, move_timeout: float, seed: int = 0, stderr_path: str | None = None) -> Player:
    """Build the player a spec names (loads networks; GTP engines start on the first game)."""
    if spec.kind == "random":
        return RandomPlayer(spec.name)
    if spec.kind in ("raw", "mcts"):
        from alphazero.evaluator import NetworkEvaluator

        evaluator, meta = NetworkEvaluator.from_checkpoint(spec.path)
        version = meta.feature_version
        # A version-1 network knows area scoring only: a territory match is refused, naming it.
        F.check_rules_supported(rules, version, substitute=False, where=f"player {spec.name!r}")
        if spec.kind == "raw":
            return RawNetworkPlayer(spec.name, evaluator, meta.history, version)
        from alphazero.gtp.search_player import SearchPlayer

        visits = spec.visits or DEFAULT_VISITS
        # A spec from before specs carried their search (no "search" key) meant the defaults.
        config = (SearchConfig.from_dict(spec.search) if spec.search is not None
                  else play_search_config(SearchConfig(), visits))
        if config.gumbel:
            return GumbelNetworkPlayer(spec.name, evaluator, config, meta.history, feature_version=version)
        search = SearchPlayer(evaluator, config, visits=visits, history=meta.history, seed=seed, has_ownership=True,
                              feature_version=version)
        return SearchNetworkPlayer(spec.name, search, spec.seconds)
    if spec.kind == "gnugo":
        return GtpPlayer(spec.name, gnugo_command(spec.level, rules, seed=seed), move_timeout, stderr_path)
    if spec.kind == "gtp":
        return GtpPlayer(spec.name, list(spec.argv), move_timeout, stderr_path)
    raise SpecError(f"unknown player kind {spec.kind!r}")
