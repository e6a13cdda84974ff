"""The admin's view of the audit trail, with filters and pagination."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext

from deltager.accounts.forms import ROLE_LABELS
from deltager.applications.forms import HISTORY_LABELS as application_fields
from deltager.audit import services
from deltager.db import get_session
from deltager.forms import plausible, plausible_date
from deltager.grants import labels as grant_labels
from deltager.i18n import format_local_date, format_local_datetime
from deltager.meetings.forms import HISTORY_LABELS as meeting_fields
from deltager.permissions import Permission, Role
from deltager.rounds.forms import HISTORY_LABELS as round_fields
from deltager.timeutil import start_of_local_day
from deltager.voting.forms import HISTORY_LABELS as vote_fields
from deltager.web import page_number, requires

bp = Blueprint("audit", __name__, url_prefix="/staff/audit")
PER_PAGE = 50


def _date_arg(name: str) -> dt.date | None:
    return plausible_date(request.args.get(name))


@bp.get("/")
@requires(Permission.AUDIT_READ)
def index() -> ResponseReturnValue:
    """Search the audit trail by object, action, actor and dates (Copenhagen days)."""
    since, until = _date_arg("since"), _date_arg("until")
    flt = services.AuditFilter(
        object_type=request.args.get("object_type") or None,
        object_id=request.args.get("object_id") or None,
        action=request.args.get("action") or None,
        actor=(request.args.get("actor") or "")[:120] or None,
        since=start_of_local_day(since) if since else None,
        until=start_of_local_day(until + dt.timedelta(days=1)) if until else None,
    )
    session = get_session()
    page = page_number()
    events, total = services.search(session, flt, page=page, per_page=PER_PAGE)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("audit/index.html", events=events, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), actions=services.known_actions(session), args=args)


#: Plain words for the actions the trail records; an action not listed shows as its code.
ACTION_LABELS = {
    "round.create": lazy_gettext("Round created"),
    "round.update": lazy_gettext("Round edited"),
    "round.status": lazy_gettext("Status changed"),
    "user.create": lazy_gettext("User created"),
    "user.update": lazy_gettext("User edited"),
    "user.login": lazy_gettext("Signed in"),
    "user.password_reset": lazy_gettext("Password reset"),
    "user.activate": lazy_gettext("User reactivated"),
    "user.deactivate": lazy_gettext("User deactivated"),
    "meeting.create": lazy_gettext("Meeting planned"),
    "meeting.update": lazy_gettext("Meeting edited"),
    "meeting.cancel": lazy_gettext("Meeting cancelled"),
    "meeting.attendance": lazy_gettext("Attendance recorded"),
    "meeting.register": lazy_gettext("Signed up for a meeting"),
    "meeting.unregister": lazy_gettext("Sign-up cancelled"),
    "applicant.sign_in": lazy_gettext("Applicant signed in"),
    "application.create": lazy_gettext("Application started"),
    "application.update": lazy_gettext("Application edited"),
    "application.submit": lazy_gettext("Application submitted"),
    "application.withdraw": lazy_gettext("Application withdrawn"),
    "application.screening": lazy_gettext("Screening checklist updated"),
    "application.decision": lazy_gettext("Decision made"),
    "application.access_code": lazy_gettext("Receipt printed with a new personal code"),
    "application.contacted": lazy_gettext("Applicant without e-mail phoned or written to"),
    "meeting.contacted": lazy_gettext("Person without e-mail phoned or written to"),
    "voting.settings": lazy_gettext("Ballot rules set"),
    "voting.stands": lazy_gettext("Stand numbers assigned"),
    "voting.cards_issue": lazy_gettext("Ballot cards issued"),
    "voting.card_void": lazy_gettext("Ballot card voided"),
    "voting.card_replacement": lazy_gettext("Replacement ballot card issued"),
    "voting.cards_renew": lazy_gettext("A batch of ballot cards given new codes"),
    "voting.open": lazy_gettext("Vote opened"),
    "voting.close": lazy_gettext("Vote closed"),
    "voting.door_count": lazy_gettext("Head count at the door recorded"),
    "voting.paper_ballot": lazy_gettext("Paper ballot entered"),
    "voting.allocate": lazy_gettext("Pot allocated and result frozen"),
    **grant_labels.ACTION_LABELS,
}


@bp.app_template_filter("audit_action")
def audit_action_label(action: str) -> str:
    """An audit action in plain words."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


#: What each kind of object is called (the trail's ``object_type``).
OBJECT_LABELS = {
    "round": lazy_gettext("Round"),
    "user": lazy_gettext("User"),
    "meeting": lazy_gettext("Meeting"),
    "registration": lazy_gettext("Sign-up"),
    "application": lazy_gettext("Application"),
    "applicant": lazy_gettext("Applicant"),
    "allocation": lazy_gettext("Result of a vote"),
    **grant_labels.OBJECT_LABELS,
}
#: Fields only the trail writes (the domains' own history labels name the rest, see ``field_labels``).
TRAIL_FIELD_LABELS = {
    "user": {
        "email": lazy_gettext("E-mail"), "name": lazy_gettext("Name"), "role": lazy_gettext("Role"),
        "active": lazy_gettext("Active"),
    },
    "meeting": {
        "attended": lazy_gettext("Signed-up people who came"), "walk_in_count": lazy_gettext("Came without signing up"),
        "batch": lazy_gettext("Batch of cards"), "count": lazy_gettext("Number of cards"),
        "serial": lazy_gettext("Card number"), "serials": lazy_gettext("Card numbers"),
    },
    "registration": {
        "meeting_id": lazy_gettext("Meeting no."), "applicant_id": lazy_gettext("Applicant no."),
        "cancelled_at": lazy_gettext("Cancelled on"),
    },
    "application": {"on_behalf_by_user_id": lazy_gettext("Filled in by staff member no.")},
    "allocation": {
        "meeting_id": lazy_gettext("Meeting no."), "rule": lazy_gettext("Allocation rule"),
        "tie_break": lazy_gettext("Tie-break"), "seed": lazy_gettext("Lottery seed"),
        "inputs_hash": lazy_gettext("Checksum of votes and amounts"), "ballots": lazy_gettext("Ballots"),
        "selected": lazy_gettext("Funded projects (application no.)"), "remainder_ore": lazy_gettext("Not allocated"),
    },
}


@functools.cache
def field_labels() -> dict[str, dict[str, Any]]:
    """Per object type, what each recorded field is called: the domains' history labels (as on
    their forms) and the trail's own."""
    domain = {
        "round": round_fields, "application": application_fields, "meeting": {**meeting_fields, **vote_fields},
        **grant_labels.FIELD_LABELS,
    }
    return {kind: {**domain.get(kind, {}), **TRAIL_FIELD_LABELS.get(kind, {})} for kind in OBJECT_LABELS}


#: Per object type, the template filter that shows a field's values in plain words.
VALUE_FILTERS = {
    "round": {"status": "round_status"},
    "application": {"status": "application_status_staff", "applicant_type": "applicant_type",
                    "child_certificate": "child_certificate", "budget": "budget_lines"},
    "meeting": {"kind": "meeting_kind", "state": "vote_state", "rule": "vote_rule", "tie_break": "vote_tie_break"},
    "allocation": {"rule": "vote_rule", "tie_break": "vote_tie_break"},
    "user": {"role": "user_role"},
    **grant_labels.VALUE_FILTERS,
}


@bp.app_template_global()
def audit_fields(object_type: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The field labels and value filters of one kind of object, for the trail's pages."""
    return field_labels().get(object_type, {}), VALUE_FILTERS.get(object_type, {})


@bp.app_template_filter("audit_field")
def audit_field_label(key: str, labels: dict[str, Any]) -> str:
    """A recorded field's name: its label; a stand list's key is an application number."""
    if key in labels:
        return str(labels[key])
    if key.isdigit():
        return gettext("Stand of application no. %(number)s", number=key)
    return key


@bp.app_template_filter("audit_object")
def audit_object_label(object_type: str) -> str:
    """The kind of an object in plain words."""
    label = OBJECT_LABELS.get(object_type)
    return str(label) if label is not None else object_type


@bp.app_template_filter("user_role")
def user_role_label(role: str) -> str:
    """A staff role in plain words."""
    try:
        return str(ROLE_LABELS[Role(role)])
    except ValueError:
        return role


_APPLICANT_ACTOR = re.compile(r"applicant:(\d+)(?: (.*))?")


@bp.app_template_filter("audit_actor")
def audit_actor_label(label: str) -> str:
    """Who acted: a staff e-mail as it is; an applicant ("applicant:19 x@y.dk") as "Ansøger nr. 19 (x@y.dk)"."""
    match = _APPLICANT_ACTOR.fullmatch(label)
    if match is None:
        return gettext("The system") if label == "system" else label
    number, email = match.groups()
    text = gettext("Applicant no. %(number)s", number=number)
    return f"{text} ({email})" if email else text


_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2})?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LONG_TEXT = 120


@bp.app_template_filter("audit_value")
def audit_value_label(value: Any) -> str:
    """A value from the trail's JSON in plain words: yes/no, dates as dates, "—" for nothing.

    The trail stores dates and times as ISO text (see ``services._jsonable``); they are shown in
    the reader's language and Copenhagen time. Long texts are cut, lists joined.
    """
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list):
        return "; ".join(audit_value_label(v) for v in value)
    if isinstance(value, str):
        try:  # free text may look like a date without being one ("2027-13-45"): shown as typed
            if _ISO_DATETIME.fullmatch(value):  # "9999-12-31T23:59" typed as text is no time of ours
                return format_local_datetime(plausible(dt.datetime.fromisoformat(value)))
            if _ISO_DATE.fullmatch(value):
                return format_local_date(plausible(dt.date.fromisoformat(value)))
        except ValueError:
            return value
        if len(value) > _LONG_TEXT:
            return value[:_LONG_TEXT].rstrip() + "…"
    return str(value)
