"""The console's fixtures: a demo ledger made once and copied per test, a clock tests move, an
app and a test client on it (cheap argon2 parameters keep the sign-ins fast)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

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


# --- the browser tests (test_console_browser, test_cycle_browser) -------------------------------

ACCOUNT = re.compile(r"^\s+(\w+)\s+(\S+)\s+password: (\S+)$")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_server():
    """`allocator serve --demo` on a free loopback port; its printed accounts; stopped after."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "allocator", "serve", "--demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    accounts = {}
    deadline = time.monotonic() + 120
    try:
        assert process.stdout is not None
        for line in process.stdout:
            found = ACCOUNT.match(line)
            if found:
                accounts[found.group(1)] = (found.group(2), found.group(3))
            if line.startswith("Console on") or time.monotonic() > deadline:
                break
        assert set(accounts) == {"admin", "planner", "caseworker", "viewer"}
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", accounts
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def chromium(profile, window: str = "1200,900"):
    """Debian's headless Chromium through its chromedriver, with the browser's log kept; never
    a driver or browser download (a test module skips first when either is missing)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=en-GB",
        f"--window-size={window}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SE_OFFLINE", "true")
        return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def open_chromium():
    """`chromium` as a fixture: the browser tests cannot import this module by name."""
    return chromium
