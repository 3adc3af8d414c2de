"""Core GTP commands: protocol_version, name, version, known_command, list_commands, quit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alphazero.gtp.protocol import check_nargs

if TYPE_CHECKING:
    from alphazero.gtp.engine import GtpEngine

ENGINE_NAME = "alphazero-go"
ENGINE_VERSION = "0.1.0"  # dotted-numeric: Lizzie parses it as major.minor


def protocol_version(engine: GtpEngine, args) -> str:
    return "2"


def name(engine: GtpEngine, args) -> str:
    return ENGINE_NAME


def version(engine: GtpEngine, args) -> str:
    return ENGINE_VERSION


def known_command(engine: GtpEngine, args) -> str:
    check_nargs(args, 1)
    return "true" if engine.known(args[0]) else "false"


def list_commands(engine: GtpEngine, args) -> str:
    return "\n".join(engine.command_names())


def quit_session(engine: GtpEngine, args) -> str:
    engine.quit_requested = True
    return ""


COMMANDS = {
    "protocol_version": protocol_version,
    "name": name,
    "version": version,
    "known_command": known_command,
    "list_commands": list_commands,
    "quit": quit_session,
}
