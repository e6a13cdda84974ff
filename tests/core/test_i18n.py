"""Danish is complete: every message in the code and the templates has a Danish translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale

from deltager.i18n import TRANSLATIONS_ROOT

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None}


def _extracted() -> dict[str, str]:
    found: dict[str, str] = {}
    method_map = [("deltager/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.do"}}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, options_map=options, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, filename)
    return found


def _danish() -> dict[str, object]:
    translated: dict[str, object] = {}
    for po in TRANSLATIONS_ROOT.glob("*/da/LC_MESSAGES/messages.po"):
        with po.open("rb") as handle:
            for message in read_po(handle, locale="da"):
                if not message.id or message.fuzzy:
                    continue
                msgid = message.id[0] if isinstance(message.id, tuple) else message.id
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                if all(strings):
                    translated[msgid] = message.string
    return translated


def test_every_message_has_a_danish_translation() -> None:
    extracted = _extracted()
    assert len(extracted) > 100
    danish = _danish()
    missing = sorted(f"{where}: {msgid!r}" for msgid, where in extracted.items() if msgid not in danish)
    assert missing == [], "add Danish translations (scripts/i18n_fill.py):\n" + "\n".join(missing)


def test_placeholders_survive_translation() -> None:
    import re

    placeholder = re.compile(r"%\((\w+)\)[sd]")
    for msgid, string in _danish().items():
        strings = string if isinstance(string, tuple) else (string,)
        for s in strings:
            assert set(placeholder.findall(s)) <= set(placeholder.findall(msgid)), (msgid, s)


def test_catalogs_agree_where_they_overlap() -> None:
    """Catalogs are merged at run time; the same message must read the same in every one."""
    seen: dict[str, tuple[object, str]] = {}
    conflicts = []
    for po in sorted(TRANSLATIONS_ROOT.glob("*/da/LC_MESSAGES/messages.po")):
        with po.open("rb") as handle:
            for message in read_po(handle, locale="da"):
                msgid = message.id[0] if isinstance(message.id, tuple) else message.id
                if not msgid or not message.string:
                    continue
                if msgid in seen and seen[msgid][0] != message.string:
                    conflicts.append(f"{msgid!r}: {seen[msgid][1]} says {seen[msgid][0]!r}, {po.parts[-4]} says {message.string!r}")
                seen.setdefault(msgid, (message.string, po.parts[-4]))
    assert conflicts == []


def test_templates_translate_in_the_request_language_and_follow_force_locale(app: Flask) -> None:
    """The catalog is looked up once per request, but per locale: force_locale still switches."""
    template = app.jinja_env.from_string('{{ _("Hello") }} · {{ ngettext("%(num)d application", "%(num)d applications", 2) }}')
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert template.render() == "Hello · 2 applications"
        with force_locale("da"):
            assert template.render() == "Hej · 2 ansøgninger"
        assert template.render() == "Hello · 2 applications"
    with app.test_request_context("/"):
        assert template.render() == "Hej · 2 ansøgninger"


def test_a_sentence_ending_with_an_amount_has_one_period(app: Flask) -> None:
    """ "kr." ends with its own period: "… op til 25.000 kr.. Sidste frist" must read "kr. Sidste"."""
    template = app.jinja_env.from_string(
        '{{ _("Round: %(title)s. You can apply for up to %(cap)s. Last day to apply: %(date)s.", '
        'title="<Pulje>", cap=2500000|money, date="1. maj") }}'
    )
    with app.test_request_context("/"):
        text = template.render()
    assert text == "Forløb: &lt;Pulje&gt;. Du kan søge op til 25.000 kr. Sidste frist: 1. maj."
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert "up to 25.000 kr. Last day" in template.render()
