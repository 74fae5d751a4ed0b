"""A POST without its CSRF token, or with another session's, is refused; with it, it goes through."""

from __future__ import annotations

from allocator.web.testing import NAMES, PASSWORD, csrf_of, sign_in


def test_sign_in_without_token_is_refused(client):
    """Even the sign-in form needs the token its GET handed out (no login CSRF)."""
    client.get("/login")
    response = client.post(
        "/login", data={"name": NAMES["admin"], "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "did not come from this site" in response.text
    assert client.get("/today", follow_redirects=False).status_code == 303  # not signed in


def test_post_without_or_with_wrong_token_is_refused(client):
    """Signed in as admin: adding an account without the token, or with a made-up one, fails
    and adds nothing."""
    assert sign_in(client, "admin").status_code == 303
    form = {"name": "intruder", "role": "admin", "password": "x" * 12, "password_again": "x" * 12}
    assert client.post("/users/add", data=form, follow_redirects=False).status_code == 403
    bad = {**form, "csrf_token": "not-the-token"}
    assert client.post("/users/add", data=bad, follow_redirects=False).status_code == 403
    assert "intruder" not in client.get("/users").text
    good = {**form, "csrf_token": csrf_of(client)}
    assert client.post("/users/add", data=good, follow_redirects=False).status_code == 303
    assert "intruder" in client.get("/users").text


def test_token_in_header_counts(client):
    """htmx sends the token as X-CSRF-Token (from the body's hx-headers): accepted too."""
    sign_in(client, "viewer")
    token = csrf_of(client)
    response = client.post("/logout", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_another_sessions_token_is_refused(app, client):
    """A token from one browser's session does not work in another's."""
    from starlette.testclient import TestClient

    sign_in(client, "admin")
    other_token = csrf_of(client)
    with TestClient(app) as other:
        sign_in(other, "admin")
        response = other.post("/logout", data={"csrf_token": other_token}, follow_redirects=False)
        assert response.status_code == 403


def test_every_form_carries_the_token(client, app):
    """Every POST form on every page an admin sees has the hidden csrf_token field."""
    import re

    sign_in(client, "admin")
    for page in app.state.console.pages:
        if "GET" not in page.methods or page.name in ("export_file", "language"):
            continue
        html = client.get(page.example_path).text
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S):
            if re.search(r'method="post"', form):
                assert 'name="csrf_token"' in form, (page.path, form[:200])
