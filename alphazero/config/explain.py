"""Every field of the config tree with its value, its default and its docstring: the help text of
``alphazero config explain``, generated from the dataclasses (their field docstrings are the docs)."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from typing import Any

from alphazero.config.base import field_docs


def _scalar(value: Any) -> str:
    """A value as it is written on the command line (``KEY=VALUE``, TOML scalars)."""
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return json.dumps(value)


def fields(config: Any, defaults: Any, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(dotted key, value, default, docstring) for every leaf field of the dataclass ``config``,
    compared with ``defaults`` (an instance of the same class)."""
    values, default_values = config.to_dict(), defaults.to_dict()
    docs = field_docs(type(config))
    rows = []
    for f in dataclasses.fields(config):
        key = prefix + f.name
        child = getattr(config, f.name)
        if dataclasses.is_dataclass(child) and hasattr(child, "to_dict"):
            rows += fields(child, getattr(defaults, f.name), key + ".")
        else:
            rows.append((key, _scalar(values[f.name]), _scalar(default_values[f.name]), docs.get(f.name, "")))
    return rows


def explain(config: Any, defaults: Any, title: str, width: int = 100) -> str:
    """The listing: one ``key = value`` line per field (``(default D)`` where the two differ),
    then its docstring indented below it."""
    lines = [title, ""]
    for key, value, default, doc in fields(config, defaults):
        lines.append(f"{key} = {value}" + (f"   (default {default})" if value != default else ""))
        lines += textwrap.wrap(doc or "(undocumented)", width, initial_indent="    ", subsequent_indent="    ")
    return "\n".join(lines) + "\n"
