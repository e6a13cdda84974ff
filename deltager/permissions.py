"""Roles and named permissions, and the one pure function that decides.

Views declare what they need with ``@requires(Permission.X)`` (see ``deltager.web``); nothing
else in the code asks "is this user an admin?".
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """What a staff member does in the department."""

    ADMIN = "admin"
    CASEWORKER = "caseworker"
    MEETING_STAFF = "meeting_staff"  # check-in and paper ballots at meetings only
    VIEWER = "viewer"  # management: reads rounds and reports


class Permission(enum.StrEnum):
    """A named thing a staff member may do."""

    STAFF_HOME = "staff:home"
    ROUNDS_VIEW = "rounds:view"
    ROUNDS_EDIT = "rounds:edit"
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    MEETINGS_VIEW = "meetings:view"
    MEETINGS_EDIT = "meetings:edit"
    MEETINGS_ATTENDANCE = "meetings:attendance"
    APPLICATIONS_VIEW = "applications:view"
    APPLICATIONS_SCREEN = "applications:screen"
    APPLICATIONS_ON_BEHALF = "applications:on_behalf"
    VOTING_PREPARE = "voting:prepare"
    VOTING_RUN = "voting:run"  # open/close the vote, void cards, enter paper ballots
    VOTING_RESULTS = "voting:results"


_EVERYTHING = frozenset(Permission)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: _EVERYTHING,
    Role.CASEWORKER: _EVERYTHING - {Permission.USERS_MANAGE, Permission.AUDIT_READ},
    Role.MEETING_STAFF: frozenset(
        {
            Permission.STAFF_HOME,
            Permission.ROUNDS_VIEW,  # to reach a round's meetings and its voting meeting
            Permission.MEETINGS_VIEW,
            Permission.MEETINGS_ATTENDANCE,
            Permission.APPLICATIONS_ON_BEHALF,
            Permission.VOTING_RUN,
            Permission.VOTING_RESULTS,
        }
    ),
    Role.VIEWER: frozenset(
        {
            Permission.STAFF_HOME,
            Permission.ROUNDS_VIEW,
            Permission.MEETINGS_VIEW,
            Permission.APPLICATIONS_VIEW,
            Permission.VOTING_RESULTS,
        }
    ),
}


def has_permission(role: Role | str | None, permission: Permission) -> bool:
    """True if a staff member with this role may do this. Pure: no request, no database."""
    if role is None:
        return False
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
