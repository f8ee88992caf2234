"""Both web pages in a real browser: Debian's headless Chromium driven through its chromedriver, in a
phone-sized window. Screenshots are kept under the test's tmp folder (the path is printed) to look at.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from cloud_bridge.parking import park
from tests.bridge_helpers import database, postgres
from tests.test_box_page import PIN, Box, box
from tests.test_owner_page import PASSWORD, Page, page

__all__ = ["box", "database", "page", "postgres"]  # fixtures

PHONE = (390, 844)
WAIT_S = 20


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots in {folder}")
    return folder


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={PHONE[0]},{PHONE[1]}"):
        options.add_argument(arg)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: webdriver.Chrome, folder: Path, name: str) -> None:
    """The whole page as a phone shows it, scrolled: the window grows to the page's height."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(PHONE[0], max(PHONE[1], int(height) + 100))
    driver.save_screenshot(str(folder / f"{name}.png"))
    driver.set_window_size(*PHONE)


def test_the_owner_logs_in_and_retries_a_parked_problem_in_a_browser(page: Page, browser, shots, request):
    with page.db.write():
        park("corner", "sku/BREAD", "sku", "the shop refused the write", time.time(), box="till-1")
    browser.get(page.server.url)
    browser.find_element(By.NAME, "user").send_keys("ana")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    shot(browser, shots, f"owner-login-{request.node.callspec.id}")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: "Sourdough loaf" in d.page_source)
    shot(browser, shots, f"owner-home-{request.node.callspec.id}")
    browser.find_element(By.CSS_SELECTOR, "#parked button[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: "Tried again: sku/BREAD" in d.page_source)
    assert "the shop refused the write" not in browser.page_source
    assert "Nothing is parked" in browser.find_element(By.ID, "parked").text
    shot(browser, shots, f"owner-retried-{request.node.callspec.id}")
    assert (
        browser.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
    )  # no sideways scroll


def test_a_sale_at_the_till_appears_on_the_box_page_without_a_reload(box: Box, browser, shots):
    browser.get(box.url)
    browser.find_element(By.NAME, "pin").send_keys(PIN)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: d.find_elements(By.ID, "health"))
    browser.execute_script("window.notReloaded = true")  # gone if the page were loaded again

    def newest(driver: webdriver.Chrome) -> int:
        seqs = [
            int(e.get_attribute("data-seq") or 0) for e in driver.find_elements(By.CSS_SELECTOR, "[data-seq]")
        ]
        return max(seqs, default=0)

    first = newest(browser)
    WebDriverWait(browser, WAIT_S).until(lambda d: newest(d) > first)
    assert browser.execute_script("return window.notReloaded") is True
    assert "BREAD -1" in browser.find_element(By.ID, "activity").text
    shot(browser, shots, "box-home")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
