"""The sign-in e-mail, written in the language of the one asking for it (web-side: flask_babel)."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import gettext as _

from deltager import mail
from deltager.citizens.services import TOKEN_LIFETIME
from deltager.errors import N_


def send_sign_in_link(to: str, link: str) -> bool:
    """E-mail a sign-in link (after the commit that stored its token)."""
    text = render_template("citizens/mail/sign_in.html", link=link, minutes=int(TOKEN_LIFETIME.total_seconds() // 60),
                           base_url=current_app.config["BASE_URL"].rstrip("/"))
    return mail.send(to=to, subject=_(N_("Your sign-in link for Deltager")), text=text, notify=True)
