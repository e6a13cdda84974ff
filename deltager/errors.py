"""Domain errors: what services raise when a rule is broken.

Services never import flask, so they cannot translate. They raise errors whose message is an
English gettext *msgid* (marked with ``N_`` so the extractor finds it) plus parameters; the view
translates it for the reader's language with ``translate_error``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def N_(message: str) -> str:
    """Mark a string for translation without translating it (gettext_noop)."""
    return message


class DomainError(Exception):
    """A broken rule; ``message`` is a msgid with ``%(name)s`` placeholders filled from ``params``."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class NotFound(DomainError):
    """The object does not exist (or is not visible to the one asking)."""


class NotAllowed(DomainError):
    """The state of the object does not allow this (e.g. an invalid status transition)."""


class ValidationFailed(DomainError):
    """Input broke a rule; ``field`` names the form field to attach the message to, if any."""

    def __init__(self, message: str, field: str | None = None, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


class Throttled(DomainError):
    """Too many attempts; try again later."""


def allows(refusal: Callable[..., None], *args: Any) -> bool:
    """Whether a ``refuse_*`` check (which raises the DomainError that refuses a step) lets the
    step pass: for a page that offers only what is allowed, without restating the rule."""
    try:
        refusal(*args)
    except DomainError:
        return False
    return True
