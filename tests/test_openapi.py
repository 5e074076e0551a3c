"""The OpenAPI schema documents what each operation can answer, for generated clients."""

import pytest

# method, path -> the status codes the contract says the operation can answer
CONTRACT = {
    ("post", "/auth/token"): {200, 400, 401, 422, 429, 503},
    ("post", "/auth/password-reset"): {202, 400, 422, 429, 503},
    ("post", "/auth/password-reset/confirm"): {204, 400, 422, 503},
    ("post", "/auth/verify/request"): {202, 401, 429, 503},
    ("post", "/auth/verify"): {200, 400, 422, 503},
    ("post", "/auth/refresh"): {200, 400, 401, 422, 503},  # 400: a body that is not JSON
    ("post", "/auth/logout"): {204, 401, 422, 503},
    ("get", "/auth/sessions"): {200, 400, 401, 422, 503},  # 400: Invalid cursor
    ("delete", "/auth/sessions/{session_id}"): {204, 401, 404, 422, 503},
    ("post", "/users/"): {201, 400, 422, 503},
    ("get", "/users/"): {200, 400, 401, 422, 503},  # 400: Invalid cursor
    ("get", "/users/me"): {200, 401, 503},
    ("get", "/users/{user_id}"): {200, 401, 404, 422, 503},
    ("patch", "/users/{user_id}"): {200, 400, 401, 403, 404, 409, 412, 422, 503},
    ("delete", "/users/{user_id}"): {204, 401, 403, 404, 409, 412, 422, 503},
    ("get", "/users/{user_id}/items"): {200, 400, 401, 404, 422, 503},
    ("post", "/items/"): {201, 400, 401, 409, 422, 503},  # 409: Idempotency-Key in use
    ("get", "/items/"): {200, 400, 401, 422, 503},
    ("get", "/items/{item_id}"): {200, 401, 404, 422, 503},
    ("patch", "/items/{item_id}"): {200, 400, 401, 403, 404, 409, 412, 422, 503},
    ("delete", "/items/{item_id}"): {204, 401, 403, 404, 409, 412, 422, 503},
    ("post", "/items/transfer"): {200, 400, 401, 403, 404, 409, 422, 503},
    ("get", "/stats"): {200, 401, 503},
    ("get", "/health"): {200, 503},
    ("get", "/health/live"): {200},
    ("get", "/health/ready"): {200, 503},
    ("get", "/metrics"): {200, 404},
}
PUBLIC = {
    ("post", "/auth/token"),
    ("post", "/auth/password-reset"),
    ("post", "/auth/password-reset/confirm"),
    ("post", "/auth/verify"),
    ("post", "/auth/refresh"),
    ("post", "/users/"),
    ("get", "/health"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/metrics"),
}


@pytest.fixture
async def schema(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


async def test_every_operation_documents_each_status_code_it_can_answer(schema):
    documented = {
        (method, path): {int(code) for code in operation["responses"]}
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }

    assert documented == CONTRACT


async def test_protected_operations_declare_the_bearer_scheme(schema):
    assert schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["type"] == "oauth2"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            secured = bool(operation.get("security"))
            assert secured == ((method, path) not in PUBLIC), (method, path)


async def test_list_operations_document_the_total_count_and_link_headers(schema):
    for path in ("/users/", "/items/", "/users/{user_id}/items"):
        operation = schema["paths"][path]["get"]
        assert {"X-Total-Count", "Link"} <= set(operation["responses"]["200"]["headers"])
        assert "cursor" in {parameter["name"] for parameter in operation["parameters"]}


async def test_idempotent_operations_document_the_key_and_the_replay(schema):
    for path in ("/items/", "/items/transfer"):
        operation = schema["paths"][path]["post"]
        assert "idempotency-key" in {p["name"].lower() for p in operation["parameters"]}
        success = operation["responses"]["201" if path == "/items/" else "200"]
        assert "Idempotent-Replayed" in success["headers"]


async def test_docs_page_is_served(client):
    response = await client.get("/docs")

    assert response.status_code == 200 and "swagger" in response.text.lower()
