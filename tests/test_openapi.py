"""The OpenAPI schema documents what each operation can answer, for generated clients."""

import pytest

# method, path -> the status codes the contract says the operation can answer
CONTRACT = {
    ("post", "/auth/token"): {200, 400, 401, 422, 429, 503},
    ("post", "/users/"): {201, 400, 422, 503},
    ("get", "/users/"): {200, 401, 422, 503},
    ("get", "/users/me"): {200, 401, 503},
    ("get", "/users/{user_id}"): {200, 401, 404, 422, 503},
    ("patch", "/users/{user_id}"): {200, 400, 401, 403, 404, 409, 412, 422, 503},
    ("delete", "/users/{user_id}"): {204, 401, 403, 404, 409, 412, 422, 503},
    ("get", "/users/{user_id}/items"): {200, 401, 404, 422, 503},
    ("post", "/items/"): {201, 400, 401, 422, 503},
    ("get", "/items/"): {200, 401, 422, 503},
    ("get", "/items/{item_id}"): {200, 401, 404, 422, 503},
    ("patch", "/items/{item_id}"): {200, 400, 401, 403, 404, 409, 412, 422, 503},
    ("delete", "/items/{item_id}"): {204, 401, 403, 404, 409, 412, 422, 503},
    ("post", "/items/transfer"): {200, 400, 401, 403, 404, 409, 422, 503},
    ("get", "/stats"): {200, 401, 503},
    ("get", "/health"): {200, 503},
}
PUBLIC = {("post", "/auth/token"), ("post", "/users/"), ("get", "/health")}


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


async def test_list_operations_document_the_total_count_header(schema):
    for path in ("/users/", "/items/", "/users/{user_id}/items"):
        headers = schema["paths"][path]["get"]["responses"]["200"]["headers"]
        assert "X-Total-Count" in headers


async def test_docs_page_is_served(client):
    response = await client.get("/docs")

    assert response.status_code == 200 and "swagger" in response.text.lower()
