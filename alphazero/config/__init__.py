"""The typed config tree: frozen, validated dataclasses; one section per module in this package."""

from alphazero.config.base import ConfigBase, ConfigError, require

__all__ = ["ConfigBase", "ConfigError", "require"]
