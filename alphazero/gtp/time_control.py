"""Clock state from GTP time commands and how many seconds to think for the next move."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

NETWORK_LAG = 0.3  # seconds kept back per move for the GUI/server round trip


@dataclass(frozen=True)
class TimeSystem:
    """``kind``: ``none`` (no limit), ``absolute`` (main time only), ``byoyomi`` (main time then
    ``periods`` periods of ``period_time`` s, one move each), ``canadian`` (main time then
    ``period_time`` s for every ``period_stones`` moves)."""

    kind: str = "none"
    main_time: float = 0.0
    period_time: float = 0.0
    period_stones: int = 0
    periods: int = 0

    @staticmethod
    def from_gtp(main_time: float, byo_time: float, byo_stones: int) -> "TimeSystem":
        """GTP ``time_settings``: byo_time > 0 with byo_stones == 0 means no limit."""
        if byo_time > 0 and byo_stones == 0:
            return TimeSystem("none")
        if byo_time == 0:
            return TimeSystem("absolute", main_time)
        return TimeSystem("canadian", main_time, byo_time, byo_stones)


@dataclass
class Clock:
    """What we know of one player's clock (``time_left`` updates it)."""

    system: TimeSystem = field(default_factory=TimeSystem)
    main_left: float | None = None  # seconds of main time left (None: not told yet)
    period_left: float | None = None  # seconds left in the current byo-yomi/canadian period
    stones_left: int = 0  # canadian: moves to play in this period; byo-yomi: periods left

    def reset(self, system: TimeSystem) -> None:
        self.system = system
        self.main_left = system.main_time
        self.period_left = None
        self.stones_left = system.periods if system.kind == "byoyomi" else system.period_stones

    def update(self, seconds: float, stones: int) -> None:
        """GTP ``time_left``: ``stones == 0`` means still in main time."""
        if stones == 0:
            self.main_left = seconds
            self.period_left = None
        else:
            self.main_left = 0.0
            self.period_left = seconds
            self.stones_left = stones


def expected_moves_left(empty_points: int, board_points: int) -> float:
    """Our own moves still to come, estimated from how full the board is (at least a few)."""
    return max(6.0, 0.45 * empty_points + 0.05 * board_points)


def think_time(clock: Clock, empty_points: int, board_points: int) -> float | None:
    """Seconds to spend on the next move, or ``None`` when the clock sets no limit. Never more
    than what keeps us safe: in byo-yomi we stay inside the period, with a margin."""
    system = clock.system
    if system.kind == "none":
        return None
    moves_left = expected_moves_left(empty_points, board_points)
    main_left = clock.main_left if clock.main_left is not None else system.main_time
    if clock.period_left is None and main_left > 0:
        share = main_left / moves_left
        if system.kind == "absolute":
            # Absolute time: never use more than a fifth of what is left on one move.
            return max(0.05, min(share, main_left / 5.0) - NETWORK_LAG * 0.5)
        # Main time with an overtime to fall back on: spend the main time plus a period's worth.
        per_period = _period_budget(system.period_time, system.period_stones if system.kind == "canadian" else 1)
        return max(0.05, min(share + 0.5 * per_period, main_left * 0.5 + per_period))
    # In overtime.
    if system.kind == "absolute":
        return 0.05
    period_left = clock.period_left if clock.period_left is not None else system.period_time
    stones = max(1, clock.stones_left if system.kind == "canadian" else 1)
    return max(0.05, _period_budget(period_left, stones))


def _period_budget(seconds: float, stones: int) -> float:
    if seconds <= 0 or stones <= 0 or not math.isfinite(seconds):
        return 0.05
    return max(0.05, 0.85 * seconds / stones - NETWORK_LAG)
