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
    MEETING_STAFF = "meeting_staff"  # run meetings: check-in, and the voting evening at the hall
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
    VOTING_PREPARE = "voting:prepare"  # ballot rules, stand numbers, stand posters, rule comparison
    VOTING_CARDS = "voting:cards"  # issue ballot cards, download a batch again
    VOTING_RUN = "voting:run"  # void and replace cards, print and enter paper ballots, the door count
    VOTING_OPEN_CLOSE = "voting:open_close"  # open the vote; close it (allocate and freeze the result)
    VOTING_RESULTS = "voting:results"
    GRANTS_VIEW = "grants:view"  # grants, ledgers, claims and their files, batches, follow-up talks
    GRANTS_MANAGE = "grants:manage"  # make grants, conditions on paper, børneattest, hold, stop, repayments, talks
    GRANTS_CLAIM_APPROVE = "grants:claim:approve"  # decide claims; register a paper claim
    GRANTS_PAYOUT = "grants:payout"  # payout batches: build, export for the finance system, mark paid


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
            # They run the evening at the hall: everything the meeting itself needs, nothing that
            # decides what is voted on or how it is counted (VOTING_PREPARE, ROUNDS_EDIT). See the
            # README's role table.
            Permission.VOTING_CARDS,
            Permission.VOTING_RUN,
            Permission.VOTING_OPEN_CLOSE,
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
            Permission.GRANTS_VIEW,
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
