"""What a person watching a run sees: a live status line on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import time


def _fmt(value, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


class Display:
    """``quiet``: only one line per generation and the final message (for logs)."""

    def __init__(self, quiet: bool, interval: float, stream=None) -> None:
        self.quiet = quiet
        self.interval = interval
        self.stream = stream or sys.stderr
        self.live = (not quiet) and self.stream.isatty()
        self.started = time.monotonic()

    def _write(self, text: str, newline: bool = True) -> None:
        if self.live and not newline:
            self.stream.write("\r\x1b[2K" + text)
        else:
            if self.live:
                self.stream.write("\r\x1b[2K")
            self.stream.write(text + "\n")
        self.stream.flush()

    def update(self, counters, selfplay: dict, learner: dict, loop_cfg, elo: float | None = None) -> None:
        if self.quiet:
            return
        in_gen = counters.steps_since_publish / max(loop_cfg.train_steps_per_generation, 1)
        text = (
            f"gen {counters.generation} [{in_gen:4.0%}] | games {counters.games} "
            f"({_fmt(selfplay.get('games_per_hour'), '.0f')}/h) pos/s {_fmt(selfplay.get('positions_per_s'), '.0f')} "
            f"evals/s {_fmt(selfplay.get('evaluations_per_s'), '.0f')} len {_fmt(selfplay.get('game_length'), '.0f')} | "
            f"loss {_fmt(learner.get('loss/total'))} pol {_fmt(learner.get('loss/policy'))} "
            f"val {_fmt(learner.get('loss/value'))} | samples/pos {counters.samples_trained / max(counters.positions, 1):.2f}"
            + (f" | Elo {elo:+.0f}" if elo is not None else "")
        )
        self._write(text, newline=False)

    def generation(self, generation: int, counters, learner: dict, elapsed: float) -> None:
        self._write(
            f"generation {generation} published after {elapsed / 60:.1f} min: games {counters.games}, positions "
            f"{counters.positions}, samples trained {counters.samples_trained}, loss {_fmt(learner.get('loss/total'))}, "
            f"policy top-1 {_fmt(learner.get('policy_top1'))}"
        )

    def message(self, text: str) -> None:
        self._write(text)

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()
