"""The interactive docs, `/docs` (Swagger UI) and `/redoc`, with no network.

FastAPI's default pages load Swagger UI and ReDoc from a CDN, so they are blank on a machine
without internet. These are the same pages (FastAPI's own `get_swagger_ui_html` and
`get_redoc_html`) pointed at the files that the pinned `fastapi-offline` package ships,
served by this app under a URL that names the package's version (so they can be cached for
good). Each page's Content-Security-Policy (applied by app/api/middleware.py) allows what it
loads and nothing more: FastAPI's inline scripts by their hash, everything else from 'self'.
The URLs are absolute from `/`: the service is served at the root (no root_path).
"""

import base64
import hashlib
import re
from importlib.metadata import version
from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS_PACKAGE = "fastapi-offline"
ASSETS_URL = f"/docs/static/{version(ASSETS_PACKAGE)}"
# The URL names the package's version, so a new version is a new URL: cached for good.
ASSETS_CACHE = "public, max-age=31536000, immutable"


class VersionedAssets(StaticFiles):
    """The package's files, cached for good; anything else (a 404) keeps the API's no-store."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = ASSETS_CACHE
        return response


# swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js, favicon.png
ASSETS = VersionedAssets(packages=[("fastapi_offline", "static")])

OPENAPI_URL = "/openapi.json"  # the app's default (FastAPI(openapi_url=...))
SWAGGER_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"  # FastAPI's default swagger_ui_oauth2_redirect_url
REDOC_URL = "/redoc"

router = APIRouter(include_in_schema=False)


def swagger_page(title: str) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=f"{title} - Swagger UI",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        oauth2_redirect_url=OAUTH2_REDIRECT_URL,
    )


def redoc_page(title: str) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=OPENAPI_URL,
        title=f"{title} - ReDoc",
        redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
        with_google_fonts=False,  # fonts.googleapis.com: another origin
    )


@router.get(SWAGGER_URL)
async def swagger_ui(request: Request) -> HTMLResponse:
    return swagger_page(request.app.title)


@router.get(OAUTH2_REDIRECT_URL)
async def swagger_ui_oauth2_redirect() -> HTMLResponse:
    """Where Swagger UI's OAuth2 popup lands (flows with a redirect; the password flow
    this API has needs none, but FastAPI serves it and Swagger UI names it)."""
    return get_swagger_ui_oauth2_redirect_html()


@router.get(REDOC_URL)
async def redoc(request: Request) -> HTMLResponse:
    return redoc_page(request.app.title)


def script_hashes(html: str) -> str:
    """CSP sources for a page's inline `<script>` elements (those without attributes)."""
    bodies = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    digests = (hashlib.sha256(body.encode()).digest() for body in bodies)
    return " ".join(f"'sha256-{base64.b64encode(digest).decode()}'" for digest in digests)


def _csp(*directives: str) -> str:
    fixed = ("base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'")
    return "; ".join(("default-src 'none'", *directives, *fixed))


def _page_csp() -> dict[str, str]:
    """The pages' policies. The inline parts do not depend on the title, so one rendering
    gives the hashes that every rendering has."""
    swagger = swagger_page("").body.decode()
    redirect = get_swagger_ui_oauth2_redirect_html().body.decode()
    # Swagger UI itself needs no inline style: React sets its style attributes through
    # the CSSOM, which CSP does not restrict.
    return {
        SWAGGER_URL: _csp(
            f"script-src 'self' {script_hashes(swagger)}",
            "style-src 'self'",
            "img-src 'self' data:",  # swagger-ui.css draws its icons as data: SVGs
            "connect-src 'self'",  # /openapi.json, then "Try it out" and "Authorize"
        ),
        OAUTH2_REDIRECT_URL: _csp(f"script-src {script_hashes(redirect)}"),
        REDOC_URL: _csp(
            "script-src 'self'",
            # ReDoc's bundle adds <style> elements as it runs (styled-components, and its
            # CSS at load, before any nonce could be set): no hash can name them.
            "style-src 'unsafe-inline'",
            "img-src 'self' data:",  # its icons are data: SVGs too
            "connect-src 'self'",
            "worker-src blob:",  # ReDoc's search index runs in a worker made from a Blob
        ),
    }


PAGE_CSP = _page_csp()
