"""Sessions: signed, HttpOnly, SameSite=Lax cookies (Secure behind HTTPS), an idle timeout, a
new session at sign-in, and a disabled account signed out at once."""

from __future__ import annotations

from starlette.testclient import TestClient

from allocator.web import ConsoleSettings, create_app
from allocator.web.testing import csrf_of, sign_in


def test_cookie_flags(client):
    """The session cookie is HttpOnly and SameSite=Lax, and not Secure over plain HTTP."""
    response = sign_in(client, "viewer")
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("allocator_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_cookie_is_secure_behind_https(ledger_path, settings, clock):
    """With https on, the cookie is Secure with the __Host- prefix, and HSTS is sent."""
    app = create_app(ledger_path, settings.model_copy(update={"https": True}), clock=clock)
    with TestClient(app, base_url="https://testserver") as client:
        response = sign_in(client, "viewer")
        cookie = response.headers["set-cookie"].lower()
        assert cookie.startswith("__host-allocator=") and "; secure" in cookie
        assert "max-age=31536000" in client.get("/login").headers["strict-transport-security"]


def test_idle_timeout_signs_out(client, clock, settings):
    """Activity keeps the session; idling past the timeout sends to sign-in, saying why."""
    sign_in(client, "viewer")
    clock.advance(settings.idle_minutes - 1)
    assert client.get("/today", follow_redirects=False).status_code == 200
    clock.advance(settings.idle_minutes - 1)  # within the timeout of the last request
    assert client.get("/today", follow_redirects=False).status_code == 200
    clock.advance(settings.idle_minutes + 1)
    response = client.get("/today", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/today&expired=1"
    assert "without activity" in client.get(response.headers["location"]).text
    assert client.get("/today", follow_redirects=False).status_code == 303


def test_session_has_a_longest_life(client, clock, settings):
    """Even an active session ends after session_hours."""
    sign_in(client, "viewer")
    for _ in range(int(settings.session_hours * 60 / 20) + 1):
        clock.advance(20)
        last = client.get("/export", follow_redirects=False)
    assert last.status_code == 303


def test_sign_in_starts_a_new_session(client):
    """The CSRF token before signing in is not the one after (no session fixation)."""
    before = csrf_of(client)
    sign_in(client, "viewer")
    assert csrf_of(client) != before


def test_disabled_account_is_signed_out(app, client):
    """An admin disables a signed-in account: its next request goes to sign-in."""
    sign_in(client, "caseworker")
    assert client.get("/today", follow_redirects=False).status_code == 200
    with TestClient(app) as admin:
        sign_in(admin, "admin")
        token = csrf_of(admin)
        response = admin.post(
            "/users/test-caseworker/update",
            data={"csrf_token": token, "disabled": "1"},
            follow_redirects=False,
        )
        assert response.status_code == 303
    assert client.get("/today", follow_redirects=False).status_code == 303
    assert sign_in(client, "caseworker").status_code == 401


def test_sign_out_ends_the_session(client):
    """After signing out the pages ask for a sign-in again."""
    sign_in(client, "planner")
    response = client.post("/logout", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/today", follow_redirects=False).status_code == 303


def test_next_is_kept_and_only_local(client):
    """Signing in returns to the page asked for, never to another site."""
    response = client.get("/history", follow_redirects=False)
    assert response.headers["location"] == "/login?next=/history"
    token = csrf_of(client)
    from allocator.web.testing import NAMES, PASSWORD

    for target, expected in (("/history", "/history"), ("https://evil.example/", "/today")):
        client.cookies.clear()
        token = csrf_of(client)
        data = {"name": NAMES["viewer"], "password": PASSWORD, "csrf_token": token, "next": target}
        response = client.post("/login", data=data, follow_redirects=False)
        assert response.headers["location"] == expected


def test_settings_are_validated():
    """A nonsensical setting is refused with the field named."""
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError, match="idle_minutes"):
        ConsoleSettings(idle_minutes=0)
