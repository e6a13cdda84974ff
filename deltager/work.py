"""One unit of work for a POST view: begin the write, commit once, show a refusal, send mail after.

A view that changes something reads: load → authorise → validate → one call → redirect::

    if form.validate_on_submit():
        with unit_of_work(form) as work:
            user = services.create_user(session, staff_actor(), …)
        if work.done:
            flash(_("The user was created."), "success")
            return see_other("accounts.user", user_id=user.id)
    return render_template("accounts/user_new.html", form=form)

Inside the block the request writes: on SQLite it holds ``BEGIN IMMEDIATE`` (a view marked
``reads_first`` gets it here, after its slow reading). When the block ends normally the
transaction commits once and then the e-mails queued with :meth:`Work.after_commit` go out, so
nobody is told of a change that was rolled back. A ``DomainError`` raised inside rolls everything
back and is shown on the form (on the field it names) or flashed; ``work.done`` is then False and
the view shows its page again with what the user typed, answering ``work.refused_status`` (409
Conflict when the state of things refused it, e.g. to the caseworker who came second). A view that
shows a refusal its own way (the phone ballot re-rendered with its message, a card's status page)
passes ``show=False`` and reads ``work.error``. Any other exception propagates (a bug: the error
page, and the teardown rolls back).

A form with a submission key (:class:`deltager.forms.OnceForm`) changes things once: the key is
written first, in the same transaction (deltager.submissions). When it was written before (a
double click's second request), the block still runs but everything is rolled back, a refusal is
not shown and nothing is sent: ``work.repeated`` is True and ``work.done`` False, and the view
answers as if done, with :func:`already_received`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from flask import flash, has_request_context, request
from flask_babel import gettext
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import Form

from deltager import submissions
from deltager.db import begin_write_now, get_session, utcnow
from deltager.errors import DomainError, NotAllowed
from deltager.web import see_other, show_error


class Work:
    """What a unit of work knows: its session, whether it committed, what to do after the commit."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.done = False
        #: The form's key was written before: this is a second submission, and changed nothing.
        self.repeated = False
        self.error: DomainError | None = None
        self.results: list[Any] = []
        self._after: list[Callable[[], Any]] = []

    def after_commit(self, send: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``send(*args, **kwargs)`` once the change is committed (an e-mail, typically); its
        return value is appended to ``results``, in the order the calls were queued. Nothing runs
        if the work is rolled back."""
        self._after.append(lambda: send(*args, **kwargs))

    @property
    def refused_status(self) -> int:
        """The HTTP status of the page shown after a refusal: 409 Conflict when the state of things
        refused the change (``NotAllowed``: someone else changed it first), else 400 (the input)."""
        return 409 if isinstance(self.error, NotAllowed) else 400


@contextlib.contextmanager
def unit_of_work(form: Form | None = None, *, session: Session | None = None, show: bool = True) -> Iterator[Work]:
    """Begin writing, yield the :class:`Work`, commit once; a ``DomainError`` rolls back and is
    shown (on ``form``, or flashed), unless ``show`` is False."""
    session = session or get_session()
    begin_write_now(session)
    work = Work(session)
    key = submission_key(form)
    if key is not None:
        endpoint = (request.endpoint or "") if has_request_context() else ""
        work.repeated = not submissions.record(session, key, endpoint, utcnow())
    try:
        yield work
    except DomainError as error:
        session.rollback()
        if work.repeated:  # the first submission changed things already: nothing to show
            return
        work.error = error
        if show:
            show_error(error, form)
        return
    if work.repeated:
        session.rollback()
        return
    session.commit()
    work.done = True
    for send in work._after:
        work.results.append(send())


def submission_key(form: Form | None) -> str | None:
    """The form's submission key, or None (a form without one, or sent without one)."""
    field = getattr(form, "submission_key", None) if form is not None else None
    return submissions.clean_key(getattr(field, "data", None))


def already_received(endpoint: str, **values: Any) -> Response:
    """The answer to a second submission of the same form: where the first one went, calmly."""
    flash(gettext("This was already received."), "success")
    return see_other(endpoint, **values)
