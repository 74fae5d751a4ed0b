"""The report in a real headless Chromium: no console errors, headings, figures decoded, a real picture."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from allocator.analysis.report import build_report, write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "chromium and chromedriver are not on PATH (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
HEADINGS = [
    "Key results",
    "Method in plain words",
    "Results by policy",
    "Figures",
    "Fair waits",
    "Which assumptions matter most",
    "The scenario and its sources",
    "Limits of the model",
    "Settings and how to reproduce",
]


def short_milan(folder: Path, weeks: int = 52) -> Path:
    """milan.yaml, comments and all, with a short horizon."""
    text = (SCENARIOS / "milan.yaml").read_text(encoding="utf-8")
    text = re.sub(r"^horizon_weeks: *\d+", f"horizon_weeks: {weeks}", text, flags=re.M)
    path = folder / "milan_short.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    report = build_report(
        short_milan(folder),
        replications=3,
        seed=3,
        policies=["fcfs_fast"],
        sensitivity_replications=3,
    )
    out = folder / "report.html"
    write_report(report, out)
    return out


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
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
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as mp:
        # Selenium Manager must never download a driver or a browser: both are given explicitly
        mp.setenv("SE_OFFLINE", "true")
        drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        try:
            yield drv
        finally:
            drv.quit()


@pytest.fixture(scope="module")
def loaded(driver, report_file):
    driver.get(report_file.as_uri())
    driver.execute_script("return document.readyState")
    return driver


def test_no_console_errors(loaded):
    """The page loads without a SEVERE entry in the browser console (nothing missing, no errors)."""
    severe = [e for e in loaded.get_log("browser") if e.get("level") == "SEVERE"]
    assert severe == []


def test_title_and_headings(loaded):
    """The title names the scenario and every main section is there."""
    assert "milan" in loaded.title
    assert loaded.find_element(By.TAG_NAME, "h1").text.startswith("milan")
    found = [h.text for h in loaded.find_elements(By.TAG_NAME, "h2")]
    assert found == HEADINGS


def test_every_image_is_decoded(loaded):
    """Every figure is an image the browser decoded, with a real size on the page."""
    imgs = loaded.find_elements(By.TAG_NAME, "img")
    assert len(imgs) == 6  # five figures and the fair-waits section's (one policy: no comparison)
    for img in imgs:
        ok = loaded.execute_script(
            "const i = arguments[0]; return i.complete && i.naturalWidth > 0 && i.naturalHeight > 0"
            " && i.getBoundingClientRect().width > 0",
            img,
        )
        assert ok, img.get_attribute("alt")


def test_page_fits_the_window(loaded):
    """No horizontal scrolling: wide tables scroll inside their own box."""
    assert loaded.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_screenshot_is_a_real_picture(loaded, tmp_path):
    """A screenshot is a valid PNG of some size that is not one flat colour."""
    from matplotlib.image import imread

    path = tmp_path / "report.png"
    loaded.execute_script("document.getElementById('figures').scrollIntoView()")
    assert loaded.save_screenshot(str(path))
    assert path.stat().st_size > 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert float(np.std(pixels[..., :3])) > 0.01
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50
