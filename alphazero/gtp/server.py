"""The GTP read-eval-print loop: a reader thread feeds cleaned lines, responses go to stdout only.

A reader thread lets streaming analysis stop as soon as the GUI sends anything (a command or a
bare newline), as Sabaki and Lizzie expect. Overlong lines are refused without being kept.
"""

from __future__ import annotations

import queue
import threading
import traceback
from typing import Callable, TextIO

from alphazero.gtp.engine import GtpEngine
from alphazero.gtp.protocol import MAX_LINE, Command, GtpError, clean_line, format_response, parse_command

_EOF = object()
_TOO_LONG = object()


def _reader(stream: TextIO, lines: "queue.Queue[object]") -> None:
    while True:
        try:
            raw = stream.readline(MAX_LINE + 1)
        except (OSError, ValueError, UnicodeDecodeError):
            raw = ""
        if raw == "":
            lines.put(_EOF)
            return
        if len(raw) > MAX_LINE and not raw.endswith("\n"):
            # Swallow the rest of the overlong line, then report it once.
            while True:
                more = stream.readline(MAX_LINE + 1)
                if more == "" or more.endswith("\n"):
                    break
            lines.put(_TOO_LONG)
            continue
        lines.put(raw)


class _Input:
    """The reader thread's lines, with a peek that tells a streaming command the GUI spoke."""

    def __init__(self, stream: TextIO) -> None:
        self.lines: "queue.Queue[object]" = queue.Queue()
        self.pending: list[object] = []
        threading.Thread(target=_reader, args=(stream, self.lines), daemon=True).start()

    def next_line(self) -> object:
        return self.pending.pop(0) if self.pending else self.lines.get()

    def input_pending(self) -> bool:
        if self.pending:
            return True
        try:
            self.pending.append(self.lines.get_nowait())
            return True
        except queue.Empty:
            return False


def _run_streaming(engine: GtpEngine, cmd: Command, write: Callable[[str], None], input_pending: Callable[[], bool]) -> None:
    """A streaming command writes ``=id`` itself (``emit(None)``) before its partial output."""
    started = False

    def emit(text: str | None) -> None:
        nonlocal started
        if text is None:
            if not started:
                write("=" + ("" if cmd.id is None else str(cmd.id)) + "\n")
                started = True
            return
        write(text)

    engine.streaming[cmd.name](cmd.args, emit, input_pending)
    engine.command_done(cmd.name)
    write("\n" if started else format_response(cmd.id, True, ""))


def _run_command(engine: GtpEngine, cmd: Command, write: Callable[[str], None], input_pending: Callable[[], bool],
                 log: Callable[[str], None]) -> None:
    try:
        if cmd.name in engine.streaming:
            _run_streaming(engine, cmd, write, input_pending)
            return
        handler = engine.handlers.get(cmd.name)
        if handler is None:
            raise GtpError("unknown command")
        write(format_response(cmd.id, True, handler(cmd.args)))
        engine.command_done(cmd.name)
    except GtpError as e:
        write(format_response(cmd.id, False, str(e)))
    except Exception as e:  # noqa: BLE001 - the engine must answer and stay in sync
        log(f"internal error in {cmd.name}: {e!r}\n{traceback.format_exc()}")
        write(format_response(cmd.id, False, f"internal error: {type(e).__name__}"))


def serve(engine: GtpEngine, stdin: TextIO, stdout: TextIO, log: Callable[[str], None]) -> int:
    source = _Input(stdin)

    def write(text: str) -> None:
        stdout.write(text)
        stdout.flush()

    while not engine.quit_requested:
        if engine.ponder_due and not source.input_pending():
            try:
                engine.ponder(source.input_pending)
            except Exception as e:  # noqa: BLE001 - pondering is optional; never lose the session
                log(f"pondering failed: {e!r}")
        item = source.next_line()
        if item is _EOF:
            break
        if item is _TOO_LONG:
            write(format_response(None, False, "line too long"))
            continue
        line = clean_line(item)  # type: ignore[arg-type]
        if line is None:
            continue
        cmd = parse_command(line)
        if cmd.name == "":
            continue  # an id-only line is ignored, as GNU Go does
        _run_command(engine, cmd, write, source.input_pending, log)
    return 0
