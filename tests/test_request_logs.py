"""One log line per request, and nothing secret in any line: as a real server logs."""

import io
import json
import logging
import os
import secrets
import sys

import httpx
import jwt
import pytest

from app.core.logging import AppHandler, formatter
from app.core.mail_templates import RESET, VERIFY
from app.core.security import hash_password
from tests.fixtures import PASSWORD
from tests.mail import token_in
from tests.support import is_postgres, primary_url, query, serving

REQUEST_LOGGER = "app.requests"


async def test_the_request_line_names_route_template_status_duration_and_user(
    client, alice, caplog
):
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)

    response = await client.get(f"/users/{alice.id}", headers=alice.headers)
    anonymous = await client.get("/users/me")

    lines = [r for r in caplog.records if r.name == REQUEST_LOGGER]
    signed_in, refused = lines[-2:]
    assert (signed_in.method, signed_in.path, signed_in.route) == (
        *("GET", f"/users/{alice.id}"),
        "/users/{user_id}",
    )
    assert (signed_in.status, signed_in.user_id) == (response.status_code, alice.id)
    assert signed_in.duration_ms > 0
    assert (refused.route, refused.status, refused.user_id) == ("/users/me", 401, None)
    assert anonymous.status_code == 401


async def test_a_head_request_and_an_unknown_path_are_logged_as_such(client, caplog):
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)

    await client.head("/health/live")
    await client.get("/no/such/path")

    head, unknown = [r for r in caplog.records if r.name == REQUEST_LOGGER][-2:]
    assert (head.method, head.route, head.status) == ("HEAD", "/health/live", 200)
    assert (unknown.route, unknown.status) == ("unmatched", 404)


def _json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line is one JSON object


async def test_a_full_flow_logs_json_lines_tied_to_requests_and_no_secret(tmp_path, mailbox):
    """LOG_FORMAT=json with SQL_ECHO and DEBUG on (the most a log ever shows): each
    request's line carries its X-Request-ID, so do the SQL lines it caused, and no
    password, token (access, verification, reset), hash or key appears anywhere."""
    log = tmp_path / "server.log"
    email = f"flow-{secrets.token_hex(4)}@example.com"
    url = primary_url()
    new_password = "another horse battery " + secrets.token_hex(4)
    answers: list[httpx.Response] = []
    env = {"LOG_FORMAT": "json", "SQL_ECHO": "true", "LOG_LEVEL": "DEBUG", "LOG_FILE": str(log)}
    database_password = "DbPassword" + secrets.token_hex(4)
    if is_postgres(url) and "@" in url and ":" not in url.split("//")[1].split("@")[0]:
        # Trust authentication lets any password in: the URL carries one, as in production.
        env["DATABASE_URL"] = url.replace("@", f":{database_password}@", 1)
    async with serving(**env) as server, httpx.AsyncClient(base_url=server.url) as http:
        created = await http.post("/users/", json={"email": email, "password": PASSWORD})
        wrong = await http.post("/auth/token", data={"username": email, "password": "nope!"})
        login = await http.post("/auth/token", data={"username": email, "password": PASSWORD})
        first_refresh = login.json()["refresh_token"]
        refreshed = await http.post("/auth/refresh", json={"refresh_token": first_refresh})
        token, refresh_token = refreshed.json()["access_token"], refreshed.json()["refresh_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        me = await http.get("/users/me", headers={**bearer, "X-Request-ID": "flow-me-1"})
        user_id = me.json()["id"]
        sessions = await http.get("/auth/sessions", headers=bearer)
        changed = await http.patch(
            f"/users/{user_id}", json={"password": new_password}, headers=bearer
        )
        item = await http.post("/items/", json={"title": "thing"}, headers=bearer)
        (verify_mail,) = await mailbox.wait_for(email, VERIFY)
        verification = token_in(verify_mail)
        verified = await http.post("/auth/verify", json={"token": verification})
        reset = await http.post("/auth/password-reset", json={"email": email})
        (reset_mail,) = await mailbox.wait_for(email, RESET)
        reset_token = token_in(reset_mail)
        confirmed = await http.post(
            "/auth/password-reset/confirm", json={"token": reset_token, "password": PASSWORD}
        )
        reverified = await http.post("/auth/verify", json={"token": verification})
        reused = await http.post("/auth/refresh", json={"refresh_token": first_refresh})
        ended = await http.post("/auth/refresh", json={"refresh_token": refresh_token})
        answers = [created, wrong, login, refreshed, me, sessions, changed, item]
        answers += [verified, reset, confirmed, reverified, reused, ended]
        metrics = (await http.get("/metrics")).text
    statuses = [201, 401, 200, 200, 200, 200, 200, 401, 200, 202, 204, 400, 401, 401]
    assert [a.status_code for a in answers] == statuses

    text = log.read_text()
    lines = _json_lines(text)
    (stored,) = await query(url, f"SELECT hashed_password FROM users WHERE email = '{email}'")
    digest = stored[0].rsplit("$", 1)[1]
    tokens = (login.json()["access_token"], first_refresh, token, refresh_token)
    secrets_ = (PASSWORD, new_password, "nope!", *tokens, os.environ["SECRET_KEY"], digest)
    secrets_ += (verification, reset_token)
    for secret in (*secrets_, database_password[:6]):
        assert secret not in text
        assert secret not in metrics
    for refresh in (first_refresh, refresh_token):  # nor the secret inside a refresh token
        assert jwt.decode(refresh, options={"verify_signature": False})["jti"] not in text
    assert "$argon2" not in text and "Bearer" not in text
    assert "[redacted]" in text  # the INSERT of the user was echoed, its hash replaced

    requests = {line["request_id"]: line for line in lines if line["logger"] == REQUEST_LOGGER}
    for answer in answers:
        line = requests[answer.headers["X-Request-ID"]]
        assert (line["method"], line["path"], line["status"]) == (
            answer.request.method,
            answer.request.url.path,
            answer.status_code,
        )
        assert {"timestamp", "level", "route", "duration_ms", "user_id"} <= set(line)
    assert requests["flow-me-1"]["user_id"] == user_id
    assert requests["flow-me-1"]["route"] == "/users/me"
    statements = [
        line
        for line in lines
        if line["logger"] == "tortoise.db_client" and line.get("request_id") == "flow-me-1"
    ]
    assert any("SELECT" in line["event"] for line in statements)


@pytest.mark.parametrize("log_format", ["console", None])
async def test_console_lines_are_the_default_and_carry_the_request_id(tmp_path, log_format):
    log = tmp_path / "server.log"
    env = {"LOG_FILE": str(log)} | ({"LOG_FORMAT": log_format} if log_format else {})
    async with serving(**env) as server, httpx.AsyncClient(base_url=server.url) as http:
        await http.get("/health/live", headers={"X-Request-ID": "console-42"})

    (line,) = [line for line in log.read_text().splitlines() if "console-42" in line]
    assert "GET /health/live 200" in line
    assert not line.startswith("{")


def _record_of_failure(message: str, password: str) -> logging.LogRecord:
    def login(password: str) -> None:
        form = {"password": password}  # local variables a traceback could print
        raise ValueError(message, len(form))

    try:
        login(password)
    except ValueError:
        exc_info = sys.exc_info()
    return logging.LogRecord("app", logging.ERROR, __file__, 1, "failed", None, exc_info)


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_a_traceback_shows_no_local_variable_and_no_hash(log_format):
    hashed = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0ZGlnZXN0"
    password = "hunter2-" + secrets.token_hex(4)
    handler = AppHandler()
    handler.setFormatter(formatter(log_format))

    line = handler.format(_record_of_failure(f"Failing row contains ({hashed})", password))

    assert "ValueError" in line and "[redacted]" in line
    assert password not in line
    assert "ZGlnZXN0" not in line and "c2FsdHNhbHQ" not in line


async def test_a_line_logged_while_hashing_carries_the_request_id(monkeypatch):
    from asgi_correlation_id import correlation_id

    from app.core import security

    def hash_and_log(password: str) -> str:
        logging.getLogger("passlib.test").warning("hashing")
        return "$argon2id$fake"

    monkeypatch.setattr(security.password_context(), "hash", hash_and_log)
    output = io.StringIO()
    handler = AppHandler(output)
    handler.setFormatter(formatter("json"))
    logger = logging.getLogger("passlib.test")
    logger.addHandler(handler)
    token = correlation_id.set("hash-req-1")
    try:
        await hash_password("whatever password")
    finally:
        correlation_id.reset(token)
        logger.removeHandler(handler)

    assert json.loads(output.getvalue())["request_id"] == "hash-req-1"


FORGED = "/x%0a2026-01-01T00:00:00Z [info     ] GET /admin 200%0d%1b[2J"


async def test_a_console_line_cannot_be_forged_by_the_path(tmp_path):
    """`%0a` in a path decodes to a newline: printed raw, it starts a second, well-formed
    line; `%0d` and ANSI escapes reach the terminal. Every field is escaped instead."""
    log = tmp_path / "server.log"
    async with serving(LOG_FILE=str(log)) as server, httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.get(FORGED, headers={"X-Request-ID": "forged-1"})

    assert answer.status_code == 404
    text = log.read_text()
    (line,) = [line for line in text.splitlines() if "forged-1" in line]
    assert "\\n2026-01-01T00:00:00Z" in line and "\\x1b[2J" in line
    assert "\r" not in text and "\x1b" not in text
    assert not any(line.startswith("2026-01-01T00:00:00Z") for line in text.splitlines())


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_control_characters_are_escaped_in_every_field(log_format):
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "a\nb\u2028c\x07", None, None)
    record.path, record.route = "/p\r\n\x1b[31m", "unmatched\x00"
    handler = AppHandler()
    handler.setFormatter(formatter(log_format))

    line = handler.format(record)

    assert len(line.splitlines()) == 1
    assert not any(ch in line for ch in "\r\x1b\x00\x07\u2028")
