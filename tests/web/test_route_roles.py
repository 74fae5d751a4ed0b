"""Every route against every role: allowed roles get an answer, others 403, nobody signed in is
sent to sign in; and every route of the app is one declared with `page` (so checked)."""

from __future__ import annotations

import pytest
from starlette.routing import Mount, Route

from allocator.web.routing import PAGES, Role
from allocator.web.testing import csrf_of, sign_in

# the roles each page must allow: the issue's table, written out once more on purpose
EXPECTED = {
    "home": set(Role),
    "login": None,
    "logout": set(Role),
    "language": None,
    "today": set(Role),
    "history": set(Role),
    "audit_trail": set(Role),
    "export_page": set(Role),
    "export_file": set(Role),
    "requests": set(Role),
    "requests_upload": {Role.CASEWORKER, Role.PLANNER},
    "requests_new": {Role.CASEWORKER},
    "requests_edit": {Role.CASEWORKER},
    "requests_withdraw": {Role.CASEWORKER},
    "units": set(Role),
    "units_upload": {Role.ADMIN, Role.PLANNER},
    "week": set(Role),
    "week_progress": set(Role),
    "week_propose": {Role.PLANNER},
    "week_constraint": {Role.PLANNER},
    "week_approve": {Role.PLANNER},
    "stays": set(Role),
    "stays_move_in": {Role.CASEWORKER},
    "stays_exit": {Role.CASEWORKER},
    "stays_extend": {Role.CASEWORKER},
    "policy": set(Role),
    "policy_save": {Role.ADMIN},
    "users": {Role.ADMIN},
    "users_add": {Role.ADMIN},
    "users_update": {Role.ADMIN},
    "users_password": {Role.ADMIN},
}


def _call(client, page, method):
    path = page.example_path
    if method == "POST":
        return client.post(path, data={"csrf_token": csrf_of(client)}, follow_redirects=False)
    return client.get(path, follow_redirects=False)


def test_every_route_is_a_declared_page(app):
    """The app serves the declared pages and the static files, nothing else."""
    console = app.state.console
    declared = {(p.path, frozenset(p.methods)) for p in console.pages}
    for route in app.routes:
        if isinstance(route, Mount):
            assert route.path == "/static"
            continue
        assert isinstance(route, Route)
        methods = frozenset(route.methods or ()) - {"HEAD"}
        assert (route.path, methods) in declared


def test_pages_allow_the_roles_the_issue_names(app):
    """Each page's declared roles are the ones the issue gives it; no page is left out."""
    pages = {p.name: p for p in app.state.console.pages}
    assert set(pages) >= set(EXPECTED)
    for name, roles in EXPECTED.items():
        assert (None if pages[name].roles is None else set(pages[name].roles)) == roles, name
    assert all(p.name in EXPECTED for p in PAGES if not p.name.startswith("_"))


@pytest.mark.parametrize("role", list(Role))
def test_route_role_matrix(client, app, role):
    """As ``role``: every route it is allowed answers (never 403 or a sign-in redirect), every
    other gives 403; logout comes last."""
    assert sign_in(client, role).status_code == 303
    pages = sorted(app.state.console.pages, key=lambda p: p.name == "logout")
    for page in pages:
        for method in page.methods:
            response = _call(client, page, method)
            where = f"{method} {page.path} as {role}"
            if page.allows(role):
                assert response.status_code != 403, where
                assert not response.headers.get("location", "").startswith("/login?"), where
                assert response.status_code < 500, where
            else:
                assert response.status_code == 403, where


def test_nobody_signed_in_is_sent_to_sign_in(client, app):
    """Without a session every non-public route redirects to the sign-in page (GET and POST)."""
    for page in app.state.console.pages:
        for method in page.methods:
            response = _call(client, page, method)
            if page.roles is None:
                assert response.status_code != 403
                continue
            assert response.status_code == 303, f"{method} {page.path}"
            assert response.headers["location"].startswith("/login?next="), page.path
