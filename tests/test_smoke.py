async def test_signup_and_me(client, alice):
    response = await client.get("/users/me", headers=alice.headers)
    assert response.status_code == 200
    assert response.json()["email"] == "alice@example.com"
