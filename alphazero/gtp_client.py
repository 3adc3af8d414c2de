"""GTP v2 client for driving an external engine (GNU Go, a second copy of ours) that can never hang us."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path

from go_engine.rules import KoRule, Rules, SuicideRule

GNUGO_FALLBACK_PATH = "/usr/games/gnugo"  # Debian/Ubuntu install it outside the default PATH
GNUGO_MAX_LEVEL = 10
MAX_LINE_BYTES = 1 << 20  # a longer line from the engine is a protocol error, not a memory hog
MAX_RESPONSE_LINES = 100_000  # likewise a response that never ends with the blank line
QUEUE_LINES = 10_000  # lines read ahead; a full queue stalls the reader (and the engine), not memory
CLOSE_GRACE_S = 2.0  # how long close() waits after "quit" (and after SIGTERM) before escalating

_EOF = object()  # reader thread sentinel: the engine's stdout closed
_RESPONSE_HEAD = re.compile(r"^([=?])(\d*)(?:[ \t]+(.*))?$", re.DOTALL)
_VERTEX = re.compile(r"^[A-HJ-Z](?:[1-9]|1\d|2[0-5])$")
_COLORS = {"b": "black", "black": "black", "w": "white", "white": "white"}
_KO_FLAGS = {KoRule.SIMPLE: "--simple-ko", KoRule.POSITIONAL: "--positional-superko", KoRule.SITUATIONAL: "--situational-superko"}
# GNU Go's --allow-suicide is "all suicide except single-stone", exactly our SuicideRule.ALLOWED.
_SUICIDE_FLAGS = {SuicideRule.FORBIDDEN: "--forbid-suicide", SuicideRule.ALLOWED: "--allow-suicide"}


class GtpError(Exception):
    """The engine refused a command (``? message``); the engine is still usable."""

    def __init__(self, command: str, message: str):
        super().__init__(f"{command!r} failed: {message}")
        self.command = command
        self.message = message  # the engine's text after "?", e.g. "illegal move"


class GtpEngineFailure(Exception):
    """The engine can no longer be trusted (died, hung, broke the protocol). Every later command
    raises again; for a match this is a loss for that engine."""


class GtpEngineDied(GtpEngineFailure):
    """The process could not start, exited, or closed its pipes."""


class GtpTimeout(GtpEngineFailure):
    """No complete response within the timeout."""


class GtpProtocolError(GtpEngineFailure):
    """The engine wrote something that is not a GTP response (garbage, wrong id, overlong)."""


def normalize_color(color: str) -> str:
    """``"b"``/``"black"``/``"w"``/``"white"`` (any case) to ``"black"``/``"white"``."""
    if not isinstance(color, str) or color.strip().lower() not in _COLORS:
        raise ValueError(f"not a GTP colour: {color!r} (use black/white/b/w)")
    return _COLORS[color.strip().lower()]


def _check_token(token: str, what: str) -> str:
    # One GTP line per command: a newline or control byte inside would split or corrupt it.
    if not token or any(ord(ch) < 32 or ord(ch) == 127 for ch in token) or "#" in token or " " in token:
        raise ValueError(f"GTP {what} must be a non-empty word without spaces, '#' or control characters: {token!r}")
    return token


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    # The engine leads its own process group (start_new_session): helpers it spawned go too.
    try:
        os.killpg(proc.pid, sig)
    except OSError:
        pass


def _kill_process(proc: subprocess.Popen) -> None:
    # Garbage-collection safety net (weakref.finalize): never leave an engine running.
    _signal_group(proc, signal.SIGKILL)
    try:
        proc.wait(timeout=CLOSE_GRACE_S)
    except subprocess.TimeoutExpired:
        pass


class EngineProcess:
    """An engine's process and its pipes: one GTP exchange at a time, every read bounded by a deadline.

    A reader thread fills a bounded queue from the engine's stdout, so nothing blocks forever and a
    flooding engine stalls itself, not our memory. The engine leads its own process group (its
    helpers go with it) and a garbage-collection finalizer kills it if it is abandoned. Callers
    serialise the exchanges (``GtpEngine`` holds its lock around them).
    """

    def __init__(self, argv: list[str], label: str, stderr_path: Path | None):
        self.label = label
        self.lines: queue.Queue = queue.Queue(maxsize=QUEUE_LINES)
        stderr_file = open(stderr_path, "ab") if stderr_path is not None else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr_file,  # a file or DEVNULL: an engine chatting on stderr can never block
                bufsize=0,
                start_new_session=True,  # its own process group, killed as a whole
            )
        except OSError as exc:
            raise GtpEngineDied(f"{label}: cannot start {argv!r}: {exc}") from exc
        finally:
            if stderr_file is not subprocess.DEVNULL:
                stderr_file.close()  # the child holds its own descriptor
        self._finalizer = weakref.finalize(self, _kill_process, self.proc)
        self.reader = threading.Thread(target=self._read_stdout, args=(self.proc.stdout, self.lines), name=f"gtp-reader-{label}", daemon=True)
        self.reader.start()

    @staticmethod
    def _read_stdout(stream, lines: queue.Queue) -> None:
        # Runs in its own thread; owns nothing but the stream and the queue (no reference to self,
        # so an abandoned engine can still be garbage-collected and killed).
        try:
            while True:
                raw = stream.readline(MAX_LINE_BYTES)
                if not raw:
                    break
                if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    lines.put(GtpProtocolError(f"response line longer than {MAX_LINE_BYTES} bytes"))
                    break
                lines.put(raw.decode("utf-8", errors="replace").rstrip("\n").replace("\r", ""))
        except (OSError, ValueError):
            pass
        finally:
            # Closed here, not by stop(): closing a pipe another thread is reading can block.
            try:
                stream.close()
            except OSError:
                pass
        lines.put(_EOF)

    def _died(self, what: str) -> GtpEngineDied:
        try:
            code = self.proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            code = None
        status = f"exit status {code}" if code is not None else "pipes closed, process still running"
        return GtpEngineDied(f"{self.label}: engine died during {what!r} ({status})")

    def _next_line(self, deadline: float, what: str, wait: float):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise GtpTimeout(f"{self.label}: no response to {what!r} within {wait:g} s")
        try:
            item = self.lines.get(timeout=remaining)
        except queue.Empty:
            raise GtpTimeout(f"{self.label}: no response to {what!r} within {wait:g} s") from None
        if item is _EOF:
            with contextlib.suppress(queue.Full):
                self.lines.put_nowait(_EOF)  # stays visible to every later read
            raise self._died(what)
        if isinstance(item, GtpProtocolError):
            raise GtpProtocolError(f"{self.label}: {item} (command {what!r})")
        return item

    def exchange(self, line: str, cmd_id: int, wait: float) -> tuple[bool, str]:
        """Send ``cmd_id line``; ``(ok, text)`` of the response within ``wait`` seconds (``ok``: it
        began with ``=``). Raises ``GtpEngineFailure`` when none came, or not a matching one."""
        deadline = time.monotonic() + wait
        try:
            self.proc.stdin.write((f"{cmd_id} {line}\n").encode())
            self.proc.stdin.flush()
        except (OSError, ValueError):
            raise self._died(line) from None
        # Skip blank lines before the response (tolerated); anything else must be "=id" / "?id".
        while True:
            head = self._next_line(deadline, line, wait)
            if head.strip():
                break
        match = _RESPONSE_HEAD.match(head)
        if match is None:
            raise GtpProtocolError(f"{self.label}: answered {line!r} with garbage {head[:200]!r}")
        sign, got_id, first = match.group(1), match.group(2), match.group(3) or ""
        if got_id and int(got_id) != cmd_id:
            raise GtpProtocolError(f"{self.label}: response id {got_id} to {line!r}, expected {cmd_id}")
        body = [first.rstrip()]
        while True:
            rest = self._next_line(deadline, line, wait)
            if rest.strip() == "":
                break
            body.append(rest.rstrip())
            if len(body) > MAX_RESPONSE_LINES:
                raise GtpProtocolError(f"{self.label}: response to {line!r} exceeds {MAX_RESPONSE_LINES} lines")
        return sign == "=", "\n".join(body).strip()

    def stop(self, grace: float, healthy: bool) -> int | None:
        """Close stdin, then terminate, then kill the process group; return the exit status. A
        ``healthy`` engine (one that answered ``quit``) gets ``grace`` seconds to exit on its own."""
        proc = self.proc
        try:
            proc.stdin.close()  # EOF: the other polite way to ask an engine to exit
        except OSError:
            pass
        # A broken engine gets no long grace: it already cost its timeout.
        waits = ((None, grace if healthy else min(grace, 0.2)), (signal.SIGTERM, grace), (signal.SIGKILL, grace))
        for sig, wait in waits:
            if sig is not None:
                _signal_group(proc, sig)
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        if proc.poll() is None:  # unkillable (e.g. stuck in the kernel): don't wait forever
            _signal_group(proc, signal.SIGKILL)
        self._finalizer.detach()
        # Drain what the engine wrote so a reader stalled on a full queue reaches EOF and ends.
        deadline = time.monotonic() + grace
        while self.reader.is_alive() and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                while True:
                    self.lines.get_nowait()
            self.reader.join(timeout=0.05)
        return proc.returncode


class GtpEngine:
    """One external engine process spoken to over GTP v2.

    Every command carries an id and waits at most ``timeout`` seconds (the ``EngineProcess`` reads
    with a deadline, so nothing blocks forever). ``GtpError``: the engine answered ``?``; it stays
    usable. ``GtpEngineFailure`` (``GtpEngineDied``, ``GtpTimeout``, ``GtpProtocolError``): the
    engine is broken for good and every later command raises the same kind at once, since after
    a missed response the stream can no longer be matched to commands. ``close()`` (or leaving
    the ``with`` block) sends ``quit``, then terminates and finally kills the process.
    """

    def __init__(self, argv: Sequence[str], timeout: float = 30.0, name: str | None = None, stderr_path: str | os.PathLike | None = None):
        if isinstance(argv, (str, bytes)) or not argv or not all(isinstance(a, str) and a for a in argv):
            raise ValueError(f"argv must be a non-empty list of non-empty strings, got {argv!r}")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout < float("inf"):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.argv = list(argv)
        self.timeout = float(timeout)
        self.label = name if name is not None else Path(self.argv[0]).name
        self.stderr_path = Path(stderr_path) if stderr_path is not None else None
        self._failure: GtpEngineFailure | None = None
        self._next_id = 1
        self._lock = threading.Lock()
        self._closed = False
        self._process = EngineProcess(self.argv, self.label, self.stderr_path)

    @property
    def alive(self) -> bool:
        return self._process.proc.poll() is None

    @property
    def failure(self) -> GtpEngineFailure | None:
        """The failure that broke this engine, or ``None`` while it is healthy."""
        return self._failure

    @property
    def pid(self) -> int:
        return self._process.proc.pid

    def _fail(self, exc: GtpEngineFailure) -> GtpEngineFailure:
        if self._failure is None:
            self._failure = exc
        return exc

    # ---- commands ----------------------------------------------------------------------------

    def command(self, name: str, *args, timeout: float | None = None) -> str:
        """Send ``name args...``; return the response text (``=`` stripped). Raises ``GtpError``
        on ``?``, ``GtpEngineFailure`` when the engine is (or already was) broken."""
        _check_token(name, "command name")
        words = [_check_token(str(a), "argument") for a in args]
        line = " ".join([name, *words])
        wait = self.timeout if timeout is None else timeout
        if not 0 < wait < float("inf"):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        with self._lock:
            if self._failure is not None:
                raise type(self._failure)(f"{self.label}: unusable after an earlier failure ({self._failure}); {line!r} not sent")
            if self._closed:
                raise GtpEngineDied(f"{self.label}: engine is closed; {line!r} not sent")
            cmd_id = self._next_id
            self._next_id += 1
            try:
                ok, text = self._process.exchange(line, cmd_id, wait)
            except GtpEngineFailure as exc:
                raise self._fail(exc) from None
        if not ok:
            raise GtpError(line, text)
        return text

    def protocol_version(self) -> str:
        return self.command("protocol_version")

    def name(self) -> str:
        return self.command("name")

    def version(self) -> str:
        return self.command("version")

    def known_command(self, name: str) -> bool:
        return self.command("known_command", name).strip().lower() == "true"

    def list_commands(self) -> list[str]:
        return self.command("list_commands").split()

    def boardsize(self, n: int) -> None:
        self.command("boardsize", int(n))

    def clear_board(self) -> None:
        self.command("clear_board")

    def komi(self, komi: float) -> None:
        self.command("komi", f"{float(komi):g}")

    def play(self, color: str, vertex: str) -> None:
        """Raises ``GtpError`` (engine's message, GNU Go: ``illegal move``) if the engine refuses."""
        self.command("play", normalize_color(color), vertex)

    def genmove(self, color: str, timeout: float | None = None) -> str:
        """The engine's move (already played on its board): an upper-case vertex, ``"pass"`` or
        ``"resign"``. A reply that is none of these is a ``GtpProtocolError``; whether the vertex is
        on the board and legal is for the caller to judge."""
        reply = self.command("genmove", normalize_color(color), timeout=timeout)
        move = reply.strip()
        if move.lower() in ("pass", "resign"):
            return move.lower()
        if not _VERTEX.match(move.upper()):
            exc = GtpProtocolError(f"{self.label}: genmove answered {reply!r}, not a vertex, pass or resign")
            with self._lock:
                self._fail(exc)
            raise exc
        return move.upper()

    def undo(self) -> None:
        self.command("undo")

    def final_score(self) -> str:
        """E.g. ``"B+3.5"``, ``"W+0.5"``, ``"0"``."""
        return self.command("final_score")

    def showboard(self) -> str:
        return self.command("showboard")

    def list_stones(self, color: str) -> list[str]:
        """Vertices of ``color``'s stones (GNU Go extension), upper case, engine order."""
        return self.command("list_stones", normalize_color(color)).upper().split()

    def all_legal(self, color: str) -> list[str]:
        """Every vertex where ``color`` may play (GNU Go extension; pass is not listed)."""
        return self.command("all_legal", normalize_color(color)).upper().split()

    # ---- lifetime ----------------------------------------------------------------------------

    def close(self, grace: float = CLOSE_GRACE_S) -> int | None:
        """Ask the engine to quit, then terminate, then kill; return its exit status. Idempotent."""
        with self._lock:
            if self._closed:
                return self._process.proc.returncode
            self._closed = True
            healthy = self._process.proc.poll() is None and self._failure is None
            if healthy:
                try:
                    self._process.exchange("quit", self._next_id, grace)
                except GtpEngineFailure:
                    healthy = False
            return self._process.stop(grace, healthy)

    def __enter__(self) -> "GtpEngine":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("failed" if self._failure else "running")
        return f"GtpEngine({self.label!r}, pid={self.pid}, {state})"


# ---- GNU Go ----------------------------------------------------------------------------------


def find_gnugo() -> str | None:
    """Path of the ``gnugo`` executable (PATH first, then Debian's ``/usr/games``), or ``None``."""
    found = shutil.which("gnugo")
    if found:
        return found
    if os.path.isfile(GNUGO_FALLBACK_PATH) and os.access(GNUGO_FALLBACK_PATH, os.X_OK):
        return GNUGO_FALLBACK_PATH
    return None


def gnugo_command(level: int = 0, rules: Rules | None = None, executable: str | None = None, seed: int | None = None) -> list[str]:
    """argv for GNU Go in GTP mode at ``level`` (0..10) under ``rules`` (default: chinese preset):
    area or territory scoring, the matching ko rule and suicide rule, the rules' komi; ``seed`` fixes GNU Go's
    random choices (``--seed``). Raises ``FileNotFoundError`` when GNU Go is not installed."""
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= GNUGO_MAX_LEVEL:
        raise ValueError(f"GNU Go level must be an integer in [0, {GNUGO_MAX_LEVEL}], got {level!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    rules = rules if rules is not None else Rules()
    exe = executable or find_gnugo()
    if exe is None:
        raise FileNotFoundError(f"GNU Go not found: no 'gnugo' on PATH and no {GNUGO_FALLBACK_PATH} (apt-get install gnugo)")
    argv = [exe, "--mode", "gtp", "--level", str(level), "--japanese-rules" if rules.is_territory else "--chinese-rules"]
    argv += [_KO_FLAGS[rules.ko], _SUICIDE_FLAGS[rules.suicide], "--komi", f"{rules.komi:g}"]
    if seed is not None:
        argv += ["--seed", str(seed)]
    return argv
