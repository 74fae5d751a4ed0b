"""The console in a real headless Chromium, served by `allocator serve --demo`: sign in with the
keyboard, *Today* draws its timeline with no console error (a CSP violation would be one), fits
a tablet's width, switches to Italian, and a screenshot is a real picture."""

from __future__ import annotations

import re
import shutil
import time

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "chromium and chromedriver are not on PATH (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402


@pytest.fixture(scope="module")
def driver(tmp_path_factory, open_chromium):
    drv = open_chromium(tmp_path_factory.mktemp("chromium-profile"), window="1200,900")
    try:
        yield drv
    finally:
        drv.quit()


def _severe(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


@pytest.fixture(scope="module")
def signed_in(driver, demo_server):
    """The planner signs in with the keyboard only: type, Tab, type, Enter."""
    base, accounts = demo_server
    name, password = accounts["planner"]
    driver.get(f"{base}/today")
    assert "/login" in driver.current_url
    field = driver.find_element(By.ID, "name")
    field.send_keys(name, Keys.TAB, password, Keys.ENTER)
    deadline = time.monotonic() + 20
    while "/today" not in driver.current_url and time.monotonic() < deadline:
        time.sleep(0.1)
    return driver, base


def test_sign_in_reaches_today(signed_in):
    """After signing in, *Today* with its heading, figures and timeline, nothing in error."""
    driver, _base = signed_in
    assert driver.current_url.endswith("/today")
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Today")
    rows = driver.find_elements(By.CSS_SELECTOR, "svg.timeline g.row")
    assert len(rows) == 14  # the demo's units
    assert driver.find_elements(By.CSS_SELECTOR, "svg.timeline rect.bar.occupied")
    assert _severe(driver) == []


def test_today_fits_a_tablet(signed_in):
    """At a tablet's width (768 px) the page does not scroll sideways; wide parts scroll inside."""
    driver, base = signed_in
    driver.set_window_size(768, 1024)
    try:
        driver.get(f"{base}/today")
        assert driver.execute_script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    finally:
        driver.set_window_size(1200, 900)


def test_keyboard_reaches_the_content_first(signed_in):
    """The first Tab lands on the skip link, which leads to the main content."""
    driver, base = signed_in
    driver.get(f"{base}/history")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    active = driver.switch_to.active_element
    assert active.get_attribute("class") == "skip" and active.get_attribute("href").endswith(
        "#main"
    )


def test_italian_switch(signed_in):
    """The switch turns the page Italian, dates written dd/mm/yyyy."""
    driver, base = signed_in
    driver.get(f"{base}/today")
    driver.find_element(By.CSS_SELECTOR, 'a[lang="it"]').click()
    heading = driver.find_element(By.TAG_NAME, "h1").text
    assert re.fullmatch(r"Oggi, \d\d/\d\d/\d{4}", heading), heading
    driver.find_element(By.CSS_SELECTOR, 'a[lang="en"]').click()
    assert _severe(driver) == []


def test_screenshot_of_today_is_a_real_picture(signed_in, tmp_path):
    """A screenshot of *Today* is a valid PNG, not one flat colour."""
    from matplotlib.image import imread

    driver, base = signed_in
    driver.get(f"{base}/today")
    driver.execute_script("document.getElementById('occupancy-h').scrollIntoView()")
    path = tmp_path / "today.png"
    assert driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert float(np.std(pixels[..., :3])) > 0.01
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50
