"""*Users* (administrators only): the accounts, adding one, changing a role, disabling an account
or setting a new password. Every change is audited under the administrator who made it."""

from __future__ import annotations

from starlette.responses import Response

from allocator.errors import InputError
from allocator.web import accounts
from allocator.web.errors_i18n import error_text
from allocator.web.i18n import N_, gettext
from allocator.web.routing import PageContext, Role, page

ADMINS = (Role.ADMIN,)


def _show(ctx: PageContext, status_code: int = 200, error: str | None = None, **form) -> Response:
    return ctx.render(
        "users.html",
        status_code,
        accounts=accounts.list_accounts(ctx.console.engine),
        error=error,
        form={"name": "", "role": "viewer", **form},
        min_password=accounts.MIN_PASSWORD,
    )


def _hash_costs(ctx: PageContext) -> dict[str, int]:
    settings = ctx.console.settings
    return {"time_cost": settings.hash_time_cost, "memory_kib": settings.hash_memory_kib}


@page("/users", roles=ADMINS, nav=N_("Users"), order=80)
def users(ctx: PageContext) -> Response:
    return _show(ctx)


@page("/users/add", roles=ADMINS, methods=("POST",), name="users_add")
def users_add(ctx: PageContext) -> Response:
    name, role = ctx.field("name"), ctx.field("role")
    password, again = ctx.field("password"), ctx.field("password_again")
    if password != again:
        return _show(ctx, 400, gettext("The two passwords differ."), name=name, role=role)
    try:
        accounts.add_account(
            ctx.console.engine,
            ctx.user.user_id if ctx.user else None,
            name,
            role,
            password,
            **_hash_costs(ctx),
        )
    except InputError as exc:
        return _show(ctx, 400, _why(exc), name=name, role=role)
    ctx.flash(gettext("Account %(name)s added.") % {"name": name})
    return ctx.redirect("/users")


@page(
    "/users/{user_id}/update",
    roles=ADMINS,
    methods=("POST",),
    name="users_update",
    sample={"user_id": "nobody"},
)
def users_update(ctx: PageContext) -> Response:
    user_id = ctx.request.path_params["user_id"]
    actor = ctx.user.user_id if ctx.user else None
    engine = ctx.console.engine
    try:
        if ctx.field("role"):
            accounts.set_role(engine, actor, user_id, ctx.field("role"))
        if ctx.field("disabled") in ("0", "1"):
            accounts.set_disabled(engine, actor, user_id, ctx.field("disabled") == "1")
    except InputError as exc:
        return _show(ctx, 400, _why(exc))
    ctx.flash(gettext("Account %(name)s changed.") % {"name": user_id})
    return ctx.redirect("/users")


@page(
    "/users/{user_id}/password",
    roles=ADMINS,
    methods=("POST",),
    name="users_password",
    sample={"user_id": "nobody"},
)
def users_password(ctx: PageContext) -> Response:
    user_id = ctx.request.path_params["user_id"]
    password, again = ctx.field("password"), ctx.field("password_again")
    if password != again:
        return _show(ctx, 400, gettext("The two passwords differ."))
    try:
        accounts.set_password(
            ctx.console.engine,
            ctx.user.user_id if ctx.user else None,
            user_id,
            password,
            **_hash_costs(ctx),
        )
    except InputError as exc:
        return _show(ctx, 400, _why(exc))
    ctx.flash(gettext("New password set for %(name)s.") % {"name": user_id})
    return ctx.redirect("/users")


def _why(exc: InputError) -> str:
    """The refusal in the reader's language where we know it; the ledger's words otherwise."""
    field = getattr(exc, "field", None)
    known = {
        "name": N_(
            "The account name is taken, unknown, or not 2 to 64 letters, digits, '.', '_' or '-'."
        ),
        "role": N_("Choose one of the four roles."),
        "password": N_("A password has at least %(num)d characters."),
    }
    if field in known:
        return gettext(known[field]) % {"num": accounts.MIN_PASSWORD}
    if "last active administrator" in str(exc):
        return gettext("This is the last active administrator: keep at least one.")
    return error_text(exc)
