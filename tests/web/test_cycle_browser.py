"""The weekly cycle in a real headless Chromium on `allocator serve --demo` (the proposal runs in
its own process, as in production): units and requests uploaded (a file with a bad row shows
the row's error and saves nothing), a week proposed, a household pinned, the week proposed again
and approved; a caseworker records a move-in and an exit; a viewer sees no button that changes
anything; two browsers approve one plan and only one approval lands; screenshots are pictures.

The roles are the issue's: the planner uploads the units and the requests, proposes, pins and
approves; an administrator changes the policy.
"""

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
from selenium.webdriver.support.ui import Select  # noqa: E402

UNITS = "unit_id,kind,capacity,accessible\nB-FLAT-1,flat,4,true\nB-ROOM-1,hub_room,2,false\n"
HEADER = "household_id,size,minors,urgency,need_date,expected_stay_days,expected_exit_date"
REQUESTS = f"{HEADER}\nB-H1,2,0,5,2026-12-01,60,\nB-H2,3,1,4,2026-12-02,,2027-04-30\n"
BAD = f"{REQUESTS}B-H3,0,0,3,2026-12-03,30,\n"  # size 0: spreadsheet row 4
WAIT = 180  # a proposal starts a process and imports the engine first


@pytest.fixture(scope="module")
def browser(open_chromium):
    """A new browser on its own profile; the caller quits it."""
    return lambda profile: open_chromium(profile, window="1280,1000")


@pytest.fixture(scope="module")
def server(demo_server):
    return demo_server


@pytest.fixture(scope="module")
def driver(tmp_path_factory, browser):
    drv = browser(tmp_path_factory.mktemp("profile-a"))
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    paths = {}
    for name, text in (("units.csv", UNITS), ("requests.csv", REQUESTS), ("bad.csv", BAD)):
        (folder / name).write_text(text, encoding="utf-8")
        paths[name] = str(folder / name)
    return paths


def _until(condition, timeout=20.0, what="the page"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _sign_in(drv, base, accounts, role):
    drv.delete_all_cookies()
    drv.get(f"{base}/login")
    name, password = accounts[role]
    drv.find_element(By.ID, "name").send_keys(name)
    drv.find_element(By.ID, "password").send_keys(password)
    drv.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    _until(lambda: "/login" not in drv.current_url, what="the sign-in")


def _flashes(drv) -> str:
    return " ".join(e.text for e in drv.find_elements(By.CSS_SELECTOR, ".flash"))


def _severe(drv) -> list[dict]:
    """Console errors (a CSP violation would be one), except the refusals the test expects
    (a 400 for the bad file, a 409 for the second approval)."""
    expected = re.compile(r"status of 40[09]")
    return [
        e
        for e in drv.get_log("browser")
        if e.get("level") == "SEVERE"
        and not (e.get("source") == "network" and expected.search(e.get("message", "")))
    ]


def _picture(drv, path) -> None:
    from matplotlib.image import imread

    assert drv.save_screenshot(str(path))
    pixels = imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert float(np.std(pixels[..., :3])) > 0.01
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50


def _upload(drv, field, path):
    drv.find_element(By.ID, field).send_keys(path)
    drv.find_element(By.ID, f"{field}-submit").click()


def test_uploads_with_a_bad_row(driver, server, files):
    """A planner uploads units and requests; the file with a bad row shows file, row and
    column, and none of its rows is saved."""
    base, accounts = server
    _sign_in(driver, base, accounts, "planner")
    driver.get(f"{base}/units")
    _upload(driver, "units-file", files["units.csv"])
    _until(lambda: "2 added" in _flashes(driver), what="the units import")
    assert driver.find_elements(By.XPATH, "//th[@scope='row' and text()='B-FLAT-1']")
    driver.get(f"{base}/requests")
    _upload(driver, "requests-file", files["bad.csv"])
    _until(lambda: driver.find_elements(By.ID, "upload-error"), what="the upload's error")
    error = driver.find_element(By.ID, "upload-error").text
    assert "Nothing was saved" in error and "bad.csv" in error
    assert re.search(r"Row\s+4", error) and re.search(r"Column\s+size", error)
    driver.get(f"{base}/requests?show=all&q=B-H")
    assert "No request matches." in driver.page_source
    _upload(driver, "requests-file", files["requests.csv"])
    _until(lambda: "2 added" in _flashes(driver), what="the requests import")
    assert _severe(driver) == []


def _wait_for_plan(drv, previous: str | None) -> str:
    """The page polls the proposal's progress and opens the new plan when it is stored."""

    def moved():
        failed = drv.find_elements(By.CSS_SELECTOR, "#week-progress .error")
        assert not failed, failed[0].text
        found = re.search(r"batch=(\d+)", drv.current_url)
        return found is not None and found.group(1) != previous

    _until(moved, timeout=WAIT, what="the proposal")
    return re.search(r"batch=(\d+)", drv.current_url).group(1)


def test_planner_proposes_pins_proposes_again_and_approves(driver, server, tmp_path):
    """Propose (progress shown meanwhile), pin a household from the plan, propose again with
    the pin, approve after the confirmation page."""
    base, accounts = server
    _sign_in(driver, base, accounts, "planner")
    driver.get(f"{base}/week")
    Select(driver.find_element(By.ID, "p-limit")).select_by_value("10")
    driver.find_element(By.ID, "propose").click()
    _until(
        lambda: (
            driver.find_elements(By.CSS_SELECTOR, "#week-progress progress")
            or "batch=" in driver.current_url
        ),
        what="the progress box",
    )
    first = _wait_for_plan(driver, None)
    assert driver.find_elements(By.CSS_SELECTOR, "svg.gantt rect.bar.week")
    row = driver.find_element(By.CSS_SELECTOR, "table.plan tbody tr")
    household = row.find_element(By.TAG_NAME, "th").text
    unit = row.find_element(By.CSS_SELECTOR, "input[name=unit_id]").get_attribute("value")
    row.find_element(By.CSS_SELECTOR, "button[value=pin]").click()
    _until(lambda: f"{household} assigned to {unit}" in driver.page_source, what="the pin")
    driver.find_element(By.ID, "propose").click()
    second = _wait_for_plan(driver, first)
    assert f"{household} assigned to {unit}" in driver.page_source
    plan_row = driver.find_element(By.XPATH, f"//table[@class='plan']//th[text()='{household}']/..")
    assert unit in plan_row.text
    _picture(driver, tmp_path / "week.png")
    driver.find_element(By.ID, "approve").click()
    _until(lambda: driver.find_elements(By.ID, "confirm-approve"), what="the confirmation")
    driver.find_element(By.ID, "confirm-approve").click()
    _until(lambda: "Plan approved" in _flashes(driver), what="the approval")
    assert f"batch={second}" in driver.current_url
    assert _severe(driver) == []


def test_caseworker_records_a_move_in_and_an_exit(driver, server, tmp_path):
    """The approved plan's first move-in, then an exit with pathway and outcome."""
    base, accounts = server
    _sign_in(driver, base, accounts, "caseworker")
    driver.get(f"{base}/stays?show=planned")
    row = driver.find_element(By.CSS_SELECTOR, "table.stays tbody tr")
    household = row.find_element(By.TAG_NAME, "th").text
    row.find_element(By.CSS_SELECTOR, "form[action='/stays/move-in'] button").click()
    _until(lambda: f"Move-in of {household} recorded." in _flashes(driver), what="the move-in")
    driver.get(f"{base}/stays?show=running")
    row = driver.find_element(By.CSS_SELECTOR, "table.stays tbody tr")
    leaving = row.find_element(By.TAG_NAME, "th").text
    row.find_elements(By.TAG_NAME, "summary")[0].click()
    form = row.find_element(By.CSS_SELECTOR, "form[action='/stays/exit']")
    Select(form.find_element(By.NAME, "pathway")).select_by_value("public_housing")
    form.find_element(By.NAME, "outcome").send_keys("<script>alert(1)</script>")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _until(lambda: f"Exit of {leaving} recorded." in _flashes(driver), what="the exit")
    driver.get(f"{base}/stays?show=ended&q={leaving}")
    assert "<script>alert(1)</script>" in driver.find_element(By.CSS_SELECTOR, "table.stays").text
    _picture(driver, tmp_path / "stays.png")
    assert _severe(driver) == []


def test_viewer_sees_no_button_that_changes_anything(driver, server):
    """On every page the only form that posts is the sign-out."""
    base, accounts = server
    _sign_in(driver, base, accounts, "viewer")
    for path in (
        "/today",
        "/requests?show=all",
        "/units",
        "/week",
        "/stays?show=all",
        "/history",
        "/audit",
        "/export",
        "/policy",
    ):
        driver.get(base + path)
        posting = driver.find_elements(By.CSS_SELECTOR, "form[method=post]")
        assert [f.get_attribute("action").rsplit("/", 1)[-1] for f in posting] == ["logout"], path
        assert not driver.find_elements(By.CSS_SELECTOR, "a.button"), path


def test_two_browsers_approve_one_plan(driver, server, tmp_path_factory, browser):
    """Both open the confirmation of the same plan; the first approval lands, the second
    browser is told who approved it first and nothing else changes."""
    base, accounts = server
    _sign_in(driver, base, accounts, "planner")
    driver.get(f"{base}/week")
    driver.find_element(By.ID, "propose").click()
    batch = _wait_for_plan(driver, None)
    other = browser(tmp_path_factory.mktemp("profile-b"))
    try:
        _sign_in(other, base, accounts, "planner")
        for drv in (driver, other):
            drv.get(f"{base}/week/approve?batch={batch}")
            _until(lambda d=drv: d.find_elements(By.ID, "confirm-approve"), what="confirmation")
        driver.find_element(By.ID, "confirm-approve").click()
        _until(lambda: "Plan approved" in _flashes(driver), what="the first approval")
        other.find_element(By.ID, "confirm-approve").click()
        _until(lambda: "was not approved" in other.page_source, what="the refusal")
        text = other.find_element(By.TAG_NAME, "main").text
        assert "was not approved" in text and "Someone approved it first" in text
    finally:
        other.quit()
    driver.get(f"{base}/audit?action=approve")
    approvals = driver.find_elements(By.XPATH, f"//td[text()='{batch}']")
    assert len(approvals) == 1


def test_administrator_changes_the_policy(driver, server, tmp_path):
    """A value out of range is shown beside its field and saves nothing; a good one is saved,
    and the audit trail names the administrator with the old and new value."""
    base, accounts = server
    _sign_in(driver, base, accounts, "admin")
    driver.get(f"{base}/policy")
    field = driver.find_element(By.ID, "p-turnover_days")
    driver.execute_script("arguments[0].removeAttribute('max')", field)  # past the browser's check
    field.clear()
    field.send_keys("99")
    driver.find_element(By.ID, "save-policy").click()
    _until(lambda: driver.find_elements(By.ID, "policy-error"), what="the refusal")
    assert "from 0 to 60" in driver.find_element(By.ID, "p-turnover_days-error").text
    driver.get(f"{base}/policy")
    field = driver.find_element(By.ID, "p-turnover_days")
    assert field.get_attribute("value") == "3"
    field.clear()
    field.send_keys("4")
    driver.find_element(By.ID, "save-policy").click()
    _until(lambda: "Policy saved" in _flashes(driver), what="the save")
    assert driver.find_element(By.ID, "p-turnover_days").get_attribute("value") == "4"
    _picture(driver, tmp_path / "policy.png")
    driver.get(f"{base}/audit?action=set_policy")
    row = driver.find_element(By.CSS_SELECTOR, "#audit-results tbody tr").text
    assert accounts["admin"][0] in row and '"old": 3, "new": 4' in row
    assert _severe(driver) == []
