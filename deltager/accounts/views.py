"""Sign-in, sign-out and the admin's user management."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from deltager.accounts import services
from deltager.accounts.forms import (
    ROLE_LABELS,
    LoginForm,
    NewUserForm,
    PasswordResetForm,
    UserForm,
)
from deltager.db import get_session, utcnow
from deltager.forms import ConfirmForm
from deltager.permissions import Permission, Role
from deltager.web import client_ip, public, requires, safe_next, see_other, staff_actor
from deltager.work import unit_of_work

bp = Blueprint("accounts", __name__)


DEVICE_COOKIE = "deltager_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 60 * 60  # seconds


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="deltager.device-cookie")


def _device() -> services.Device | None:
    """The device this browser's signed device cookie names, if it has a valid one."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        value = _device_serializer().loads(raw, max_age=DEVICE_COOKIE_MAX_AGE)
    except BadSignature:  # SignatureExpired is one
        return None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str)):
        return None
    return services.Device(user_id=value[0], nonce=value[1])


def _login_limits() -> services.LoginLimits:
    cfg = current_app.config
    return services.LoginLimits(
        window_seconds=cfg["LOGIN_THROTTLE_WINDOW_SECONDS"], max_per_account=cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        max_per_ip=cfg["LOGIN_MAX_FAILURES_PER_IP"], max_per_device=cfg["LOGIN_MAX_FAILURES_PER_DEVICE"],
    )


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    """Staff sign-in with e-mail and password; a browser that signs in gets a device cookie, which
    keeps an allowance of failed attempts of its own (services.count_attempt)."""
    default = url_for("rounds.staff_index")
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), default))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        session = get_session()
        attempt = services.count_attempt(
            session, email=form.email.data or "", ip=client_ip(), device=_device(), now=utcnow(),
            limits=_login_limits(),
        )
        session.commit()  # counted before the password is checked, and no lock is held while it is
        user = services.sign_in(session, attempt, form.password.data or "")
        session.commit()  # the outcome counts too: a failure against the limits, a success ends them
        if user is not None:
            return _signed_in(user, safe_next(form.next.data, default))
        form.password.errors = [_("The e-mail address or the password is wrong.")]
    return render_template("accounts/login.html", form=form)


def _signed_in(user: Any, target: str) -> ResponseReturnValue:
    """Sign the user in, and give this browser its device cookie (its own allowance of failures)."""
    login_user(user)
    response = redirect(target, code=303)
    response.set_cookie(
        DEVICE_COOKIE, _device_serializer().dumps([user.id, services.new_device_nonce()]),
        max_age=DEVICE_COOKIE_MAX_AGE, path=url_for("accounts.login"), httponly=True, samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure,
    )
    return response


@bp.post("/logout")
@public
def logout() -> ResponseReturnValue:
    """Sign out and end every session of this user on the server side."""
    if current_user.is_authenticated and ConfirmForm().validate_on_submit():
        with unit_of_work() as work:
            services.end_sessions(work.session, services.get_user(work.session, current_user.id))
    logout_user()
    flash(_("You are signed out."), "info")
    return see_other("public.index")


@bp.get("/staff/users")
@requires(Permission.USERS_MANAGE)
def users() -> ResponseReturnValue:
    """All staff users."""
    return render_template(
        "accounts/users.html", users=services.list_users(get_session()), role_labels=ROLE_LABELS
    )


@bp.route("/staff/users/new", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def new_user() -> ResponseReturnValue:
    """Create a staff user."""
    form = NewUserForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            user = services.create_user(
                work.session, staff_actor(), email=form.email.data or "", name=form.name.data or "",
                role=Role(form.role.data), password=form.password.data or "",
            )
        if work.done:
            flash(_("The user %(name)s was created.", name=user.name), "success")
            return see_other("accounts.user", user_id=user.id)
    return render_template("accounts/user_new.html", form=form)


@bp.route("/staff/users/<int:user_id>", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def user(user_id: int) -> ResponseReturnValue:
    """Show a user; edit name and role."""
    session = get_session()
    target = services.get_user(session, user_id)
    form = UserForm(obj=target if request.method == "GET" else None)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.update_user(session, staff_actor(), user_id, name=form.name.data or "", role=Role(form.role.data))
        if work.done:
            flash(_("The changes are saved."), "success")
            return see_other("accounts.user", user_id=user_id)
    return render_template(
        "accounts/user.html", target=target, form=form, reset_form=PasswordResetForm(),
        confirm=ConfirmForm(), role_labels=ROLE_LABELS,
    )


@bp.post("/staff/users/<int:user_id>/password")
@requires(Permission.USERS_MANAGE)
def reset_password(user_id: int) -> ResponseReturnValue:
    """Set a new password for a user; their sessions end."""
    session = get_session()
    target = services.get_user(session, user_id)
    reset_form = PasswordResetForm()
    if reset_form.validate_on_submit():
        with unit_of_work(reset_form) as work:
            services.reset_password(session, staff_actor(), user_id, reset_form.password.data or "")
        if work.done:
            flash(_("The password was changed and the user's sessions ended."), "success")
            return see_other("accounts.user", user_id=user_id)
    return render_template(
        "accounts/user.html", target=target, form=UserForm(obj=target), reset_form=reset_form,
        confirm=ConfirmForm(), role_labels=ROLE_LABELS,
    ), 400


@bp.post("/staff/users/<int:user_id>/active")
@requires(Permission.USERS_MANAGE)
def set_active(user_id: int) -> ResponseReturnValue:
    """Deactivate or reactivate a user."""
    if ConfirmForm().validate_on_submit():
        activate = request.form.get("active") == "1"
        with unit_of_work() as work:
            target = services.set_active(work.session, staff_actor(), user_id, activate)
        if work.done:
            message = _("%(name)s can sign in again.", name=target.name) if activate else _(
                "%(name)s is deactivated and signed out everywhere.", name=target.name
            )
            flash(message, "success")
    return see_other("accounts.user", user_id=user_id)
