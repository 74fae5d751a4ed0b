"""*Audit*: who changed what and when, newest first, filterable by account, action and dates.

Read straight from the ledger's ``audit`` table through its SQLAlchemy model; free text in the
details (an exit outcome, an extension's reason) is shown escaped like every value.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import sqlalchemy as sa
from starlette.responses import Response

from allocator.ledger.rules import as_date
from allocator.ledger.schema import AuditRow
from allocator.web.i18n import N_
from allocator.web.routing import EVERYONE, PageContext, page

ACTIONS = {
    "add": N_("added"),
    "change": N_("changed"),
    "propose": N_("proposed a batch"),
    "approve": N_("approved a batch"),
    "move_in": N_("move-in"),
    "exit": N_("exit"),
    "extend": N_("extension"),
    "withdraw": N_("request withdrawn"),
    "set_policy": N_("policy set"),
    "sign_in": N_("signed in"),
    "sign_out": N_("signed out"),
    "add_user": N_("account added"),
    "set_role": N_("role changed"),
    "disable_user": N_("account disabled"),
    "enable_user": N_("account enabled"),
    "set_password": N_("password set"),
}
ENTITIES = {
    "unit": N_("unit"),
    "household": N_("household"),
    "stay": N_("stay"),
    "batch": N_("batch"),
    "ledger": N_("ledger"),
    "user": N_("account"),
}


def _detail(value: object) -> str:
    if not value:
        return ""
    if isinstance(value, dict):
        if "changed" in value:  # a policy change: what changed, not the whole policy again
            value = {k: v for k, v in value.items() if k != "policy"}
        return "; ".join(
            f"{k}: {v if isinstance(v, str) else json.dumps(v, default=str)}"
            for k, v in value.items()
        )
    return str(value)


@page("/audit", roles=EVERYONE, nav=N_("Audit"), order=60)
def audit_trail(ctx: PageContext) -> Response:
    actor, action = ctx.query("user"), ctx.query("action")
    first = as_date(ctx.query("from"), "from") if ctx.query("from") else None
    last = as_date(ctx.query("to"), "to") if ctx.query("to") else None
    try:
        number = max(1, int(ctx.query("page", "1")))
    except ValueError:
        number = 1
    size = ctx.console.settings.page_rows
    where = []
    if actor:
        where.append(AuditRow.actor == actor)
    if action:
        where.append(AuditRow.action == action)
    if first is not None:
        where.append(AuditRow.at >= dt.datetime.combine(first, dt.time()))
    if last is not None:
        where.append(AuditRow.at < dt.datetime.combine(last + dt.timedelta(days=1), dt.time()))
    with ctx.console.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(AuditRow).where(*where))
        count = int(total.scalar_one())
        rows = conn.execute(
            sa.select(AuditRow)
            .where(*where)
            .order_by(AuditRow.audit_id.desc())
            .limit(size)
            .offset((number - 1) * size)
        ).all()
        named = conn.execute(sa.select(AuditRow.actor).distinct()).scalars()
        actors = sorted(a for a in named if a)
        actions = sorted(conn.execute(sa.select(AuditRow.action).distinct()).scalars())
    filters = {"user": actor, "action": action, "from": ctx.query("from"), "to": ctx.query("to")}
    query = urlencode({k: v for k, v in filters.items() if v})
    return ctx.render(
        "audit.html",
        rows=[(r, _detail(r.detail)) for r in rows],
        count=count,
        page_number=number,
        pages=max(1, -(-count // size)),
        actors=actors,
        actions=actions,
        action_labels=ACTIONS,
        entity_labels=ENTITIES,
        filters=filters,
        query=query,
    )
