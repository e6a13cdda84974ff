"""Every grants value and every audit action the grants domain writes has plain words."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from deltager.audit.views import ACTION_LABELS, OBJECT_LABELS, audit_fields
from deltager.grants import labels

GRANTS = Path(__file__).resolve().parents[2] / "deltager" / "grants"


def test_every_audit_action_of_grants_has_words() -> None:
    written = set()
    for path in GRANTS.glob("*.py"):
        written |= set(re.findall(r'(?:record|_changed)\(\s*session, actor, "([a-z_]+\.[a-z_]+)"', path.read_text()))
    assert written and written <= set(ACTION_LABELS), written - set(ACTION_LABELS)
    assert {"grant", "expense_claim", "payout_batch", "follow_up_talk"} <= set(OBJECT_LABELS)


def test_every_member_has_a_label_and_the_filters_are_registered(app: Flask) -> None:
    tables = [labels.GRANT_STATUS_LABELS, labels.PAYOUT_MODE_LABELS, labels.PAYEE_TYPE_LABELS,
              labels.CONDITIONS_CHANNEL_LABELS, labels.CLAIM_KIND_LABELS, labels.CLAIM_STATUS_LABELS,
              labels.BATCH_STATUS_LABELS, labels.CLAIM_FLAG_LABELS, labels.WAITING_FOR_LABELS]
    for table in tables:
        assert set(table) == set(type(next(iter(table))))
    with app.test_request_context(headers={"Accept-Language": "da"}):
        assert app.jinja_env.filters["claim_status"]("lowered") == "Godkendt med et lavere beløb"
        fields, filters = audit_fields("expense_claim")
        assert str(fields["approved_ore"]) == "Godkendt (kr.)" and filters["approved_ore"] == "money"
