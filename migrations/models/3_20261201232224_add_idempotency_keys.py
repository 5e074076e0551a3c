"""add_idempotency_keys: generated for SQLite and PostgreSQL by `python -m app makemigration`."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True

UPGRADE = {
    "sqlite": """
        CREATE TABLE IF NOT EXISTS "idempotency_keys" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "user_id" INT NOT NULL,
    "key" VARCHAR(255) NOT NULL,
    "fingerprint" VARCHAR(64) NOT NULL,
    "status_code" INT,
    "body" TEXT,
    "created_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_idempotency_user_id_bc4599" UNIQUE ("user_id", "key")
);""",
    "postgres": """
        CREATE TABLE IF NOT EXISTS "idempotency_keys" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "user_id" INT NOT NULL,
    "key" VARCHAR(255) NOT NULL,
    "fingerprint" VARCHAR(64) NOT NULL,
    "status_code" INT,
    "body" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL,
    CONSTRAINT "uid_idempotency_user_id_bc4599" UNIQUE ("user_id", "key")
);""",
}
DOWNGRADE = {
    "sqlite": """
        DROP TABLE IF EXISTS "idempotency_keys";""",
    "postgres": """
        DROP TABLE IF EXISTS "idempotency_keys";""",
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    return UPGRADE[db.capabilities.dialect]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return DOWNGRADE[db.capabilities.dialect]


MODELS_STATE = 'eJztm11v4jgUhv8KylVX6o6AoZ3R3kFLd9i2MGozu6OpRpZJDEQkdsZ2hqJZ/vva+SBOiClUDV+bOzg+J7Efm+PXJ+GX4REbuexdz0aeTzjC1vwWzY0/ar8MDD0kPmg8zmsG9P20XRo4HLphiJP6gimah41wyDiFFhftI+gyJEw2YhZ1fO4QLKw4cF1pJJZwdPA4NQXY+REgwMkY8QmiouHpyQgYosCx5aXFLYzv38UHB9voGTHpIL/6UzBykGtnhhOFhHbA535o62F+EzrK+w+BRdzAw6mzP+cTgpfeDubSOkYYUciRvDyngRyQ7G/MIBlj1PfUJeqiEmOjEQxcrgAYgtRmANAfmOCxawJgbIHMIljiFl1l4ejHsgu/NxutD62P7y9bH4VL2M2l5cMiunUKJgoM8fRNYxG2Qw4jj5BxClWZjA3JKhEv401gruObGFLA6TI7GsIp0Wn0G8vSvJpAWowzds+hFB08RpQefAYuwmM+kfwuLtaA+7v9cPWp/XAmvH6TtyQixUQ5qB83NaO2LN2RuD+iPo3X2qaUc2EnSPuytQHsy5aWtWzKomYc8oAJiDbaIj3kol6VIuIEezCg3zhDDIldkCJM9KxBmvi/atUeGMs1oMzuV1Ne2WPsh6suzrP79tdw3XrzuOVu0P8zcVcW89XdoJNjbVEk2QBYkC6uRQt3PFRMPRuZY2/Hoe+SD8eYP8QA7QF25/EqWTc1vfvuo9m+/5yZn+u22ZUtzczcJNazy1yuWV6k9k/P/FSTX2vfBv1uiJcwPqbhHVM/85sh+wQDTgAmMwBtRX0l1oTaQurG0VQROdIwhNZ0BqkNVlpIk+h8V5u8ppe3QAzH4ZxJuLKbidrmyDOKVLi0r9fewqMEwZ2T10+5hS2UnPB4irqrfCczvNR50lbJ8l3K8mQ2NtU3iX9ZwmanbMtXkWrPttiIc2HVflztx9V+rNuP1VkPfPuVs56NrGb9UGY9YaRMe9z7dNZ/IsoKM6xWHigRu6stNfIz29i3LkgRqipsQ4ZqSFkQj01qrZwNcoRX8d4QipwxvkXzkHJPdAliq0hjxfr+C0NHqLUWyepJrOn9KZwt1X5mUYmxixEjHknS9uNV+7prLPZz2rojYwffQMcNKDIKTl2Z9vN1py9XeoJR5Fr+MUx7nNpn+Xi/R6qM7H/frG8g+4WXVvaHbetPWepsb5hd1ZDdbVH1A86t6nY1E4MQEkHkSvo6uVd4gRNUfcer8g6q2BZuugVpP9mM9elePsXcT7GtKqTtspCGPJGwt9lQlwEnt6WWUkmTv6Nti5VqzJvU0A4I8sUmsuVCr1ou6jrCwCWzopPKy5zTyIr2S7QnkE1EuvYhYzNCCzKyHndB6Am+Z1BKFnEYEFuw87MgjXQIcRHEml1QjcvBHorAsmgnK363yrAzGNxlRGGnl6+4f7nvdB/OGiF74eREh/RVoS7AscBHNGBFKeUl5pnQHWJfWo6We/X4Q59mjrMQXj3++D/OevX4Yyf1JE6mCIPtQa7E7bFUV98vzi0qNYo8SF5FyumCOOzm9gG5UPMaRO59pyPLR7oHIosyy1htRB1rYhQUsuKW83WlLJj67OWJRVW3KqFupc15+vOnPt1V507NuVP+qLYgHLufIN1GfZNKivDS0g3bcocdgjkq+p/GX4+DvuaUk4bkxa5j8dq/Nddhx/gnozVwJYyMol15zS7/Rl1OqsoLdLbb6d9+M1v8B+1ICA0='
