"""Danish by default, English on request; money and times formatted for Danish readers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request
from jinja2 import pass_context
from jinja2.runtime import Context
from flask_babel import Babel, format_date, format_datetime, get_locale, get_translations

from markupsafe import Markup

from deltager.money import format_ore, format_ore_input, tidy_periods

LANG_COOKIE = "lang"
TRANSLATIONS_ROOT = Path(__file__).parent / "translations"


def translation_directories() -> list[str]:
    """One catalog folder per domain (deltager/translations/<domain>), merged at run time."""
    return sorted(str(p) for p in TRANSLATIONS_ROOT.iterdir() if p.is_dir())


def select_locale() -> str:
    """The language chosen with the switch (a cookie), else Danish."""
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LANG_COOKIE) if request else None
    return chosen if chosen in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def request_translations() -> Any:
    """This request's catalog, resolved once per request and locale.

    Flask-Babel resolves the domain, the locale and its cache key on every single call; a ballot
    page translates some twenty strings, which made that lookup a tenth of the page's cost. The
    catalog is kept on ``g`` beside the locale object it belongs to, so ``force_locale`` (which
    swaps that object) still switches language.
    """
    babel_ctx = g.get("_flask_babel")
    locale = getattr(babel_ctx, "babel_locale", None)
    cached = g.get("_deltager_translations")
    if locale is not None and cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    g._deltager_translations = (get_locale(), translations)
    return translations


def format_local_datetime(value: dt.datetime | None, fmt: str = "d. MMMM y 'kl.' HH:mm") -> str:
    """A moment in Copenhagen time, in the reader's language ("3. marts 2027 kl. 17:00")."""
    if value is None:
        return ""
    if fmt == "d. MMMM y 'kl.' HH:mm" and _english():
        fmt = "d MMMM y, HH:mm"
    return format_datetime(value, fmt)


def _english() -> bool:
    """Whether text is being written in English: the reader's choice, or ``force_locale`` (e-mails)."""
    locale = get_locale()
    return locale is not None and locale.language == "en"


def format_local_date(value: dt.date | None, fmt: str = "long") -> str:
    """A date in the reader's language ("15. februar 2027", "15 February 2027": day first in both,
    as the times are, not Babel's American English "February 15, 2027")."""
    if value is None:
        return ""
    if fmt == "long" and _english():
        fmt = "d MMMM y"
    return format_date(value, fmt)


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with our catalogs and register the formatting filters."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_directories())
    Babel(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    for name in ("gettext", "ngettext", "pgettext", "npgettext"):
        app.jinja_env.globals[name] = _one_period_after_amounts(app.jinja_env.globals[name])
    app.jinja_env.filters["money"] = format_ore
    app.jinja_env.filters["money_input"] = format_ore_input
    app.jinja_env.filters["localdatetime"] = format_local_datetime
    app.jinja_env.filters["localdate"] = format_local_date
    app.jinja_env.filters["apply_filter"] = lambda value, name: app.jinja_env.filters[name](value)
    app.jinja_env.globals["current_language"] = select_locale
    app.jinja_env.add_extension("jinja2.ext.do")


def _one_period_after_amounts(translate: Any) -> Any:
    """Wrap a template gettext so that a message ending a sentence with an amount keeps one period.

    "Du kan søge op til %(cap)s." with cap "25.000 kr." would read "25.000 kr.."; the amount's
    abbreviation ends the sentence. Tidied here, after the values are filled in, for every message.
    """

    @pass_context
    def tidy(context: Context, *args: Any, **kwargs: Any) -> Any:
        text = translate(context, *args, **kwargs)
        tidied = tidy_periods(str(text))
        return Markup(tidied) if isinstance(text, Markup) else tidied

    return tidy
