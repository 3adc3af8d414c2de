"""Every field of the config tree with its value, its default and its docstring: the help text of
``alphazero config explain``, generated from the dataclasses (their field docstrings are the docs)."""

from __future__ import annotations

import dataclasses
import json
import textwrap
import typing
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
        elif _table_type(type(config), f.name) is not None:
            # A list of tables (curriculum.stages): the list's docstring, then each table's fields
            # against that table type's defaults (with no table, the fields a table takes, as key[]).
            table = _table_type(type(config), f.name)
            rows.append((key, f"[{len(child)} table(s)]", f"[{len(default_values[f.name])} table(s)]", docs.get(f.name, "")))
            for i, item in enumerate(child or (table(),)):
                rows += fields(item, table(), f"{key}[{i if child else ''}].")
        else:
            rows.append((key, _scalar(values[f.name]), _scalar(default_values[f.name]), docs.get(f.name, "")))
    return rows


def _table_type(cls: type, name: str) -> type | None:
    """The element type of field ``name`` of ``cls`` when it is a tuple of config tables."""
    hint = typing.get_type_hints(cls).get(name)
    if typing.get_origin(hint) is tuple:
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        if len(args) == 1 and dataclasses.is_dataclass(args[0]) and hasattr(args[0], "to_dict"):
            return args[0]
    return None


def explain(config: Any, defaults: Any, title: str, width: int = 100) -> str:
    """The listing: one ``key = value`` line per field (``(default D)`` where the two differ),
    then its docstring indented below it."""
    lines = [title, ""]
    for key, value, default, doc in fields(config, defaults):
        lines.append(f"{key} = {value}" + (f"   (default {default})" if value != default else ""))
        lines += textwrap.wrap(doc or "(undocumented)", width, initial_indent="    ", subsequent_indent="    ")
    return "\n".join(lines) + "\n"
