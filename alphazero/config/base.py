"""Machinery for the typed config tree: frozen dataclasses built from dicts/TOML with unknown keys
refused, values type-checked, and dotted command-line overrides (``search.simulations=16``)."""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from typing import Any, TypeVar

T = TypeVar("T", bound="ConfigBase")


class ConfigError(ValueError):
    """A config value or key is wrong; the message names the dotted field."""


def require(condition: bool, message: str) -> None:
    """Raise ``ConfigError(message)`` unless ``condition`` holds (used in ``validate``)."""
    if not condition:
        raise ConfigError(message)


@dataclasses.dataclass(frozen=True)
class ConfigBase:
    """Base of every config section. Subclasses are frozen dataclasses whose field docstrings (a
    string literal right after the field) are the help text; ``validate`` checks value ranges."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Override to check ranges; raise ``ConfigError`` naming the field."""

    # ---- dict round trip -------------------------------------------------------------------
    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any], path: str = "") -> T:
        if not isinstance(data, dict):
            raise ConfigError(f"{path or cls.__name__}: expected a table, got {type(data).__name__}")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            where = f" in [{path}]" if path else ""
            raise ConfigError(f"unknown config key(s){where}: {', '.join(unknown)}; known: {', '.join(fields)}")
        kwargs = {}
        for name, value in data.items():
            dotted = f"{path}.{name}" if path else name
            kwargs[name] = _coerce(hints[name], value, dotted)
        try:
            return cls(**kwargs)
        except ConfigError as e:
            raise ConfigError(f"{path + ': ' if path else ''}{e}") from None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out

    def with_overrides(self: T, overrides: list[str]) -> T:
        """Apply ``a.b.c=value`` strings (values parsed as TOML scalars, else taken as strings)."""
        data = self.to_dict()
        for item in overrides:
            if "=" not in item:
                raise ConfigError(f"override {item!r} is not of the form key.path=value")
            key, raw = item.split("=", 1)
            parts = key.strip().split(".")
            node = data
            for part in parts[:-1]:
                if not isinstance(node.get(part), dict):
                    raise ConfigError(f"override {item!r}: {part!r} is not a config section")
                node = node[part]
            if parts[-1] not in node:
                raise ConfigError(f"override {item!r}: unknown key {key!r}")
            node[parts[-1]] = parse_scalar(raw.strip())
        return type(self).from_dict(data)


def parse_scalar(raw: str) -> Any:
    import tomllib

    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def field_docs(cls: type) -> dict[str, str]:
    """Field docstrings (the string literal after each field) of a dataclass, for help text."""
    import ast
    import inspect
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs = {}
    for prev, node in zip(body, body[1:]):
        if (
            isinstance(prev, ast.AnnAssign)
            and isinstance(prev.target, ast.Name)
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            docs[prev.target.id] = " ".join(node.value.value.split())
    return docs


def _plain(value: Any) -> Any:
    if isinstance(value, ConfigBase):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _coerce(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, path)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{path}: bad value {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        inner = args[0] if args else Any
        return tuple(_coerce(inner, v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{path}: must be one of {list(args)}, got {value!r}")
        return value
    if isinstance(tp, type) and issubclass(tp, ConfigBase):
        return tp.from_dict(value, path)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp) and hasattr(tp, "from_dict"):
        if isinstance(value, tp):
            return value
        try:
            return tp.from_dict(value)
        except ValueError as e:
            raise ConfigError(f"{path}: {e}") from None
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        if isinstance(value, tp):
            return value
        names = {m.name.lower(): m for m in tp}
        if isinstance(value, str) and value.lower().replace("-", "_") in names:
            return names[value.lower().replace("-", "_")]
        raise ConfigError(f"{path}: must be one of {sorted(names)}, got {value!r}")
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: expected a number, got {value!r}")
        if not math.isfinite(float(value)):
            raise ConfigError(f"{path}: must be finite, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {value!r}")
        return value
    return value
