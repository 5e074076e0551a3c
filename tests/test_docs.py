"""The docs pages load nothing from another origin: their assets come from the installed
fastapi-offline package, and each page's CSP allows exactly what it loads."""

import base64
import hashlib
import re
from importlib.metadata import version
from importlib.resources import files

import pytest

ASSETS = f"/docs/static/{version('fastapi-offline')}"
API_CSP = "default-src 'none'; frame-ancestors 'none'"
CONTENT_TYPES = {
    ".js": {"text/javascript", "application/javascript"},
    ".css": {"text/css"},
    ".png": {"image/png"},
    ".json": {"application/json"},
}


def _hash(body: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"


def _inline_scripts(html: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", html, re.DOTALL)


def _referenced(html: str) -> list[str]:
    """The URLs a page loads: src and href attributes, and the spec URL it fetches."""
    return re.findall(r'(?:src|href|spec-url)="([^"]*)"', html) + re.findall(
        r"url: '([^']*)'", html
    )


def _expected_csp(path: str, html: str) -> str:
    scripts = " ".join(_hash(body) for body in _inline_scripts(html))
    end = "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    if path == "/docs":
        return (
            f"default-src 'none'; script-src 'self' {scripts}; style-src 'self'; "
            f"img-src 'self' data:; connect-src 'self'; {end}"
        )
    if path == "/redoc":
        return (
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
            f"img-src 'self' data:; connect-src 'self'; worker-src blob:; {end}"
        )
    return f"default-src 'none'; script-src {scripts}; {end}"  # the OAuth2 redirect page


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_a_docs_page_references_only_same_origin_assets_that_are_served(client, path):
    response = await client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert "http://" not in html and "https://" not in html and "fonts.g" not in html
    urls = _referenced(html)
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls)
    assets = [url for url in urls if url.startswith(f"{ASSETS}/")]
    assert {url.rsplit(".", 1)[-1] for url in assets} >= {"js", "png"}
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        media_type = asset.headers["content-type"].split(";")[0]
        assert media_type in CONTENT_TYPES["." + url.rsplit(".", 1)[-1]], url


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_a_docs_page_has_its_own_csp(client, path):
    response = await client.get(path)

    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == _expected_csp(path, response.text)
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_the_swagger_page_runs_only_its_one_inline_script(client):
    response = await client.get("/docs")

    (script,) = _inline_scripts(response.text)
    assert "SwaggerUIBundle(" in script
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "name", ["swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"]
)
async def test_the_assets_are_the_installed_packages_files_cached_for_good(client, name):
    response = await client.get(f"{ASSETS}/{name}")

    assert response.status_code == 200
    assert response.content == (files("fastapi_offline") / "static" / name).read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Security-Policy"] == API_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_an_unknown_asset_is_404_and_the_api_keeps_its_csp(client):
    missing = await client.get(f"{ASSETS}/nope.js")
    api = await client.get("/health/live")
    near_miss = await client.get("/docsx")

    assert missing.status_code == 404
    assert missing.headers["Cache-Control"] == "no-store"
    assert api.headers["Content-Security-Policy"] == API_CSP
    assert api.headers["Cache-Control"] == "no-store"
    assert near_miss.status_code == 404
    assert near_miss.headers["Content-Security-Policy"] == API_CSP
