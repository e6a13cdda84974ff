"""Plain language on citizen pages: LIX 40 or less on every page a citizen reads that has 50 words or more.

LIX (Björnsson's readability index, used for Danish) = words per sentence + 100 × the share of
words longer than six letters. Measured on the visible text of the page's ``<body>`` (not what
only a screen reader hears), in Danish, on the demo's data: every public page, the
applicant's pages, the ballot with a scanned card, its confirmation and thank-you, a meeting
sign-up's confirmation and the accessibility statement.

A heading, a list item, a label, a button or a table cell ends a sentence, as a full stop does:
they are read as units, and counting a page of labels as one long sentence would measure nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from flask import Flask
from sqlalchemy import select

from deltager.audit.services import Actor
from deltager.db import get_db, utcnow
from deltager.meetings.models import Meeting, MeetingKind
from deltager.voting import services as voting
from deltager.web import access_of
from tests.walk import Readers, argument_values, demo_app, rules, urls

LIMIT = 40
MIN_WORDS = 50
LONG = 6  # letters: a word with more is a long word

_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
#: A full stop, colon, ! or ? before a space ends a sentence, but not after a number ("14. oktober", an
#: ordinal) or an abbreviation ("kl. 17", "25.000 kr. pr. projekt"): counting those as sentences would
#: make every page with dates and money look easier than it reads.
_SENTENCE_END = re.compile(r"(?<!\d)(?<!\bkl)(?<!\bkr)(?<!\bpr)(?<!\bca)(?<!\bnr)(?<!\bbl\.a)(?<!\bf\.eks)(?<!\bevt)"
                           r"(?<!\bdvs)(?<!\bjf)[.:!?]+(?=\s|$)", re.IGNORECASE)
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_BLOCK = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "label", "button", "dt", "dd", "td", "th", "legend",
          "option", "caption", "summary", "div", "section", "article", "fieldset", "ul", "ol", "dl", "tr",
          "table", "form", "br", "figcaption", "blockquote", "nav", "header", "footer", "select"}
_UNSEEN = {"script", "style", "template", "noscript", "head", "title"}


@dataclass(frozen=True)
class Score:
    """A text's LIX and what it is made of."""

    lix: float
    words: int
    sentences: int
    long_words: list[str]


def lix(units: list[str]) -> Score:
    """LIX of a text given as units that each end a sentence (and may hold several sentences)."""
    words: list[str] = []
    sentences = 0
    for unit in units:
        for sentence in _SENTENCE_END.split(unit):
            found = _WORD.findall(sentence)
            if found:
                words += found
                sentences += 1
    if not words:
        return Score(0.0, 0, 0, [])
    long_words = [w for w in words if sum(c.isalpha() for c in w) > LONG]
    return Score(len(words) / sentences + 100 * len(long_words) / len(words), len(words), sentences, long_words)


class _VisibleText(HTMLParser):
    """The visible text of ``<body>``, cut into units at block elements."""

    def __init__(self) -> None:
        super().__init__()
        self.units: list[str] = [""]
        self._stack: list[tuple[str, bool]] = []  # (tag, hidden from sight)

    def _hidden(self) -> bool:
        return any(hidden for _tag, hidden in self._stack)

    def _in_body(self) -> bool:
        return any(tag == "body" for tag, _hidden in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in _BLOCK:
            self.units.append("")
        if tag in _VOID:
            return
        hidden = (tag in _UNSEEN or "hidden" in a or a.get("aria-hidden") == "true"
                  or "visually-hidden" in (a.get("class") or "").split())
        self._stack.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK:
            self.units.append("")
        for n in range(len(self._stack) - 1, -1, -1):
            if self._stack[n][0] == tag:
                del self._stack[n:]
                break

    def handle_data(self, data: str) -> None:
        if self._in_body() and not self._hidden():
            self.units[-1] += data


def page_lix(html: str) -> Score:
    """LIX of the visible text in a page's ``<body>``."""
    parser = _VisibleText()
    parser.feed(html)
    return lix([u for u in parser.units if u.strip()])


def test_lix_counts_words_sentences_and_long_words() -> None:
    assert lix(["Jeg er her. Du er der!"]) == Score(3.0, 6, 2, [])
    score = lix(["Ansøgningsfristen for afstemningsmødet er overskredet."])
    assert score.words == 5 and score.sentences == 1 and score.long_words == [
        "Ansøgningsfristen", "afstemningsmødet", "overskredet"]
    assert score.lix == pytest.approx(5 + 60)
    assert lix(["Søg", "Tilmeld dig"]).sentences == 2  # a label and a button each end a sentence
    assert lix(["Kl. 17.00 koster det 25.000 kr."]).words == 4  # numbers are no words


def test_page_text_is_what_is_seen() -> None:
    html = ('<html><head><title>Langtitelord</title></head><body><header>Sidehoved</header>'
            '<main><h1>Overskrift</h1><p>Kort tekst. <span class="visually-hidden">Skjultord</span>'
            '<script>varlængde = 1</script></p><ul><li>Et punkt<br>her</li></ul><p hidden>Gemmeleg</p></main>'
            '<footer>Bund</footer></body></html>')
    score = page_lix(html)
    assert (score.words, score.sentences, score.long_words) == (8, 6, ["Sidehoved", "Overskrift"])


def _citizen_pages(app: Flask) -> Iterator[tuple[str, str]]:
    """(where, its HTML) for every citizen page of the demo."""
    readers = Readers(app)
    with app.app_context():
        session = get_db(app).session()
        values = argument_values(session)
        sign_up = session.scalars(select(Meeting.id).where(Meeting.kind != MeetingKind.VOTE, Meeting.starts_at > utcnow())
                                  .order_by(Meeting.id)).first()
        open_vote = session.scalars(select(Meeting.id).where(Meeting.kind == MeetingKind.VOTE).order_by(Meeting.id)).first()
        assert sign_up is not None and open_vote is not None
        code = voting.issue_cards(session, Actor.system("plain-language test"), open_vote, 1, utcnow())[0].code
        session.commit()
        session.close()
    for rule in rules(app):
        if "GET" not in (rule.methods or ()) or access_of(app.view_functions[rule.endpoint]) not in ("public", "applicant"):
            continue
        for url in urls(rule, values):
            client = readers.for_url(rule.endpoint, url)
            response = client.get(url)
            if response.mimetype == "text/html" and response.status_code // 100 != 3:  # a redirect: its target is walked
                yield url, response.text

    voter = app.test_client()
    ballot = voter.get(f"/v/{code}", follow_redirects=True)
    yield "/ballot", ballot.text
    choices = re.findall(r'name="choice" value="(\d+)"', ballot.text)
    legend = re.search(r"<legend>\D*(\d+)", ballot.text)  # "Vælg mellem 3 og 5 projekter": the least
    assert choices and legend is not None, ballot.text
    choices = choices[:int(legend.group(1))]
    confirm = voter.post("/ballot/confirm", data={"choice": choices})
    yield "/ballot/confirm (POST)", confirm.text
    done = voter.post("/ballot", data={"choice": choices}, follow_redirects=True)
    yield "/ballot/done", done.text

    citizen = app.test_client()
    signed_up = citizen.post(f"/meetings/{sign_up}", data={"name": "Bo Borger", "email": "bo@example.dk", "consent": "y"},
                             follow_redirects=True)
    yield f"/meetings/{sign_up}/signed-up", signed_up.text


def test_citizen_pages_are_plain_language(file_app: Flask) -> None:
    app = demo_app(file_app)
    measured: dict[str, Score] = {}
    for where, html in _citizen_pages(app):
        assert "<main" in html, where
        measured[where] = page_lix(html)
    assert "/tilgaengelighed" in measured and "/ballot/done" in measured and any("/signed-up" in w for w in measured)
    assert "/ballot/confirm (POST)" in measured and measured["/ballot/confirm (POST)"].words > 10
    long_pages = {w: s for w, s in measured.items() if s.words >= MIN_WORDS}
    assert len(long_pages) >= 8, sorted(measured)
    too_hard = {w: s for w, s in long_pages.items() if s.lix > LIMIT}
    assert not too_hard, "LIX above 40 (words per sentence + % long words):\n" + "\n".join(
        f"  {w}: LIX {s.lix:.1f} ({s.words} words, {s.sentences} sentences, {len(s.long_words)} long: "
        f"{', '.join(sorted(set(s.long_words), key=len, reverse=True)[:12])})"
        for w, s in sorted(too_hard.items()))
