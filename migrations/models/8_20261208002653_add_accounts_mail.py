"""add_accounts_mail: generated for SQLite and PostgreSQL by `python -m app makemigration`."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True

UPGRADE = {
    "sqlite": """
        CREATE TABLE IF NOT EXISTS "mail_requests" (
    "key" VARCHAR(320) NOT NULL PRIMARY KEY,
    "failures" INT NOT NULL,
    "window_started_at" TIMESTAMP NOT NULL
);
        CREATE TABLE IF NOT EXISTS "outbox_mails" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "recipient" VARCHAR(255) NOT NULL,
    "body" TEXT,
    "attempts" INT NOT NULL,
    "next_attempt_at" TIMESTAMP NOT NULL,
    "sent_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_outbox_mail_sent_at_7f2eaa" ON "outbox_mails" ("sent_at", "next_attempt_at");
        CREATE TABLE IF NOT EXISTS "account_tokens" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "purpose" VARCHAR(20) NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "email" VARCHAR(255) NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "used_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_account_tok_user_id_112c4c" ON "account_tokens" ("user_id");
        ALTER TABLE "users" ADD "is_verified" INT NOT NULL DEFAULT 0;""",
    "postgres": """
        CREATE TABLE IF NOT EXISTS "mail_requests" (
    "key" VARCHAR(320) NOT NULL PRIMARY KEY,
    "failures" INT NOT NULL,
    "window_started_at" TIMESTAMPTZ NOT NULL
);
        CREATE TABLE IF NOT EXISTS "outbox_mails" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "recipient" VARCHAR(255) NOT NULL,
    "body" TEXT,
    "attempts" INT NOT NULL,
    "next_attempt_at" TIMESTAMPTZ NOT NULL,
    "sent_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_outbox_mail_sent_at_7f2eaa" ON "outbox_mails" ("sent_at", "next_attempt_at");
        CREATE TABLE IF NOT EXISTS "account_tokens" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "purpose" VARCHAR(20) NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "email" VARCHAR(255) NOT NULL,
    "expires_at" TIMESTAMPTZ NOT NULL,
    "used_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_account_tok_user_id_112c4c" ON "account_tokens" ("user_id");
        ALTER TABLE "users" ADD "is_verified" BOOL NOT NULL DEFAULT False;""",
}
DOWNGRADE = {
    "sqlite": """
        ALTER TABLE "users" DROP COLUMN "is_verified";
        DROP TABLE IF EXISTS "mail_requests";
        DROP TABLE IF EXISTS "account_tokens";
        DROP TABLE IF EXISTS "outbox_mails";""",
    "postgres": """
        ALTER TABLE "users" DROP COLUMN "is_verified";
        DROP TABLE IF EXISTS "mail_requests";
        DROP TABLE IF EXISTS "outbox_mails";
        DROP TABLE IF EXISTS "account_tokens";""",
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    return UPGRADE[db.capabilities.dialect]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return DOWNGRADE[db.capabilities.dialect]


MODELS_STATE = 'eJztXW1zmzgQ/isMXy6d8WUSO05y/WanTptrEndi99pprkNkkG0mvBWJOp5e/vtJAozAgMHnF8zpU2NpF8SzYrXPrlB/yaatQQMdd1TV9iw8tJ+hJb+VfskWMCH5I7W/IcnAcaJe2oDByGAKwJdUMBVlXWCEsAtUTHrHwECQNGkQqa7uYN2md7M8w6CNtkoEdWsSNXmW/sOD5FoTiKfQJR2P30mzbmnwBaLwp/OsjHVoaLGB6xq9N2tX8NxhbTcWvmaC9G4jRbUNz7QiYWeOp7a1kNYtTFsn0IIuwJBeHrseHT4dXfC84RP5I41E/CFyOhocA8/A3OOOlKhNVpT7/lAZ9IaKIpcASLUtCi4ZKmJPP6FD+L15enZxdtk6P7skImyYi5aLV//WETC+IoPnfii/sn6AgS/BMI5AdTzXsRFcRvZqCtx0aDmVBL5k4El8QzTzAA4bIoSjWbULiE3wohjQmuApxfUkB8+/Og9XHzoPR82TN/SGNnkJ/HfkPuhpsi4KeQQxe2+UKUDTMijHtTYD9H5ncgzm87MCMJ+fZcJMu+IwQxPoRhmEFwp1nMXtdpFp3G5nz2Pal0D4xdFdiBSAl2F+R5DCugkzoI5pJvDWAtXj8I8DRD8H7OHNXW8w7Nx9opc3EfphMLw6wx7tabLWeaL16Dxhl8VFpC83ww8S/Sl969/3GJw2whOX3TGSG36T6ZiAh23FsmcK0HhMwuawKWZmD0FtDRtzahswcOCZhH03b1/VhRT3NUwc16zhayyTB9T6ljEPZuCBmD14WVa91a5SKoTmNFbH0esZ99AiacpNxs+pgTRFaxnca9uF+sT6COcM4xsyImCpabFzQMs+B5c5LGxfw7kTtkb3d8FsweX4KUUenTwwxH6Q1hlcdd71ZAbwCKjPM+BqSgxp2mM37UTLQna5y2yayRZggQnDhj4FHXMA+o0GTcfG0FLnxFJyCltOSDTy+LIeySrPcL4FxvzIA0luIX8XHHqPHLqSrnW36+ZGEI4QffbfsaJMLhAXPK4YjxuT+0PXcYO5VhTlhFoN0d58UoIs99hDBEQtJcWW6R4SWmu5iIoRqE17iJGtpbiIIXzJgDSUX2vWVgzLPFbS+zqMEZJwch7ddb6+iZGS2/79+1Ccm8xXt/1uAmtBGLOndb0I4xK/2VM8jqEpp0XhtD0/9iYS2y9RPSYmNonkiMSjP1zutz2zFnEebRNh+S7D8tAaReObUH5bgc3+ii1biSL5kZVYiBNqYj0W67FYjwslcB1tTavHNYXVq2L1lGpNMPrI6j+hi1I9bGZ4wGnsLrd0mrTs6b7jgghCPgoriCGvImofK2sfDC5R/FhR/OAnVZWqH7f2RLeugW54LpRTWFesv5HHvgwqqYx90T3uFNxn+rhCe6xahfaytXI2s7XC3WzZLIu3dkHvyqvsbok6qbBv5ZerGXkIEiIQX+muF+6lXqCGUd/hRnmVSrbdkbfxARKLIpzm/fnuXOdPd1Mqri8pfL/w/cL3C98vfH+1fX/fwyP7hbr4NNfP9eZ6fpvJKXQB2EXtBUELBzPbgi/0TwxNhzWJCstOKywuVHVHh+W2kcSUariJZCvFFrHdYXfllcCflIlqeBUR1SSjmqSXLhnTpKiLiKZyEU1s11u0QpcxNKcmviCqsn1FATrbdx5mKbLiG8Ie7NkVPYNATmEpi75GHkdxyaOyYwyKMRT5EyHQkj2WCAshgzFH0KW/yFUQ/feJXVehI3mSaF1Hk0Zz6Sms8DxJR0+d21vlof9l8PSWKgCDcSh+/mzhFn9bOkbsCm/eSkBiV/gNSey5JR2xOyHPpNKhoERYFjyWG6nU61GOBsGmHVfBQiTA1/7bhyddffJ/oWB/NJut1kXzpHV+2T67uGhfniyCquWuvOiqe/OeBlgxH7CaqMXNWJSpxbVqSNVazUI50pwUaZKnVXSvwUFv9fc9zRKgA5N4vOxPKEKlOkHaal6cL9CkP/KAHNyR9SGFjJXzwzveR1QLT1yRoGkAEfIxWoqZwq7ckIkEg1MF+ZLi2Kd6ZW4Fg8uGvl4Mjvf9BkBYWfN4l6RuDS1/IJYulKJhX5iTdaFcbSauVYfiwQ5qMy4cE8NNS5/wltSrIcHa/AfVIWjrn0WWfgXhzirtziCBcJ1Vi9cTNYUqW9g/77L85y5LenUiqxvLoVTyiJpDI1Q5X8CI078O9/QvBnpKkiQ0RnaGhD7Qfk4bENmSXWZL9n20cIX2lW+FQdH3qGxxitfZCFGtEMjtInv329lb99tLZ5CHaCmGPUtbqVbjHGkKtFehTRk9cdcOQGhmp9WusuFOUa1hXmArXkQnXF7F+s8UN9K1bQMCK2MV5PUSYI+I4rbQDmf8bolht9+/jXHC7k1yT+znu27v4eiUYU+EdMzVthKAI8+BbnrwuwrzmOoOYV+0HDLuhO/q5C5pm2pWwM5r7hv1srHyXtAWpbJsp17fUpk4baduVk/JQorTdjafaTzAPO7SdzQn+4WzxP4h7qulpf+lLREXBPrXHx+gATKO38v4v+EOzEFl5SPjQVR4Uuj6MIXHkdYRHn7f1/oIcfvM6gLSNjPRHRKbq1M5JRcd9DRy9+tFMmKj3s6CoS2nnjMX0uwUUvYaKlJHGakj+lKVQDgQryG6pydFkqFEKhNd1pdg0LaFUzei/Tno32dQ50glyaB0FUv/SIaODrGunwMuBSNGk5a+ZU9+tt6I8x96ge6+t5+//guASHs3'