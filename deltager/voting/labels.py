"""Voting's values in plain words: the vote's state, the allocation rules and tie-breaks, and an
amount in an uploaded file's unit. The app factory registers them as Jinja filters
(:func:`init_app`); the audit trail's history names the same filters (``forms.HISTORY_VALUE_FILTERS``).
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _

from deltager.labels import enum_label, register_filters
from deltager.money import format_ore
from deltager.voting.models import AllocationRule, TieBreak, VoteState

RULE_LABELS = {
    AllocationRule.GREEDY: _("Most votes first (greedy by votes)"),
    AllocationRule.MES: _("Method of Equal Shares"),
}
TIE_BREAK_LABELS = {
    TieBreak.COST: _("Fewest kroner first"),
    TieBreak.LOTTERY: _("Lottery (a seed is drawn and recorded when the vote closes)"),
    TieBreak.ID: _("Lowest application number first"),
}
VOTE_STATE_LABELS = {
    VoteState.PREPARING: _("Being prepared"),
    VoteState.OPEN: _("Open for votes"),
    VoteState.CLOSED: _("Closed"),
}

vote_state_label = enum_label(VoteState, VOTE_STATE_LABELS, "A vote's state in plain words.")
vote_rule_label = enum_label(AllocationRule, RULE_LABELS, "An allocation rule in plain words.")
vote_tie_break_label = enum_label(TieBreak, TIE_BREAK_LABELS, "A tie-break in plain words.")


def vote_money(amount: int, unit: int = 100) -> str:
    """An amount in a file's smallest unit: øre as kroner, other units as plain numbers."""
    if unit == 100:
        return format_ore(amount)
    return f"{amount / unit:,.2f}".replace(",", " ")


FILTERS = {
    "vote_state": vote_state_label,
    "vote_rule": vote_rule_label,
    "vote_tie_break": vote_tie_break_label,
    "vote_money": vote_money,
}


def init_app(app: Flask) -> None:
    """Register voting's label filters (called by the app factory)."""
    register_filters(app, FILTERS)
