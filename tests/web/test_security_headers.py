"""Security headers on every answer, and pages the CSP can hold to: no inline script, no on*
attribute, no style attribute, scripts only from /static (htmx vendored, eval off)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from allocator.web.testing import sign_in


class Inline(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"<{tag} {name}=...>")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:>")
        if tag == "script":
            src = dict(attrs).get("src")
            if not src:
                self._in_script = True
                self.problems.append("<script> without src")
            else:
                self.scripts.append(src)
        if tag == "style":
            self.problems.append("<style> element")

    def handle_endtag(self, tag):
        self._in_script = False if tag == "script" else self._in_script


def test_headers_on_pages_and_errors(client):
    """CSP (self only, no unsafe-inline, no framing), nosniff, DENY, no-store, on every kind of
    answer: a page, a redirect, a 404 and a refused POST."""
    for response in (
        client.get("/login"),
        client.get("/today", follow_redirects=False),
        client.get("/no/such/page"),
        client.post("/logout", follow_redirects=False),
    ):
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in headers  # plain HTTP: no HSTS


def test_no_inline_script_or_handler_anywhere(client, app):
    """Every page an admin can open (and the sign-in and error pages) passes the inline check."""
    pages = [client.get("/login").text]
    sign_in(client, "admin")
    for page in app.state.console.pages:
        if "GET" in page.methods and page.name not in ("export_file", "language", "home"):
            pages.append(client.get(page.example_path).text)
    pages.append(client.get("/no/such/page").text)
    for html in pages:
        parser = Inline()
        parser.feed(html)
        assert parser.problems == []
        assert set(parser.scripts) <= {"/static/htmx.min.js"}  # a partial has none


def test_htmx_is_vendored_with_eval_off(client):
    """htmx comes from /static (its npm package's dist file) and is configured without eval,
    inline styles or script tags."""
    script = client.get("/static/htmx.min.js")
    assert script.status_code == 200 and "htmx" in script.text[:200]
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    html = client.get("/login").text
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', html).group(1)
    assert '"allowEval": false' in config and '"includeIndicatorStyles": false' in config
