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


MODELS_STATE = 'eJztm11zmzgUhv+Kh6t0JtuxXSft7J2dOFtvE7uT0G2nmY5GBtlmDBIFUcfT9X9fSYABGQhkAv5Y7mydc0B6JB+9R+DfikV0ZLpvRzqybEIR1taf0Fr5s/VbwdBC7EOGx3lLgbYd2XkDhVNThBiRL1iitTDCqUsdqFFmn0HTRaxJR67mGDY1CGat2DNN3kg05mjgedTkYeOnhwAlc0QXyGGGx0fFc9knZmTXV378YB8MrKMn5HIr/2ovwcxApp4Yi6HzENEO6NoWbSNMb4Qjv/kUaMT0LBw522u6IHjrbWDKW+cIIwdSxC9PHY+Phnc2ABAO0O945OJ3MRajoxn0TBob/RREbQoA44kKHoYqAEoJXhrBnDXrqitGP+dd+KPb6b3vfXh32fvAXEQ3ty3vN/6tIzB+oMAzVpWNsEMKfQ/BOIK69JdDkurVAjrpWAN3iSvrsMw1pJgHNmyIyEaLqw60FnwCJsJzuuA8Ly5yQP7Tv7/62L8/Y15v+C0J+zX4P5dxYOr6Nk47ojtj90eO7QQLryhlKewEaV/2CsC+7GWy5qYkapdC6rkMoo5KpAkp6vl8kUI6SAcHA/pVMkYEdkr0lBShoqcMpKH/i1btgbHMAaUOv6n8ypbr/jTji/Psrv9NrFtrHVhuJ+O/QvfYYr66nQwk1pqDOBsAU9LFNbNQw0Lp1JOREns9CH0bfjjG/MEGqE+wuQ5WSd7UjO6GD2r/7nNifq776pBbuom5CVvPLqVcs71I6+tI/djiX1vfJ+OhwEtcOnfEHSM/9bvC+wQ9SgAmKwD1mFYIW0NqiVnnagiUUjexiBelrIOb3FfIWVw3zpapIieUm0m6N8RBxhwzQSwgj1iPINbS9oFARX8JLnNkcDfh6glbo2XpwNVWaMcXFRs7GzGivk7pP1z1r4eKIDyF2nIFHR0kUHML6RKpZeu7a7K6ltwCMZwLOHwUvM9h7UKRpaTVNLz9PLeSYR4VlC9SvfIo5V5GkHk8+t2NfScrvOXL25o6p846J5yNohI89K9Ke9fKtvpCJ96zElpRCmskYyMZG8lYSDLa+gtnPRnZzPqhzHrIKDbtQe+jWf+FHDc1w2bKg1hEfYVCR57Zzr51QYQwrsIKMoyHVAXx2KRWTrElcB1UtVUn3KLFVnxRHVK1dUvmBr6Bhuk5SEmpuhL287zqy+SeYOa7Vl+GZZZT+3zCsd+SKiH733XbBWQ/88qU/cKWX2XFZ7tgdo2H1LdFtQ84t8a3qxUbBJMILFc6L5N7qRc4QdV3vCrPF/c7G+p+0r/YdFPSfrgZZ6d7fnq4n8O25iCtzoM0ZLGEXWZD3Qac3JZayUka/x2VPayMx7zKGdoBQb4oIlsuslXLRTuLMDDJKq1SeZ5zFNnQfo72AroLlq5t6Lor4qRk5GzcKaEn+CpMJVnEcAHbgo1fKWlkQIiJIM7YBeNxEuwpC6yKdrji61WGg8nkNiEKByP5xP3L3WB4f9YR7JmT4Rfpu0KdgXM9Gznpj5qfY54IrRH7tuVouTePP7LTzHEehDePP/6Ps948/qjlPImSJcKgPMiduD0e1bX3i7PESU1MHoSvIkm6IAi7+XSPTJjxGoT0vtOR5aOsByKbKo+x+sgxtIWScpAVWM7zjrJg5LOXJxbNuVUF51aZOS+7/sxOd03dmVF38h9VCcKB+wnS7bSLnKQwr0y6wiYVOwRTlPZXor8fJuOMKicKkcWuodHWvy3TcI/xjfEcuBxGQtHuvGYnv1EnSVV+gUG5nf71N7PNfwLqdnA='
