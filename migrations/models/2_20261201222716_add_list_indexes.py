"""add_list_indexes: generated for SQLite and PostgreSQL by `python -m app makemigration`."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True

UPGRADE = {
    "sqlite": """
        CREATE INDEX "idx_items_created_cb6edf" ON "items" ("created_at", "id");
        CREATE INDEX "idx_items_owner_i_cfa263" ON "items" ("owner_id", "id");
        CREATE INDEX "idx_items_name_a183ed" ON "items" ("name", "id");
        CREATE INDEX "idx_users_created_eeb5e9" ON "users" ("created_at", "id");""",
    "postgres": """
        CREATE INDEX IF NOT EXISTS "idx_items_created_cb6edf" ON "items" ("created_at", "id");
        CREATE INDEX IF NOT EXISTS "idx_items_owner_i_cfa263" ON "items" ("owner_id", "id");
        CREATE INDEX IF NOT EXISTS "idx_items_name_a183ed" ON "items" ("name", "id");
        CREATE INDEX IF NOT EXISTS "idx_users_created_eeb5e9" ON "users" ("created_at", "id");""",
}
DOWNGRADE = {
    "sqlite": """
        DROP INDEX IF EXISTS "idx_users_created_eeb5e9";
        DROP INDEX IF EXISTS "idx_items_name_a183ed";
        DROP INDEX IF EXISTS "idx_items_owner_i_cfa263";
        DROP INDEX IF EXISTS "idx_items_created_cb6edf";""",
    "postgres": """
        DROP INDEX IF EXISTS "idx_users_created_eeb5e9";
        DROP INDEX IF EXISTS "idx_items_name_a183ed";
        DROP INDEX IF EXISTS "idx_items_owner_i_cfa263";
        DROP INDEX IF EXISTS "idx_items_created_cb6edf";""",
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    return UPGRADE[db.capabilities.dialect]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return DOWNGRADE[db.capabilities.dialect]


MODELS_STATE = 'eJztmm1v4jgQx78Kyque1FsBW3ZX9w5aesttC6c2+6CtTpZJTLBI7GzsLEV7fPeznYQ8EFOoCCk93sF4hti/ScZ/T/hleNRGLnsz4Mgz/mj8Mgj0kPiQs583DOj7qVUaOBy7yhELD2WBY8YDaHFhnECXIWGyEbMC7HNMibCS0HWlkVrCERMnNYUE/wgR4NRBfIoCMfDwjzBjYqNHxOTXB8MKEOTIBpDLi2HbEB4P0XQz3+mcoACIb7FN/ow/AxOMXDu3vshF2QFf+Mo2IPxaOcpZjoFF3dAjqbO/4FNKVt6YqJk4SFxRzkzYeBDKZctVxXgSEtEKU5doaZkYG01g6PIMpjFIbQYAw5EJ7vsmAMYOYC1KZFLEVJlavSOn8Hu7dfH+4sPbdxcfhIua5sryfhldOgUTBSo8Q9NYqnHIYeShcpNCTbKRx3o5hUE518S/QFZMuUg24bgJbWKoia0HH4GLiMOnEmins4Hkl+7d5cfu3Znw+k1ekornJnqahvFQOxqTuFO82ZmtUTbRo+buLYQ9C3ZMcgPr9Jk/AOwNbM3+N1P+ssfYDzeL9Oy2+03R9hbxyM1o+GfinknB5c2oVyCfLz558FdihGMPlcPPRxbY23Hom+TDfm77g6bCEAu0R8RdxHfJptQMbvv3Zvf271x+rrpmX460c7lJrGfvCk/I6kcaXwfmx4b82vg+GvYVXsq4E6grpn7md0POCYacAkLnANqZ0pBYE2q5rIe+/cys5yNPWX8pWU8YZdIezz7N+k8UsNIKq5UHmYinNcK+ktsqZrZVty5IEWZV2JYMsyFVQTw2qSXF62RWqrQUrnW81zRA2CGf0EJRHogpQWKVaaxY339m6Ai11jK5exJrev0AzldqP3dTibWLFSMeSdLu/WX3qm8oxGNozeYwsEGOtRyhbVqwrHzXh7y2V7RAAh0FRy5DTjqmfkMdTK4hdsMAGSWnrtz4+abTlys9wSRyrf4Ypj1OzdBiF+Efu+9H99d7pMrJ/rft5hayX3hpZb8a23zKymZ7y+qaDTncFtV8wbU1u13NxSKERBC1Mnie3Cv9gVeo+o5X5UXifm1Draf8q023pOwnm7G+3IfCo55m26mRdshGGvJEwd5lQ10FvLottZJOmnyOdm1WZmP20kN7QZA728iWjl61dJo6wsCl87KTytOc08gT7adoTyGbinLtQ8bmNCipyHrcJaFVteMP26GqvopgBsQWjH+WlJEepS6CRLMLZuMKsMcisCrayR1/WGXYG41ucqKwNyh23D/f9vp3Zy3FXjjh6JC+LtQFOBb6KAhZWUl5inku9IDYV5aj5X56/aEvM8fZCD+9/vg/Zv30+uMg/SROZ4iA3UGuxdXYqmvWi3OHTk1GHiR/RSrogjjs+tMdcqHmbxCF/zsdWT3SvRBZVtnG6qIAW1OjpJEVj5xvamXB1KeWNxanvlUFfSttzdOfP/Xl7nTu1Jw75UO1A+HY/RXSbTW36aQILy1dNVY47FDCESnRvH/dj4aaU04aUhS72OKNfxsuZpVt3fW875Ewcop27W92xX/UFaSq/IHebjv9/jez5X87F1pf'
