"""The docs pages in a real headless Chromium with the network off but loopback, against a
real server: every operation renders, and Swagger UI's "Authorize" then "Try it out" work.

Debian's chromium and chromium-driver (version-matched), driven by selenium; skipped when
they are not installed. Every wait is bounded; the browser and the server always stop.
"""

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.fixtures import PASSWORD
from tests.support import Server, free_port, serving

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 20
LOOPBACK = "127.0.0.1"
MISSING = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
# A mark, not a skip in a fixture: checked before the server starts.
pytestmark = pytest.mark.skipif(
    bool(MISSING),
    reason=f"{' and '.join(MISSING)} not installed: apt-get install chromium chromium-driver",
)
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# ReDoc's menu always shows Redocly's logo from its CDN; the page's CSP blocks it (img-src).
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
# Before any page script: keep the page's CSP violations where the test can read them.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.cspViolations.push([e.violatedDirective, e.blockedURI]));
"""
SWAGGER_OPERATIONS = """
return Array.from(document.querySelectorAll(".opblock"), (block) => [
    block.querySelector(".opblock-summary-method").textContent.toLowerCase(),
    block.querySelector(".opblock-summary-path").dataset.path,
]);
"""
REDOC_OPERATIONS = """
const sections = '[data-section-id^="tag/"][data-section-id*="/operation/"]';
return Array.from(document.querySelectorAll(sections), (section) => {
    const verb = section.querySelector(".http-verb");
    return [section.dataset.sectionId, section.querySelector("h2").textContent.trim(),
            verb.textContent, verb.nextElementSibling.textContent];
});
"""


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation of the OpenAPI schema."""
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    log = tmp_path_factory.mktemp("docs-browser") / "server.log"
    async with serving(LOG_FILE=str(log)) as running:
        yield running


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium that reaches loopback only: no host name resolves, and every URL
    but 127.0.0.1's goes to a proxy on a loopback port where nothing listens."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--window-size=1280,2000",
        f"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {LOOPBACK}",
        f"--proxy-server=http://{LOOPBACK}:{free_port()}",
        f"--proxy-bypass-list={LOOPBACK}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    # A driver path given: selenium does not run Selenium Manager (which would download).
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.set_page_load_timeout(WAIT_SECONDS)
        driver.set_script_timeout(WAIT_SECONDS)
        with pytest.raises(WebDriverException, match="ERR_PROXY_CONNECTION_FAILED"):
            driver.get("http://offline.invalid/")  # the network really is off
        driver.get_log("performance")  # that attempt is not the pages' to answer for
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS}
        )
        yield driver
    finally:
        driver.quit()


def _requests(driver: webdriver.Chrome) -> tuple[set[str], set[str]]:
    """The URLs the page asked for, and those its CSP blocked, from DevTools' network log."""
    asked: dict[str, str] = {}
    blocked = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message["params"]
        if message["method"] == "Network.requestWillBeSent":
            asked[params["requestId"]] = params["request"]["url"]
        elif message["method"] == "Network.loadingFailed" and params.get("blockedReason") == "csp":
            blocked.add(asked.get(params["requestId"], ""))
    return set(asked.values()), blocked


def _off_loopback(urls: set[str]) -> set[str]:
    return {
        url
        for url in urls
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != LOOPBACK
    }


def _click(wait: WebDriverWait, scope: WebElement, css: str) -> None:
    """Click the first element under `scope` that matches, once it is there and clickable."""
    element = wait.until(lambda _: next(iter(scope.find_elements(By.CSS_SELECTOR, css)), False))
    wait.until(ec.element_to_be_clickable(element)).click()


def _use_swagger_ui(driver: webdriver.Chrome, base: str, schema: dict, email: str) -> None:
    wait = WebDriverWait(driver, WAIT_SECONDS)
    operations = _operations(schema)
    driver.get(f"{base}/docs")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(operations))
    rendered = sorted(map(tuple, driver.execute_script(SWAGGER_OPERATIONS)))
    assert rendered == sorted((method, path) for method, path, _ in operations)

    page = driver.find_element(By.TAG_NAME, "body")
    _click(wait, page, ".auth-wrapper .authorize")
    wait.until(ec.visibility_of_element_located((By.ID, "oauth_username"))).send_keys(email)
    driver.find_element(By.ID, "oauth_password").send_keys(PASSWORD)
    _click(wait, page, ".auth-btn-wrapper .authorize")
    logout = (By.XPATH, "//div[@class='auth-btn-wrapper']/button[normalize-space()='Logout']")
    wait.until(ec.visibility_of_element_located(logout))
    _click(wait, page, ".auth-btn-wrapper .btn-done")

    (me,) = [op for method, path, op in operations if (method, path) == ("get", "/users/me")]
    block = driver.find_element(By.ID, f"operations-{me['tags'][0]}-{me['operationId']}")
    _click(wait, block, ".opblock-summary-control")
    _click(wait, block, ".try-out__btn")
    _click(wait, block, ".execute")
    status = (By.CSS_SELECTOR, ".live-responses-table .response .response-col_status")
    wait.until(lambda _: block.find_elements(*status) and block.find_element(*status).text)
    assert block.find_element(*status).text == "200"
    body = block.find_element(By.CSS_SELECTOR, ".live-responses-table .highlight-code pre")
    assert json.loads(body.text)["email"] == email

    assert driver.execute_script("return window.cspViolations") == []
    asked, _ = _requests(driver)
    assert f"{base}/auth/token" in asked and f"{base}/users/me" in asked
    assert _off_loopback(asked) == set()


def _use_redoc(driver: webdriver.Chrome, base: str, schema: dict) -> None:
    wait = WebDriverWait(driver, WAIT_SECONDS)
    operations = _operations(schema)
    driver.get(f"{base}/redoc")
    sections = '[data-section-id^="tag/"][data-section-id*="/operation/"]'
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, sections)) >= len(operations))
    rendered = sorted(map(tuple, driver.execute_script(REDOC_OPERATIONS)))
    assert rendered == sorted(
        (f"tag/{op['tags'][0]}/operation/{op['operationId']}", op["summary"], method, path)
        for method, path, op in operations
    )

    # The search index runs in a web worker made from a Blob (worker-src blob:).
    (me,) = [op for method, path, op in operations if (method, path) == ("get", "/users/me")]
    driver.find_element(By.CSS_SELECTOR, "input.search-input").send_keys(me["summary"])
    hit = f'[data-role="search:results"] [data-item-id$="/operation/{me["operationId"]}"]'
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, hit)))

    assert driver.execute_script("return window.cspViolations") == [["img-src", REDOCLY_LOGO]]
    asked, blocked = _requests(driver)
    assert any(url.startswith("blob:") for url in asked)
    assert _off_loopback(asked) == {REDOCLY_LOGO} and REDOCLY_LOGO in blocked


async def test_swagger_ui_shows_every_operation_and_authorizes_offline(server, browser):
    email = f"docs-{uuid.uuid4().hex[:12]}@example.com"
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        schema = (await client.get("/openapi.json")).json()
        signed_up = await client.post("/users/", json={"email": email, "password": PASSWORD})
        assert signed_up.status_code == 201, signed_up.text

    await asyncio.to_thread(_use_swagger_ui, browser, server.url, schema, email)


async def test_redoc_shows_every_operation_offline(server, browser):
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        schema = (await client.get("/openapi.json")).json()

    await asyncio.to_thread(_use_redoc, browser, server.url, schema)
