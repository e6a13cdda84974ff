"""The accessibility statement's figures: what the accessibility walk covered and found.

``tests/browser/test_accessibility.py`` writes them to ``deltager/accessibility.json`` (and fails
when the file and the walk disagree), so the page at /tilgaengelighed never states a figure by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deltager.mail import sender_address

REPORT = Path(__file__).resolve().parent.parent / "accessibility.json"


@dataclass(frozen=True)
class Figures:
    """The walk's coverage and result, as the statement shows them."""

    routes: int
    route_roles: int
    roles: list[str]
    widths: list[int]
    zoomed_width: int
    pages: int
    checks: int
    axe_tags: list[str]
    violations: int
    tested_on: dt.date


def accessibility_figures(path: Path | None = None) -> Figures:
    """The figures of the last accessibility walk that was written down (``REPORT``)."""
    data: dict[str, Any] = json.loads((path or REPORT).read_text(encoding="utf-8"))
    return Figures(
        routes=data["routes"], route_roles=data["route_roles"], roles=list(data["roles"]),
        widths=list(data["widths"]), zoomed_width=data["zoomed_width"], pages=data["pages"],
        checks=data["checks"], axe_tags=list(data["axe_tags"]), violations=data["violations"],
        tested_on=dt.date.fromisoformat(data["tested_on"]),
    )


def contact_address(config: dict[str, Any]) -> str:
    """Whom citizens tell about a barrier: ``ACCESSIBILITY_CONTACT``, else the address in ``MAIL_FROM``."""
    return str(config.get("ACCESSIBILITY_CONTACT") or sender_address(config))
