"""Pure ASGI middleware: a request body limit, security headers on every response, and
one log line and the request metrics per request; and what a request id may be (the
middleware that sets it is asgi-correlation-id's).

`RequestLogMiddleware` sits just inside asgi-correlation-id's middleware (so its line
carries the request id) and outside the others (so a 413 or a CORS preflight they answer
is logged and counted too). The route template is what the router matched
(`scope["route"]`, set on the one scope dict: no middleware in between copies it), the
user id what `get_current_user` found (`request.state.user_id`).
"""

import json
import logging
import os
import re
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.docs import PAGE_CSP
from app.core import metrics

MAX_BODY_BYTES = 1024 * 1024

# Every answer carries one: the client's own if it sent a valid one, else a new one.
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def is_valid_request_id(value: str) -> bool:
    """1-128 letters, digits, `.`, `_` or `-` (the contract): safe in logs and headers."""
    return REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    """32 random hex digits, as `uuid4().hex` gives, without building a UUID object."""
    return os.urandom(16).hex()


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
}
# The API answers JSON only: nothing may load or run. The docs pages have their own
# policies (app/api/docs.py: their own assets, FastAPI's inline script by its hash); their
# assets keep this one (a script or style sheet is not a document: its CSP does not apply).
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def security_headers(path: str) -> dict[str, str]:
    """The headers every answer carries: the API's strict CSP and no caching, but the docs
    pages' own CSP, revalidated (the docs' assets set their own long caching)."""
    if (page_csp := PAGE_CSP.get(path)) is not None:
        return {
            **SECURITY_HEADERS,
            "Content-Security-Policy": page_csp,
            "Cache-Control": "no-cache",
        }
    return {**SECURITY_HEADERS, "Content-Security-Policy": API_CSP, "Cache-Control": "no-store"}


class _BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """413 for a body over `max_bytes`, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._reject(send)
            return

        received = 0
        too_large = rejected = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # Once the body is over the limit, whatever the app answers (FastAPI turns the
            # exception into a 400) is replaced by the 413.
            nonlocal rejected
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start" and not rejected:
                rejected = True
                await self._reject(send)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if not rejected:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps({"detail": "Request body too large (limit 1 MiB)"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra_headers = security_headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra_headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Probes and Prometheus call by address (a pod's IP), and these answers build no URL.
HOST_FREE_PATHS = frozenset({"/health", "/health/live", "/health/ready", "/metrics"})


def host_name(host_header: str) -> str:
    """`api.example.com` for `API.example.com:443`, `::1` for `[::1]:8000`."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else ""
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_allowed_host(host: str, allowed_hosts: list[str]) -> bool:
    """Django's ALLOWED_HOSTS: a name, `.example.com` for it and its subdomains (or
    `*.example.com` for the subdomains only), or `*` for any."""
    for pattern in allowed_hosts:
        pattern = pattern.lower()
        if pattern == "*" or host == pattern:
            return True
        if pattern.startswith(".") and (host == pattern[1:] or host.endswith(pattern)):
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
    return False


class AllowedHostsMiddleware:
    """400 `Invalid host header` for a `Host` not in ALLOWED_HOSTS: the absolute URLs the
    service writes (the `Link` of the next page) are built from it."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") in HOST_FREE_PATHS:
            await self.app(scope, receive, send)
            return
        host = host_name(Headers(scope=scope).get("host", ""))
        if host and is_allowed_host(host, self.allowed_hosts):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"detail": "Invalid host header"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class HeadAsGetMiddleware:
    """`HEAD` answers what `GET` would, without the body (RFC 9110 9.3.2): FastAPI routes
    declare GET only, so HEAD would otherwise be 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        # In place, not on a copy: RequestLogMiddleware reads the matched route off this
        # dict once the router has set it (it noted the method HEAD before).
        scope["method"] = "GET"
        await self.app(scope, receive, send_without_body)


access_logger = logging.getLogger("app.requests")


def route_template(scope: Scope) -> str:
    """`/users/{user_id}` for `/users/7` (and for `/users/7/`, its alias): the path the
    router matched, without its parameters' types (`{user_id:id}`)."""
    route = scope.get("route")
    path = getattr(route, "path_format", None)
    if path is None:
        return metrics.UNMATCHED_ROUTE
    return path.rstrip("/") or "/"


class RequestLogMiddleware:
    """The request's log line and its metrics, once its answer has gone (or failed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        method = scope["method"]  # before HeadAsGetMiddleware answers HEAD as GET
        state = scope.setdefault("state", {})  # shared with the routes' `request.state`
        status = 500  # unless an answer starts: an exception becomes the 500 outside

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            seconds = time.perf_counter() - start
            route = route_template(scope)
            metrics.observe_request(method, route, status, seconds)
            access_logger.log(
                logging.ERROR if status >= 500 else logging.INFO,
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={
                    "method": method,
                    "path": scope["path"],  # without the query string
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "user_id": state.get("user_id"),
                    "client": scope["client"][0] if scope.get("client") else None,
                },
            )
