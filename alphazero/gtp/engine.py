"""The GTP engine: one handler per command over a ``GtpGame`` and a ``Player`` that thinks.

Every handler either returns the response text or raises ``GtpError``; a failed command leaves
the game exactly as it was (handlers validate everything before they change anything).
"""

from __future__ import annotations

import datetime
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from alphazero.atomic_io import write_bytes_atomic
from alphazero.gtp import analysis
from alphazero.gtp.game import GtpGame, IllegalMove, hand_turn
from alphazero.gtp.protocol import GtpError, parse_color, parse_float, parse_int
from alphazero.gtp.time_control import Clock, TimeSystem, think_time
from go_engine import board as B
from go_engine import coords, scoring, sgf
from go_engine import rules as R
from go_engine.rules import Rules, check_komi, fixed_handicap_actions

ENGINE_NAME = "alphazero-go"
ENGINE_VERSION = "0.1.0"  # dotted-numeric: Lizzie parses it as major.minor
MAX_SGF_BYTES = 4 * 1024 * 1024


class Player(Protocol):
    """What the engine needs from a searcher (see ``alphazero.gtp.search_player``)."""

    def think(
        self,
        game: GtpGame,
        seconds: float | None,
        report: Callable[[analysis.SearchReport], None] | None = None,
        report_every: float | None = None,
        should_stop: Callable[[], bool] | None = None,
        allow_pass: bool = True,
    ) -> analysis.SearchReport:
        """Search the position for the side to move; ``seconds`` None = the configured visits."""

    def ownership(self, game: GtpGame) -> np.ndarray:
        """``[n*n] float32`` expected final ownership, black's view (+1 black, -1 white)."""


class GtpEngine:
    """Command table and handlers. Streaming commands (analysis) get an ``emit`` callback to write
    partial output and a ``input_pending`` callback that turns true when the GUI sends a line."""

    def __init__(self, player: Player, rules: Rules, size: int = 19, resign_threshold: float = 0.05,
                 time_per_move: float | None = None, ponder: bool = False,
                 log: Callable[[str], None] | None = None) -> None:
        self.player = player
        self.ponder_enabled = ponder
        self.ponder_due = False  # our move was just played: the opponent is thinking
        self.time_per_move = time_per_move  # seconds per move when the clock sets no limit
        self.base_rules = rules
        self.game = GtpGame(size, rules)
        self.resign_threshold = resign_threshold
        self.clocks = {B.BLACK: Clock(), B.WHITE: Clock()}
        self.log = log or (lambda text: print(text, file=sys.stderr, flush=True))
        self.quit_requested = False
        self.handlers: dict[str, Callable[..., str]] = {
            "protocol_version": lambda args: "2",
            "name": lambda args: ENGINE_NAME,
            "version": lambda args: ENGINE_VERSION,
            "known_command": self.cmd_known_command,
            "list_commands": lambda args: "\n".join([*self.handlers, *self.streaming]),
            "quit": self.cmd_quit,
            "boardsize": self.cmd_boardsize,
            "clear_board": self.cmd_clear_board,
            "komi": self.cmd_komi,
            "play": self.cmd_play,
            "genmove": self.cmd_genmove,
            "reg_genmove": self.cmd_reg_genmove,
            "kgs-genmove_cleanup": self.cmd_genmove_cleanup,
            "undo": self.cmd_undo,
            "showboard": self.cmd_showboard,
            "fixed_handicap": self.cmd_fixed_handicap,
            "place_free_handicap": self.cmd_place_free_handicap,
            "set_free_handicap": self.cmd_set_free_handicap,
            "time_settings": self.cmd_time_settings,
            "kgs-time_settings": self.cmd_kgs_time_settings,
            "time_left": self.cmd_time_left,
            "final_score": self.cmd_final_score,
            "final_status_list": self.cmd_final_status_list,
            "kgs-game_over": lambda args: "",
            "kgs-rules": self.cmd_kgs_rules,
            "kata-get-rules": self.cmd_kata_get_rules,
            "kata-set-rules": self.cmd_kata_set_rules,
            "kata-set-rule": self.cmd_kata_set_rule,
            "loadsgf": self.cmd_loadsgf,
            "printsgf": self.cmd_printsgf,
            "is_legal": self.cmd_is_legal,
            "all_legal": self.cmd_all_legal,
            "list_stones": self.cmd_list_stones,
            "gogui-analyze_commands": self.cmd_gogui_analyze_commands,
        }
        # Streaming commands take (args, emit, input_pending) and write their own output.
        self.streaming: dict[str, Callable[..., str | None]] = {
            "lz-analyze": self.cmd_lz_analyze,
            "kata-analyze": self.cmd_kata_analyze,
            "lz-genmove_analyze": self.cmd_lz_genmove_analyze,
            "kata-genmove_analyze": self.cmd_kata_genmove_analyze,
            "analyze": self.cmd_sabaki_analyze,
            "genmove_analyze": self.cmd_sabaki_genmove_analyze,
        }

    # ---- pondering -------------------------------------------------------------------------
    PONDER_AFTER = ("genmove", "kgs-genmove_cleanup", "lz-genmove_analyze", "kata-genmove_analyze", "genmove_analyze")

    def command_done(self, name: str) -> None:
        """Called by the server after every command: pondering follows our own moves only."""
        self.ponder_due = self.ponder_enabled and name in self.PONDER_AFTER

    def ponder(self, input_pending: Callable[[], bool]) -> None:
        """Search the opponent's position until the GUI sends anything; the tree is kept, so the
        reply's subtree is reused by our next genmove."""
        self.ponder_due = False
        if self.game.consecutive_passes() >= 2:
            return
        self.player.think(self.game, float("inf"), should_stop=input_pending)

    # ---- helpers ---------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self.game.size

    def known(self, name: str) -> bool:
        return name in self.handlers or name in self.streaming

    def _vertex(self, text: str) -> int:
        try:
            return coords.gtp_to_action(text, self.size)
        except ValueError:
            raise GtpError("syntax error" if not text[:1].isalpha() else "invalid coordinate") from None

    def _nargs(self, args, *counts: int) -> None:
        if len(args) not in counts:
            raise GtpError("syntax error")

    def _seconds(self, colour: int) -> float | None:
        empty = int(np.sum(self.game.state.board[0] == B.EMPTY))
        seconds = think_time(self.clocks[colour], empty, self.size * self.size)
        if seconds is None:
            return self.time_per_move
        return seconds if self.time_per_move is None else min(seconds, self.time_per_move)

    # ---- administrative ----------------------------------------------------------------------
    def cmd_known_command(self, args) -> str:
        self._nargs(args, 1)
        return "true" if self.known(args[0]) else "false"

    def cmd_quit(self, args) -> str:
        self.quit_requested = True
        return ""

    def cmd_boardsize(self, args) -> str:
        self._nargs(args, 1)
        try:
            size = parse_int(args[0], "size")
            coords.check_size(size)
        except (GtpError, ValueError):
            raise GtpError("unacceptable size") from None
        self.game = GtpGame(size, self.game.rules)
        return ""

    def cmd_clear_board(self, args) -> str:
        self._nargs(args, 0)
        self.game.clear()
        for clock in self.clocks.values():
            clock.reset(clock.system)
        return ""

    def cmd_komi(self, args) -> str:
        self._nargs(args, 1)
        value = parse_float(args[0])
        try:
            komi = check_komi(value)
        except ValueError:
            raise GtpError("unacceptable komi") from None
        try:
            self.game.set_komi(komi)
        except (IllegalMove, ValueError):
            raise GtpError("unacceptable komi") from None
        return ""

    # ---- moves -------------------------------------------------------------------------------
    def cmd_play(self, args) -> str:
        self._nargs(args, 2)
        colour = parse_color(args[0])
        action = self._vertex(args[1])
        try:
            self.game.play(colour, action)
        except IllegalMove:
            raise GtpError("illegal move") from None
        return ""

    def _choose(self, colour: int, allow_pass: bool = True, report=None, report_every=None) -> str:
        hand_turn(self.game.state, colour)
        result = self.player.think(self.game, self._seconds(colour), report=report,
                                   report_every=report_every, allow_pass=allow_pass)
        if self._should_resign(result):
            return "resign"
        action = result.best_action
        if allow_pass and self.game.rules.is_territory and action != self.size * self.size:
            # The search values moves by area; under territory scoring a stone in one's own area
            # or on a dame gains nothing: pass instead (and do not fill one's own territory).
            own = self.player.ownership(self.game)  # [n*n] black's view
            st = self.game.state
            if scoring.gains_nothing_under_territory(st.board[0], self.size, action, colour, self._dead_stones(own),
                                                     neutral=np.abs(own) < 0.5):
                action = self.size * self.size
        return coords.action_to_gtp(action, self.size)

    def _should_resign(self, result: analysis.SearchReport) -> bool:
        # Never resign a won position: both the root and the best move must look hopeless.
        if self.resign_threshold <= 0 or result.visits < 2:
            return False
        best = result.candidates[0].winrate if result.candidates else result.winrate
        return result.winrate < self.resign_threshold and best < self.resign_threshold and result.score_lead < 0

    def cmd_genmove(self, args, play: bool = True, allow_pass: bool = True) -> str:
        self._nargs(args, 1)
        colour = parse_color(args[0])
        move = self._choose(colour, allow_pass=allow_pass)
        if play and move != "resign":
            self.game.play(colour, coords.gtp_to_action(move, self.size))
        return move

    def cmd_reg_genmove(self, args) -> str:
        snapshot = (list(self.game.setup), list(self.game.moves), self.game.first_to_play)
        try:
            return self.cmd_genmove(args, play=False)
        finally:
            self.game.load(*snapshot)

    def cmd_genmove_cleanup(self, args) -> str:
        # No pass while dead stones remain on the board: search without the pass move unless
        # the position is already clean (no opponent stone is judged dead).
        self._nargs(args, 1)
        colour = parse_color(args[0])
        dead = self._dead_stones()
        allow_pass = not dead
        move = self._choose(colour, allow_pass=allow_pass)
        if move == "resign":
            return move
        self.game.play(colour, coords.gtp_to_action(move, self.size))
        return move

    def cmd_undo(self, args) -> str:
        self._nargs(args, 0)
        try:
            self.game.undo()
        except IllegalMove:
            raise GtpError("cannot undo") from None
        return ""

    def cmd_showboard(self, args) -> str:
        self._nargs(args, 0)
        n = self.size
        letters = coords.GTP_COLUMNS[:n]
        chars = {B.EMPTY: ".", B.BLACK: "X", B.WHITE: "O"}
        lines = ["   " + " ".join(letters)]
        W = n + 2
        for r in range(n):
            row = " ".join(chars[int(self.game.state.board[0, (r + 1) * W + c + 1])] for c in range(n))
            lines.append(f"{n - r:2d} {row} {n - r:2d}")
        lines.append("   " + " ".join(letters))
        to_play = "black" if self.game.to_play == B.BLACK else "white"
        lines.append(f"komi {self.game.komi:g}, {to_play} to play, move {len(self.game.moves)}")
        return "\n" + "\n".join(lines)

    # ---- handicap ----------------------------------------------------------------------------
    def _handicap_count(self, args) -> int:
        self._nargs(args, 1)
        count = parse_int(args[0], "number of stones")
        if count < 2 or count > self.size * self.size - 1:
            raise GtpError("invalid number of stones")
        if not self.game.is_empty():
            raise GtpError("board not empty")
        return count

    def cmd_fixed_handicap(self, args) -> str:
        count = self._handicap_count(args)
        try:
            actions = fixed_handicap_actions(self.size, count)
        except ValueError:
            raise GtpError("invalid number of stones") from None
        self.game.place_setup(B.BLACK, actions, B.WHITE)
        return " ".join(coords.action_to_gtp(a, self.size) for a in actions)

    def cmd_place_free_handicap(self, args) -> str:
        count = self._handicap_count(args)
        n = self.size
        try:
            actions = fixed_handicap_actions(n, count)
        except ValueError:
            actions = []
        if not actions:
            # Beyond the fixed patterns: star-like points first, then spread over the board.
            order = sorted(range(n * n), key=lambda a: (_star_distance(a, n), a))
            actions = order[:count]
        self.game.place_setup(B.BLACK, actions, B.WHITE)
        return " ".join(coords.action_to_gtp(a, n) for a in actions)

    def cmd_set_free_handicap(self, args) -> str:
        if len(args) < 2 or len(args) > self.size * self.size - 1:
            raise GtpError("bad vertex list")
        if not self.game.is_empty():
            raise GtpError("board not empty")
        try:
            actions = [coords.gtp_to_action(v, self.size) for v in args]
        except ValueError:
            raise GtpError("bad vertex list") from None
        if len(set(actions)) != len(actions) or self.size * self.size in actions:
            raise GtpError("bad vertex list")
        try:
            self.game.place_setup(B.BLACK, actions, B.WHITE)
        except (IllegalMove, ValueError):
            raise GtpError("bad vertex list") from None
        return ""

    # ---- time --------------------------------------------------------------------------------
    def cmd_time_settings(self, args) -> str:
        self._nargs(args, 3)
        main = parse_int(args[0], "main time", 0)
        byo = parse_int(args[1], "byo-yomi time", 0)
        stones = parse_int(args[2], "byo-yomi stones", 0)
        system = TimeSystem.from_gtp(main, byo, stones)
        for clock in self.clocks.values():
            clock.reset(system)
        return ""

    def cmd_kgs_time_settings(self, args) -> str:
        if not args:
            raise GtpError("syntax error")
        kind = args[0].lower()
        if kind == "none":
            self._nargs(args, 1)
            system = TimeSystem("none")
        elif kind == "absolute":
            self._nargs(args, 2)
            system = TimeSystem("absolute", parse_int(args[1], "main time", 0))
        elif kind == "byoyomi":
            self._nargs(args, 4)
            main, period, periods = (parse_int(a, "time", 0) for a in args[1:])
            system = TimeSystem("byoyomi", main, period, 1, periods) if period > 0 and periods > 0 else TimeSystem("absolute", main)
        elif kind == "canadian":
            self._nargs(args, 4)
            main, period, stones = (parse_int(a, "time", 0) for a in args[1:])
            system = TimeSystem("canadian", main, period, stones) if period > 0 and stones > 0 else TimeSystem("absolute", main)
        else:
            raise GtpError("syntax error")
        for clock in self.clocks.values():
            clock.reset(system)
        return ""

    def cmd_time_left(self, args) -> str:
        self._nargs(args, 3)
        colour = parse_color(args[0])
        seconds = parse_float(args[1])
        stones = parse_int(args[2], "stones", 0)
        if seconds < 0:
            raise GtpError("syntax error")
        self.clocks[colour].update(seconds, stones)
        return ""

    # ---- scoring -----------------------------------------------------------------------------
    def _dead_stones(self, own: np.ndarray | None = None) -> list[int]:
        """Stones whose chain the ownership estimate (``own``, else the player's) gives to the opponent."""
        own = self.player.ownership(self.game) if own is None else own  # [n*n], black's view
        n = self.size
        st = self.game.state
        dead = []
        points = coords.action_points(n)
        chain_sum: dict[int, list[float]] = {}
        for a in range(n * n):
            p = points[a]
            colour = st.board[0, p]
            if colour in (B.BLACK, B.WHITE):
                sign = 1.0 if colour == B.BLACK else -1.0
                chain_sum.setdefault(int(st.chain_head[0, p]), []).append(sign * own[a])
        for a in range(n * n):
            p = points[a]
            if st.board[0, p] in (B.BLACK, B.WHITE):
                values = chain_sum[int(st.chain_head[0, p])]
                if sum(values) / len(values) < -0.3:
                    dead.append(a)
        return dead

    def _handicap(self) -> int:
        g = self.game
        return len(g.setup) if g.setup and all(c == B.BLACK for c, _ in g.setup) else 0

    def _cleaned_score(self) -> tuple[float, list[int]]:
        """The rules' count (black's view, komi, prisoners and handicap bonus included) after taking
        dead stones off (they become prisoners)."""
        dead = self._dead_stones()
        st = self.game.state
        count = scoring.count(st.board[0], self.size, self.game.rules, captured=tuple(st.captured[0]),
                              handicap=self._handicap(), dead=dead)
        return count.margin, dead

    def cmd_final_score(self, args) -> str:
        self._nargs(args, 0)
        margin, _ = self._cleaned_score()
        if margin == 0:
            return "0"
        return f"B+{margin:g}" if margin > 0 else f"W+{-margin:g}"

    def cmd_final_status_list(self, args) -> str:
        self._nargs(args, 1)
        status = args[0].lower()
        if status not in ("dead", "alive", "seki"):
            raise GtpError("syntax error")
        n = self.size
        dead = set(self._dead_stones())
        stones = [a for a in range(n * n) if self.game.state.board[0, coords.action_to_point(a, n)] in (B.BLACK, B.WHITE)]
        seki = set(self._seki_stones(dead)) if status != "dead" else set()
        if status == "dead":
            chosen = sorted(dead)
        elif status == "seki":
            chosen = sorted(seki)
        else:
            chosen = [a for a in stones if a not in dead and a not in seki]
        return " ".join(coords.action_to_gtp(a, n) for a in chosen)

    def _seki_stones(self, dead: set[int]) -> list[int]:
        """Living stones outside every independent-life region once dead stones are off and the
        dame filled (``scoring.seki_stones``)."""
        seki = scoring.seki_stones(self.game.state.board[0], self.size, sorted(dead))
        return [int(a) for a in np.flatnonzero(seki)]

    # ---- rules -------------------------------------------------------------------------------
    def _set_rules(self, rules: Rules) -> str:
        """Change the rules (komi kept); the position is replayed under them."""
        rules = replace(rules, komi=self.game.rules.komi, max_moves=self.game.rules.max_moves)
        try:
            self.game.set_rules(rules)
        except (IllegalMove, ValueError):
            raise GtpError("the position is illegal under these rules") from None
        self.log(f"Changed rules to {rules.name() or sgf.rules_to_ru(rules)}")
        return ""

    def cmd_kgs_rules(self, args) -> str:
        # KGS's names: japanese, chinese, aga, new_zealand.
        self._nargs(args, 1)
        try:
            rules = R.preset(args[0])
        except ValueError:
            raise GtpError(f"unknown rules {args[0]!r}") from None
        return self._set_rules(rules)

    def cmd_kata_get_rules(self, args) -> str:
        if args:
            raise GtpError("Expected no arguments for kata-get-rules but got " + " ".join(args))
        return json.dumps(katago_rules_json(self.game.rules), sort_keys=True, separators=(",", ":"))

    def cmd_kata_set_rules(self, args) -> str:
        text = " ".join(args)
        try:
            rules = parse_katago_rules(text, self.game.rules)
        except ValueError as e:
            raise GtpError(f"Unknown rules '{text}', {e}") from None
        return self._set_rules(rules)

    def cmd_kata_set_rule(self, args) -> str:
        self._nargs(args, 2)
        current = katago_rules_json(self.game.rules)
        key = "scoring" if args[0] == "score" else args[0]
        if key not in current:
            raise GtpError(f"Unknown rules option {args[0]!r}")
        value: object = args[1]
        if key in ("suicide", "hasButton", "friendlyPassOk"):
            if args[1].lower() not in ("true", "false"):
                raise GtpError(f"{key} must be true or false, got {args[1]!r}")
            value = args[1].lower() == "true"
        try:
            rules = parse_katago_rules(json.dumps({**current, key: value}), self.game.rules)
        except ValueError as e:
            raise GtpError(str(e)) from None
        return self._set_rules(rules)

    # ---- SGF ---------------------------------------------------------------------------------
    def cmd_loadsgf(self, args) -> str:
        self._nargs(args, 1, 2)
        move_number = None
        if len(args) == 2:
            move_number = parse_int(args[1], "move number", 1, 100000)
        path = Path(args[0])
        try:
            if not path.is_file() or path.stat().st_size > MAX_SGF_BYTES:
                raise GtpError("cannot load file")
            position = sgf.moves_until(sgf.read_sgf(path), move_number)
            record = position.game
            setup = [(B.BLACK, a) for a in record.setup_black] + [(B.WHITE, a) for a in record.setup_white]
            game = GtpGame(record.size, replace(self.game.rules, komi=record.komi))
            game.load(setup, list(record.moves), record.first_to_play())
            hand_turn(game.state, position.to_play)
        except GtpError:
            raise
        except (OSError, ValueError, IllegalMove):
            raise GtpError("cannot load file") from None
        self.game = game
        return "black" if position.to_play == B.BLACK else "white"

    def cmd_printsgf(self, args) -> str:
        self._nargs(args, 0, 1)
        g = self.game
        record = sgf.SgfGame(
            size=g.size,
            rules=g.rules,
            moves=tuple(g.moves),
            handicap=self._handicap(),
            setup_black=tuple(a for c, a in g.setup if c == B.BLACK),
            setup_white=tuple(a for c, a in g.setup if c == B.WHITE),
            black_player=ENGINE_NAME,
            white_player=ENGINE_NAME,
            date=datetime.date.today().isoformat(),
        )
        if len(args) == 1:
            try:
                write_bytes_atomic(Path(args[0]), sgf.to_sgf_bytes(record))
            except OSError:
                raise GtpError("cannot write file") from None
            return ""
        return sgf.to_sgf_bytes(record).decode("utf-8")

    # ---- GNU Go debugging extensions -----------------------------------------------------------
    def cmd_is_legal(self, args) -> str:
        self._nargs(args, 2)
        colour = parse_color(args[0])
        action = self._vertex(args[1])
        return "1" if self.game.move_status(colour, action) == B.LEGAL else "0"

    def cmd_all_legal(self, args) -> str:
        self._nargs(args, 1)
        colour = parse_color(args[0])
        n = self.size
        return " ".join(coords.action_to_gtp(int(a), n) for a in self.game.legal_actions(colour) if a != n * n)

    def cmd_list_stones(self, args) -> str:
        self._nargs(args, 1)
        colour = parse_color(args[0])
        return " ".join(coords.action_to_gtp(a, self.size) for a in self.game.stones(colour))

    def cmd_gogui_analyze_commands(self, args) -> str:
        self._nargs(args, 0)
        return "\n".join([
            "none/Final score/final_score",
            "plist/Dead stones/final_status_list dead",
            "plist/Seki stones/final_status_list seki",
            "plist/All legal moves/all_legal %m",
            "string/Show board/showboard",
        ])

    # ---- analysis (streaming) ----------------------------------------------------------------
    KATA_FLAGS = {
        "ownership": "ownership", "ownershipStdev": "ownership_stdev", "movesOwnership": "moves_ownership",
        "movesOwnershipStdev": "moves_ownership_stdev", "rootInfo": "root_info", "pvVisits": "pv_visits",
        "pvEdgeVisits": "pv_visits",
    }

    @classmethod
    def _analyze_args(cls, args, kata: bool) -> tuple[int | None, float, analysis.AnalyzeOptions]:
        """``[colour] [interval] [key value...]`` -> (colour or None, seconds between lines, options).
        ``avoid``/``allow`` are parsed (COLOR VERTICES UNTILDEPTH) but not applied."""
        items = list(args)
        colour = None
        if items and items[0].lower() in ("b", "w", "black", "white"):
            colour = parse_color(items.pop(0))
        interval = 1.0
        if items and items[0].lstrip("+").isdigit():
            interval = parse_int(items.pop(0), "interval", 0) / 100.0
        flags: dict[str, bool] = {}
        max_moves = 0
        seen_allow = seen_avoid = False
        while items:
            key = items.pop(0)
            if key in ("avoid", "allow"):
                if len(items) < 3:
                    raise GtpError(f"Could not parse analyze arguments: {key} needs COLOR VERTICES UNTILDEPTH")
                parse_color(items.pop(0))
                items.pop(0)
                parse_int(items.pop(0), "untilDepth", 1)
                if key == "allow" and (seen_allow or seen_avoid) or key == "avoid" and seen_allow:
                    raise GtpError("Could not parse analyze arguments: allow only once, and not with avoid")
                seen_allow, seen_avoid = seen_allow or key == "allow", seen_avoid or key == "avoid"
                continue
            if not items:
                raise GtpError(f"Could not parse analyze arguments: {key} needs a value")
            value = items.pop(0)
            if key == "interval":
                interval = parse_int(value, "interval", 0) / 100.0
            elif key == "maxmoves":
                max_moves = parse_int(value, "maxmoves", 0)
            elif key == "minmoves":
                parse_int(value, "minmoves", 0)
            elif kata and key in cls.KATA_FLAGS:
                if value not in ("true", "false"):
                    raise GtpError(f"Could not parse analyze arguments: {key} must be true or false")
                flags[cls.KATA_FLAGS[key]] = flags.get(cls.KATA_FLAGS[key], False) or value == "true"
            else:
                raise GtpError(f"Could not parse analyze arguments: unknown key {key}")
        return colour, max(interval, 0.05), analysis.AnalyzeOptions(max_moves=max_moves, **flags)

    def _analyze(self, args, emit, input_pending, kata: bool, genmove: bool, showpoint: bool = False) -> str | None:
        colour, interval, options = self._analyze_args(args, kata)
        if genmove and colour is None:
            raise GtpError("syntax error")
        if colour is not None:
            hand_turn(self.game.state, colour)
        n = self.size
        if kata:
            options = replace(options, showpoint=showpoint)
            fmt = lambda r: analysis.kata_line(r, n, options)  # noqa: E731
        else:
            fmt = lambda r: analysis.lz_line(r, n, options.max_moves)  # noqa: E731

        reported = [False]

        def report(r: analysis.SearchReport) -> None:
            if r.candidates:
                emit(fmt(r) + "\n")
                reported[0] = True

        emit(None)  # the engine writes the "=id" line now
        if genmove:
            mover = self.game.to_play
            result = self.player.think(self.game, self._seconds(mover), report=report, report_every=interval)
            report(result)
            move = "resign" if self._should_resign(result) else coords.action_to_gtp(result.best_action, n)
            if move != "resign":
                self.game.play(mover, result.best_action)
            emit(f"play {move}\n")
            return None
        result = self.player.think(self.game, float("inf"), report=report, report_every=interval, should_stop=input_pending)
        if not reported[0]:
            report(result)  # interrupted before the first interval: the GUI still gets one line
        return None

    def cmd_lz_analyze(self, args, emit, input_pending):
        return self._analyze(args, emit, input_pending, kata=False, genmove=False)

    def cmd_kata_analyze(self, args, emit, input_pending):
        return self._analyze(args, emit, input_pending, kata=True, genmove=False)

    def cmd_lz_genmove_analyze(self, args, emit, input_pending):
        return self._analyze(args, emit, input_pending, kata=False, genmove=True)

    def cmd_kata_genmove_analyze(self, args, emit, input_pending):
        return self._analyze(args, emit, input_pending, kata=True, genmove=True)

    def cmd_sabaki_analyze(self, args, emit, input_pending):
        """``analyze``: kata-analyze with a decimal point in every float (Sabaki reads a winrate
        without one as percent*100)."""
        return self._analyze(args, emit, input_pending, kata=True, genmove=False, showpoint=True)

    def cmd_sabaki_genmove_analyze(self, args, emit, input_pending):
        return self._analyze(args, emit, input_pending, kata=True, genmove=True, showpoint=True)


_KATAGO_WHB = {R.HandicapBonus.ZERO: "0", R.HandicapBonus.N: "N", R.HandicapBonus.N_MINUS_1: "N-1"}


def katago_rules_json(rules: Rules) -> dict:
    """``kata-get-rules``' object (komi aside). ``friendlyPassOk`` is KataGo's for the same preset
    (false for territory and Tromp-Taylor); it changes nothing here."""
    return {
        "friendlyPassOk": not rules.is_territory and rules.name() != "tromp-taylor",
        "hasButton": False,
        "ko": rules.ko.name,
        "scoring": rules.scoring.name,
        "suicide": rules.suicide == R.SuicideRule.ALLOWED,
        "tax": rules.tax.name,
        "whiteHandicapBonus": _KATAGO_WHB[rules.white_handicap_bonus],
    }


def parse_katago_rules(text: str, current: Rules) -> Rules:
    """A rules shorthand (any preset spelling) or KataGo's JSON object: missing keys take
    Tromp-Taylor's values, a missing tax is seki under territory scoring and none under area;
    ``komi`` is refused (``komi`` sets it). Raises ``ValueError`` saying what is wrong."""
    text = text.strip()
    if not text.startswith("{"):
        return R.preset(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not a JSON object ({e.msg})") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if "score" in data:
        data["scoring"] = data.pop("score")
    known = {"ko", "scoring", "tax", "suicide", "hasButton", "whiteHandicapBonus", "friendlyPassOk"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"Unknown rules option {unknown[0]!r}" + (" (set komi with the komi command)" if unknown[0] == "komi" else ""))
    if data.get("hasButton", False) is not False:
        raise ValueError("a button is not supported")
    for key in ("suicide", "friendlyPassOk"):
        if key in data and not isinstance(data[key], bool):
            raise ValueError(f"{key} must be true or false")
    scoring_name = str(data.get("scoring", "AREA")).lower()
    ko = str(data.get("ko", "POSITIONAL")).lower()
    if ko == "spight":
        ko = "situational"
    tax = str(data.get("tax", "SEKI" if scoring_name == "territory" else "NONE")).lower()
    return Rules(ko=ko, suicide=R.SuicideRule.ALLOWED if data.get("suicide", True) else R.SuicideRule.FORBIDDEN,
                 scoring=scoring_name, tax=tax, white_handicap_bonus=str(data.get("whiteHandicapBonus", "0")),
                 komi=current.komi, max_moves=current.max_moves)


def _star_distance(a: int, n: int) -> float:
    row, col = divmod(a, n)
    line = 2 if n < 13 else 3
    targets = sorted({line, n // 2, n - 1 - line})
    return min(abs(row - t) for t in targets) + min(abs(col - t) for t in targets)
