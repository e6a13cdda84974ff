"""Add missing messages to a domain's Danish catalog (development helper).

    python scripts/i18n_fill.py DOMAIN translations.py

reads a Python file defining ``DA = {"English msgid": "dansk tekst", ...}`` and merges it into
deltager/translations/DOMAIN/da/LC_MESSAGES/messages.po (created if missing). For a plural
message, key and value are tuples: ("%(num)d event", "%(num)d events"): ("… hændelse", "… hændelser").
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent


def main(domain: str, source: str) -> None:
    path = ROOT / "deltager" / "translations" / domain / "da" / "LC_MESSAGES" / "messages.po"
    if path.exists():
        with path.open("rb") as handle:
            catalog = read_po(handle, locale="da")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale="da", project="Deltager", charset="utf-8")
    for msgid, msgstr in runpy.run_path(source)["DA"].items():
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        if key in catalog:
            catalog[key].string = msgstr  # a new wording replaces the old one
        else:
            catalog.add(msgid, msgstr)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True)
    print(f"{path.relative_to(ROOT)}: {len(catalog)} messages")


if __name__ == "__main__":
    main(*sys.argv[1:3])
