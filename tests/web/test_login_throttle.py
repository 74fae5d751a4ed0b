"""Failed sign-ins are throttled per account and per client, and the throttle lifts with time."""

from __future__ import annotations

from allocator.web.security import Throttle
from allocator.web.testing import NAMES, PASSWORD, sign_in


def test_throttle_counts_within_the_window():
    """After the limit, a key waits until its oldest failure leaves the window."""
    now = [0.0]
    throttle = Throttle(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.wait("k") == 0
        throttle.fail("k")
        now[0] += 1
    assert 0 < throttle.wait("k") <= 60
    assert throttle.wait("other") == 0
    now[0] = 60.5
    assert throttle.wait("k") == 0  # the first failure (t=0) left the window
    throttle.clear("k")
    assert throttle.wait("k") == 0


def test_throttle_forgets_the_oldest_keys():
    """Memory stays bounded: beyond max_keys the least recently failed key is forgotten."""
    throttle = Throttle(limit=1, window=60, clock=lambda: 0.0, max_keys=2)
    for key in "abc":
        throttle.fail(key)
    assert throttle.wait("a") == 0 and throttle.wait("c") > 0


def test_account_is_throttled_after_repeated_failures(client, clock, settings):
    """Five wrong passwords lock the account for the window, even for the right password; once
    the window passes the right password works."""
    for _ in range(settings.account_attempts):
        assert sign_in(client, "planner", password="wrong password!").status_code == 401
    response = sign_in(client, "planner")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    clock.advance(settings.throttle_minutes + 1)
    assert sign_in(client, "planner").status_code == 303


def test_client_is_throttled_across_accounts(client, settings):
    """One client trying many account names is stopped too (client limit), names unknown or not."""
    for k in range(settings.client_attempts):
        client_response = sign_in(client, f"guess-{k}", password="wrong password!")
        assert client_response.status_code == 401
    assert sign_in(client, "admin").status_code == 429


def test_unknown_and_wrong_password_read_the_same(client):
    """A wrong password and an unknown account get the same answer (no account probing)."""
    a = sign_in(client, "nobody-here", password=PASSWORD)
    b = sign_in(client, NAMES["viewer"], password="wrong password!")
    assert a.status_code == b.status_code == 401
    message = "Wrong account name or password"
    assert message in a.text and message in b.text
