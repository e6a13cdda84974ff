"""One confirmation page for steps that cannot simply be undone (a round's transition, opening or
closing a vote): GET shows what will happen, a POST with its CSRF token acts.

A view builds a :class:`Confirmation` naming the step's consequences in plain words and renders
it with :func:`confirmation_page`; its POST route does the step. A consequence marked
``blocking`` is a reason the step would be refused now: the page then says what to do first and
offers no button (the POST would refuse it all the same).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flask import render_template
from flask.typing import ResponseReturnValue

from deltager.forms import ConfirmForm


@dataclass(frozen=True)
class Consequence:
    """One thing the step does or one thing the person should know first (translated text)."""

    text: str
    items: Sequence[str] = ()  # e.g. the help meetings still ahead, the projects on the ballot
    warning: bool = False  # shown as a warning: probably not what was meant
    blocking: bool = False  # the step would be refused now, for this reason


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page shows, and where its button posts."""

    title: str
    lead: str
    consequences: Sequence[Consequence]
    action: str  # the URL the button posts to
    button: str
    back: str  # the URL of "Cancel"
    breadcrumb: str = ""  # the label of the link back (``back``) above the heading
    hidden: Mapping[str, str] = field(default_factory=dict)
    after_download: str = ""  # if the POST answers with a file: the page to go to once it is saved

    @property
    def blocked(self) -> bool:
        """True if a consequence says the step would be refused now."""
        return any(c.blocking for c in self.consequences)


def confirmation_page(confirmation: Confirmation) -> ResponseReturnValue:
    """The confirmation page. A step refused now is still a page that opens (200): it says why."""
    return render_template("confirm.html", c=confirmation, form=ConfirmForm())
