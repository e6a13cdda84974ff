"""Voting's statements that read other domains' rows in bulk (applications and their photos) and
the phone's hot path, built once with bound parameters.

Voting reads one application through ``applications.services``; what it reads in bulk (the
ballot's projects with their photos, the result's titles and stands) is here, so every place where
voting reads an application's columns is in one file. Nothing here writes another domain's rows.
"""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update

from deltager import ratelimit
from deltager.applications.models import Application, ApplicationStatus, Photo
from deltager.meetings.models import Meeting
from deltager.voting.models import AllocationLine, Ballot, BallotCard, BallotChoice, CardStatus, VoteSettings

CARD_CODE_SCOPE = "card_code"  # the rate limit on invalid card codes (deltager.ratelimit)

# --------------------------------------------------------------------------- the hot path's statements
#
# The statements a phone's requests run are built once, with bound parameters, instead of on every
# call: building a joined SELECT costs several times more CPU than running it on SQLite, and a
# hall of phones runs them thousands of times a minute. SQLAlchemy compiles each of them once per
# process (its statement cache); the values travel as parameters.

ON_BALLOT = (Application.round_id == bindparam("round_id")) & (Application.status == ApplicationStatus.ON_BALLOT)

BALLOT_PROJECTS = (
    select(Application.id, Application.title, Application.summary, Application.requested_ore,
           Application.stand_number, Photo.id)
    .outerjoin(Photo, Photo.application_id == Application.id)
    .where(ON_BALLOT)
    .order_by(Application.stand_number.is_(None), Application.stand_number, Application.id)
)

CARD_ID_BY_HASH = select(BallotCard.id).where(BallotCard.code_hash == bindparam("code_hash"))

# The phone's card with its meeting's settings and the ballot's projects, in one round trip: one
# row per project on the ballot (the card's columns repeated), or one row with NULL project columns.
ON_THIS_BALLOT = (Application.round_id == Meeting.round_id) & (Application.status == ApplicationStatus.ON_BALLOT)
CARD_BALLOT = (
    select(BallotCard.id, BallotCard.code_hash, BallotCard.status, BallotCard.meeting_id, Meeting.round_id,
           Meeting.title, VoteSettings.state, VoteSettings.min_choices, VoteSettings.max_choices,
           *BALLOT_PROJECTS.selected_columns)
    .join(Meeting, Meeting.id == BallotCard.meeting_id)
    .join(VoteSettings, VoteSettings.meeting_id == BallotCard.meeting_id)
    .outerjoin(Application, ON_THIS_BALLOT)
    .outerjoin(Photo, Photo.application_id == Application.id)
    .where(BallotCard.id == bindparam("card_id"))
    .order_by(*BALLOT_PROJECTS._order_by_clauses)
)
CARD_COLUMNS = 9

# A scan: the client's recent invalid codes and the card, in one round trip.
SCAN = select(ratelimit.recent_hits_query(CARD_CODE_SCOPE), CARD_ID_BY_HASH.scalar_subquery())

# Casting: the card with its meeting's settings, the settings row share-locked (PostgreSQL).
# One row per project on the ballot (its id last; one row with NULL if there is none).
CAST_CARD = (
    select(BallotCard.status, BallotCard.meeting_id, VoteSettings.state, VoteSettings.min_choices,
           VoteSettings.max_choices, Meeting.round_id, Application.id)
    .join(VoteSettings, VoteSettings.meeting_id == BallotCard.meeting_id)
    .join(Meeting, Meeting.id == BallotCard.meeting_id)
    .outerjoin(Application, ON_THIS_BALLOT)
    .where(BallotCard.id == bindparam("card_id"))
    .with_for_update(read=True, of=VoteSettings)
)
MARK_CARD_USED = (
    update(BallotCard)
    .where(BallotCard.id == bindparam("card_id"), BallotCard.status == CardStatus.ISSUED)
    .values(status=CardStatus.USED)
    .execution_options(synchronize_session=False)
)
INSERT_BALLOT = insert(Ballot).values(card_id=bindparam("card_id"), channel=bindparam("channel"))
INSERT_CHOICE = insert(BallotChoice)

# A published result's lines with their projects' stands and titles, in rank order.
RESULT_LINES = (
    select(AllocationLine, Application.stand_number, Application.title)
    .join(Application, Application.id == AllocationLine.application_id)
    .where(AllocationLine.allocation_id == bindparam("allocation_id"))
    .order_by(AllocationLine.rank)
)
