"""When a session of a run stops: on Ctrl-C or SIGTERM (a clean finish; a second Ctrl-C aborts), at
the generation limit, or at the time limit (all sessions' wall time together)."""

from __future__ import annotations

import signal
import sys
from dataclasses import dataclass

from alphazero.config.run import LoopConfig


class StopRequest:
    """First Ctrl-C (or SIGTERM): finish cleanly. Second Ctrl-C: stop at once."""

    def __init__(self) -> None:
        self.requested = False
        self.reason = ""
        self._previous: dict = {}

    def install(self) -> None:
        def handler(signum, frame):
            if self.requested and signum == signal.SIGINT:
                raise KeyboardInterrupt
            self.requested = True
            self.reason = signal.Signals(signum).name
            print("\nstopping: draining actors and writing a checkpoint (Ctrl-C again to abort)", file=sys.stderr, flush=True)

        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, handler)

    def uninstall(self) -> None:
        """Put back the handlers ``install`` replaced (``train`` called in-process, as the tests do)."""
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()


@dataclass(frozen=True)
class StopRule:
    """Whether the session is done, from the stop request and the loop's limits."""

    request: StopRequest
    loop: LoopConfig

    def out_of_time(self, elapsed_s: float) -> bool:
        limit = self.loop.time_limit_minutes
        return limit > 0 and elapsed_s >= limit * 60.0

    def done(self, generation: int, elapsed_s: float) -> bool:
        return self.request.requested or generation >= self.loop.max_generations or self.out_of_time(elapsed_s)

    def reason(self, elapsed_s: float) -> str:
        """Why the session stopped, for the stop record and the last display line."""
        return self.request.reason or ("time limit" if self.out_of_time(elapsed_s) else "max generations")
