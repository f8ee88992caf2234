"""Both web pages in a real browser: Debian's headless Chromium driven through its chromedriver, in a
phone-sized window. Screenshots are kept under the test's tmp folder (the path is printed) to look at: each
page whole (the window grown to its height) and as a 390×844 phone shows it first.

The shop floor's tests run the whole chain: a WooCommerce simulator, a real mosquitto, the bridge, and a
real `tillbridge agent` with its page and a virtual ESC/POS printer, whose tickets are decoded back to text.
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
from tests.bridge_helpers import database, postgres, wait_for
from tests.test_box_page import PIN, Box, box
from tests.test_owner_page import PASSWORD, Page, page
from tests.web_helpers import PIN as FLOOR_PIN
from tests.web_helpers import Floor, floor

__all__ = ["box", "database", "floor", "page", "postgres"]  # fixtures

PHONE = (390, 844)
TABLET = (820, 1180)
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
    phone(driver, PHONE[1])  # headless Chromium keeps a window at least 500 px wide: emulate the phone
    try:
        yield driver
    finally:
        driver.quit()


def phone(driver: webdriver.Chrome, height: int) -> None:
    metrics = {"width": PHONE[0], "height": height, "deviceScaleFactor": 1, "mobile": True}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def tablet(driver: webdriver.Chrome) -> None:
    metrics = {"width": TABLET[0], "height": TABLET[1], "deviceScaleFactor": 1, "mobile": True}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def shot(driver: webdriver.Chrome, folder: Path, name: str) -> None:
    """The page as a 390×844 phone shows it first, and whole (the screen grown to the page's height)."""
    driver.save_screenshot(str(folder / f"{name}-390x844.png"))
    height = driver.execute_script("return document.documentElement.scrollHeight")
    phone(driver, max(PHONE[1], int(height)))
    driver.save_screenshot(str(folder / f"{name}.png"))
    phone(driver, PHONE[1])


def no_sideways_scroll(driver: webdriver.Chrome) -> bool:
    return int(driver.execute_script("return document.documentElement.scrollWidth")) <= PHONE[0]


def enter_pin(driver: webdriver.Chrome, url: str, pin: str = FLOOR_PIN) -> None:
    driver.get(url)
    driver.find_element(By.NAME, "pin").send_keys(pin)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, WAIT_S).until(lambda d: d.find_elements(By.ID, "health"))
    driver.execute_script("window.notReloaded = true")  # gone if the page were loaded again


def test_an_online_order_reaches_the_order_board_without_a_reload_and_reprints(floor: Floor, browser, shots):
    enter_pin(browser, floor.url)
    order_id = str(floor.woo.place_order("SKU-001", 2, pickup=True, customer="Lucía"))
    [ticket] = floor.printer.wait_for_tickets(1, timeout=WAIT_S)
    assert f"#{order_id}" in ticket.text and "Lucía" in ticket.text
    card = f'[data-order="{order_id}"]'
    WebDriverWait(browser, WAIT_S).until(lambda d: d.find_elements(By.CSS_SELECTOR, card))
    assert "Lucía" in browser.find_element(By.CSS_SELECTOR, card).text
    assert browser.execute_script("return window.notReloaded") is True
    shot(browser, shots, "box-order-board")
    browser.find_element(By.CSS_SELECTOR, f"{card} button.secondary").click()  # Reprint
    WebDriverWait(browser, WAIT_S).until(lambda d: f"Order #{order_id} queued" in d.page_source)
    again = floor.printer.wait_for_tickets(2, timeout=WAIT_S)[-1]
    assert f"#{order_id}" in again.text and "Lucía" in again.text
    assert no_sideways_scroll(browser)


def test_the_floor_accepts_an_order_with_an_estimate_marks_it_ready_and_collected_and_the_shop_hears_it(
    floor: Floor, browser, shots
):
    enter_pin(browser, floor.url)
    order_id = str(floor.woo.place_order("SKU-002", 1, pickup=True, customer="Iñaki"))
    card = f'[data-order="{order_id}"]'

    def at(stage: str) -> bool:
        found = browser.find_elements(By.CSS_SELECTOR, f'ul[data-stage="{stage}"] {card}')
        return bool(found)

    WebDriverWait(browser, WAIT_S).until(lambda d: at("new"))
    eta = browser.find_element(By.CSS_SELECTOR, f"{card} input[name=eta_min]")
    eta.clear()
    eta.send_keys("20")
    browser.find_element(By.CSS_SELECTOR, f"{card} form.accept button").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: at("accepted"))
    assert "ready in about 20 min" in browser.find_element(By.CSS_SELECTOR, card).text
    shot(browser, shots, "box-order-accepted")
    tablet(browser)  # the stages side by side on a counter's tablet
    stages = browser.find_elements(By.CSS_SELECTOR, ".stages .stage")
    assert len({s.location["y"] for s in stages}) == 1 and len({s.location["x"] for s in stages}) == 3
    browser.save_screenshot(str(shots / "box-order-board-tablet-820x1180.png"))
    phone(browser, PHONE[1])
    notes = len(floor.woo.order_notes(int(order_id)))
    browser.find_element(By.CSS_SELECTOR, f"{card} button.next").click()  # Ready
    WebDriverWait(browser, WAIT_S).until(lambda d: at("ready"))
    wait_for(
        lambda: len(floor.woo.order_notes(int(order_id))) > notes,
        WAIT_S,
        "the shop's customer note saying the order is ready",
    )
    shot(browser, shots, "box-order-ready")
    browser.find_element(By.CSS_SELECTOR, f"{card} button.next").click()  # Collected
    WebDriverWait(browser, WAIT_S).until(lambda d: at("done"))
    wait_for(lambda: floor.woo.order_status(int(order_id)) == "completed", WAIT_S, "the order completed")
    assert no_sideways_scroll(browser)


def test_a_phone_order_entered_from_the_catalog_reaches_the_shop_and_is_printed(floor: Floor, browser, shots):
    enter_pin(browser, floor.url)
    search = browser.find_element(By.CSS_SELECTOR, "#catalog input[name=q]")
    search.send_keys("Item 2")
    search.submit()
    WebDriverWait(browser, WAIT_S).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-sku="SKU-002"]'))
    qty = browser.find_element(By.CSS_SELECTOR, '[data-sku="SKU-002"] input[name=qty]')
    qty.clear()
    qty.send_keys("3")
    browser.find_element(By.CSS_SELECTOR, '[data-sku="SKU-002"] form.add button').click()
    WebDriverWait(browser, WAIT_S).until(lambda d: d.find_elements(By.ID, "cart"))
    assert "3 × Item 2" in browser.find_element(By.ID, "cart").text
    form = browser.find_element(By.CSS_SELECTOR, "form.phone-form")
    form.find_element(By.NAME, "customer").send_keys("Nuria Ibáñez")
    form.find_element(By.NAME, "phone").send_keys("+34 611 222 333")
    form.find_element(By.NAME, "allergies").send_keys("frutos secos")
    shot(browser, shots, "box-phone-order")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: "Phone order for Nuria Ibáñez sent" in d.page_source)
    [ticket] = floor.printer.wait_for_tickets(1, timeout=30)
    assert "PEDIDO TELÉFONO" in ticket.text and "Nuria Ibáñez" in ticket.text and "3 x Item 2" in ticket.text
    assert "frutos secos" in ticket.text
    WebDriverWait(browser, WAIT_S).until(lambda d: "Nuria Ibáñez" in d.find_element(By.ID, "orders").text)
    shot(browser, shots, "box-phone-order-on-the-board")
    assert no_sideways_scroll(browser)


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
    assert no_sideways_scroll(browser)


def test_a_sale_at_the_till_appears_on_the_box_page_without_a_reload(box: Box, browser, shots):
    browser.get(box.url)
    browser.find_element(By.NAME, "pin").send_keys(PIN)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(lambda d: d.find_elements(By.ID, "health"))
    browser.execute_script("window.notReloaded = true")  # gone if the page were loaded again

    def newest(driver: webdriver.Chrome) -> int:
        """Read in one script: a live update between finding the entries and reading them would leave
        stale elements behind (it replaces them)."""
        seqs = "[...document.querySelectorAll('[data-seq]')].map(e => +e.dataset.seq)"
        script = f"return Math.max(0, ...{seqs})"
        return int(driver.execute_script(script))

    first = newest(browser)
    WebDriverWait(browser, WAIT_S).until(lambda d: newest(d) > first)
    assert browser.execute_script("return window.notReloaded") is True
    assert "BREAD -1" in browser.find_element(By.ID, "activity").text
    shot(browser, shots, "box-home")
    assert no_sideways_scroll(browser)
