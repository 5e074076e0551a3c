"""add_search_indexes: trigram indexes for the substring filters, `q=` and `email=`.

Written by hand (Aerich has no trigram or concurrent indexes). On PostgreSQL the indexes
are built CONCURRENTLY, so a live table keeps taking writes during the build; that cannot
run inside a transaction, hence RUN_IN_TRANSACTION = False and the statements run by
`run_concurrently` (app/db/migrations.py: each under MIGRATION_LOCK_TIMEOUT; a failed
build's INVALID index is dropped, and the migration can be run again) from `upgrade()`. The
expressions are the ones Tortoise filters by: `name__icontains` is
UPPER(CAST(name AS VARCHAR)) LIKE UPPER(...), `email__contains` CAST(email AS VARCHAR)
LIKE .... On SQLite this migration does nothing: a substring scan of one file is fast.
"""

from tortoise import BaseDBAsyncClient

from app.db.migrations import run_concurrently

RUN_IN_TRANSACTION = False

UPGRADE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'CREATE INDEX CONCURRENTLY IF NOT EXISTS "idx_items_name_trgm" ON "items" '
    'USING gin ((UPPER(CAST("name" AS VARCHAR))) gin_trgm_ops)',
    'CREATE INDEX CONCURRENTLY IF NOT EXISTS "idx_users_email_trgm" ON "users" '
    'USING gin ((CAST("email" AS VARCHAR)) gin_trgm_ops)',
]
# Aerich runs a downgrade inside a transaction, whatever RUN_IN_TRANSACTION says, and
# wants SQL back: plain DROP INDEX (a brief lock; downgrades are rare), a no-op on SQLite.
DOWNGRADE = """
DROP INDEX IF EXISTS "idx_users_email_trgm";
DROP INDEX IF EXISTS "idx_items_name_trgm";"""


async def upgrade(db: BaseDBAsyncClient) -> str:
    if db.capabilities.dialect == "postgres":
        await run_concurrently(db, UPGRADE)
    return "SELECT 1"  # done above; Aerich wants a statement (asyncpg fails on an empty one)


async def downgrade(db: BaseDBAsyncClient) -> str:
    return DOWNGRADE


MODELS_STATE = 'eJztm11v4jgUhv8KylVX6o6AoZ3R3kFLd9i2MGozu6OpRpZJDEQkdsZ2hqJZ/vva+SBOiClUDV+bOzg+J7Efm+PXJ+GX4REbuexdz0aeTzjC1vwWzY0/ar8MDD0kPmg8zmsG9P20XRo4HLphiJP6gimah41wyDiFFhftI+gyJEw2YhZ1fO4QLKw4cF1pJJZwdPA4NQXY+REgwMkY8QmiouHpyQgYosCx5aXFLYzv38UHB9voGTHpIL/6UzBykGtnhhOFhHbA535o62F+EzrK+w+BRdzAw6mzP+cTgpfeDubSOkYYUciRvDyngRyQ7G/MIBlj1PfUJeqiEmOjEQxcrgAYgtRmANAfmOCxawJgbIHMIljiFl1l4ejHsgu/NxutD62P7y9bH4VL2M2l5cMiunUKJgoM8fRNYxG2Qw4jj5BxClWZjA3JKhEv401gruObGFLA6TI7GsIp0Wn0G8vSvJpAWowzds+hFB08RpQefAYuwmM+kfwuLtaA+7v9cPWp/XAmvH6TtyQixUQ5qB83NaO2LN2RuD+iPo3X2qaUc2EnSPuytQHsy5aWtWzKomYc8oAJiDbaIj3kol6VIuIEezCg3zhDDIldkCJM9KxBmvi/atUeGMs1oMzuV1Ne2WPsh6suzrP79tdw3XrzuOVu0P8zcVcW89XdoJNjbVEk2QBYkC6uRQt3PFRMPRuZY2/Hoe+SD8eYP8QA7QF25/EqWTc1vfvuo9m+/5yZn+u22ZUtzczcJNazy1yuWV6k9k/P/FSTX2vfBv1uiJcwPqbhHVM/85sh+wQDTgAmMwBtRX0l1oTaQurG0VQROdIwhNZ0BqkNVlpIk+h8V5u8ppe3QAzH4ZxJuLKbidrmyDOKVLi0r9fewqMEwZ2T10+5hS2UnPB4irqrfCczvNR50lbJ8l3K8mQ2NtU3iX9ZwmanbMtXkWrPttiIc2HVflztx9V+rNuP1VkPfPuVs56NrGb9UGY9YaRMe9z7dNZ/IsoKM6xWHigRu6stNfIz29i3LkgRqipsQ4ZqSFkQj01qrZwNcoRX8d4QipwxvkXzkHJPdAliq0hjxfr+C0NHqLUWyepJrOn9KZwt1X5mUYmxixEjHknS9uNV+7prLPZz2rojYwffQMcNKDIKTl2Z9vN1py9XeoJR5Fr+MUx7nNpn+Xi/R6qM7H/frG8g+4WXVvaHbetPWepsb5hd1ZDdbVH1A86t6nY1E4MQEkHkSvo6uVd4gRNUfcer8g6q2BZuugVpP9mM9elePsXcT7GtKqTtspCGPJGwt9lQlwEnt6WWUkmTv6Nti5VqzJvU0A4I8sUmsuVCr1ou6jrCwCWzopPKy5zTyIr2S7QnkE1EuvYhYzNCCzKyHndB6Am+Z1BKFnEYEFuw87MgjXQIcRHEml1QjcvBHorAsmgnK363yrAzGNxlRGGnl6+4f7nvdB/OGiF74eREh/RVoS7AscBHNGBFKeUl5pnQHWJfWo6We/X4Q59mjrMQXj3++D/OevX4Yyf1JE6mCIPtQa7E7bFUV98vzi0qNYo8SF5FyumCOOzm9gG5UPMaRO59pyPLR7oHIosyy1htRB1rYhQUsuKW83WlLJj67OWJRVW3KqFupc15+vOnPt1V507NuVP+qLYgHLufIN1GfZNKivDS0g3bcocdgjkq+p/GX4+DvuaUk4bkxa5j8dq/Nddhx/gnozVwJYyMol15zS7/Rl1OqsoLdLbb6d9+M1v8B+1ICA0='
