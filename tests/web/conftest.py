"""The console's fixtures: a demo ledger made once and copied per test, a clock tests move, an
app and a test client on it (cheap argon2 parameters keep the sign-ins fast)."""

from __future__ import annotations

import shutil

import pytest

from allocator.web import ConsoleSettings, create_app
from allocator.web.testing import FAST, Clock, demo_ledger


@pytest.fixture(scope="session")
def template_ledger(tmp_path_factory):
    path = tmp_path_factory.mktemp("web") / "template.db"
    demo_ledger(path)
    return path


@pytest.fixture
def ledger_path(template_ledger, tmp_path):
    path = tmp_path / "ledger.db"
    shutil.copy(template_ledger, path)
    return path


@pytest.fixture
def settings() -> ConsoleSettings:
    return ConsoleSettings(
        secret_key="test-secret-key-test-secret-key",
        default_language="en",
        hash_time_cost=FAST["time_cost"],
        hash_memory_kib=FAST["memory_kib"],
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(ledger_path, settings, clock):
    return create_app(ledger_path, settings, clock=clock)


@pytest.fixture
def client(app):
    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c
