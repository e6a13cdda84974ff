"""The admin's view of the audit trail, with filters and pagination."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from deltager.audit import services
from deltager.db import get_session
from deltager.permissions import Permission
from deltager.timeutil import start_of_local_day
from deltager.web import page_number, requires

bp = Blueprint("audit", __name__, url_prefix="/staff/audit")
PER_PAGE = 50


def _date_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


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
    return render_template(
        "audit/index.html",
        events=events,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        actions=services.known_actions(session),
        args=args,
    )
