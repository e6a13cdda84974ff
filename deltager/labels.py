"""Labels shared by the domains: an enum member in plain words, and registering them as Jinja filters.

Each domain keeps its own words in a ``labels`` module of its own (``deltager/voting/labels.py``);
what is the same for every domain is here: a label function made from a table of lazy strings,
and the one call that registers a domain's filters with the app (from the app factory, not as a
side effect of importing a view module).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Flask

E = TypeVar("E", bound=enum.Enum)


def enum_label(kind: type[E], labels: Mapping[E, Any], doc: str = "") -> Callable[[E | str], str]:
    """A function that names a member of ``kind`` (or its stored value) with its entry in ``labels``."""

    def label(value: E | str) -> str:
        return str(labels[kind(value)])

    label.__doc__ = doc or f"A {kind.__name__} in plain words."
    return label


def register_filters(app: Flask, filters: Mapping[str, Callable[..., str]]) -> None:
    """Make each function a Jinja filter of the app under its name."""
    for name, function in filters.items():
        app.add_template_filter(function, name)
