"""add_idempotency_keys: generated for SQLite and PostgreSQL by `python -m app makemigration`."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True

UPGRADE = {
    "sqlite": """
        CREATE TABLE IF NOT EXISTS "idempotency_keys" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "key" VARCHAR(255) NOT NULL,
    "fingerprint" VARCHAR(64) NOT NULL,
    "status_code" INT,
    "body" TEXT,
    "created_at" TIMESTAMP NOT NULL,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_idempotency_user_id_bc4599" UNIQUE ("user_id", "key")
);""",
    "postgres": """
        CREATE TABLE IF NOT EXISTS "idempotency_keys" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "key" VARCHAR(255) NOT NULL,
    "fingerprint" VARCHAR(64) NOT NULL,
    "status_code" INT,
    "body" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
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


MODELS_STATE = 'eJztm11zmzgUhv+Kh6t0JtuxXSft7J2dOFtvE7uT0G2nmY5GBtlmDBIFUcfT9X9fSYABGQhkAv5Y7mydc0B6JB+9R+DfikV0ZLpvRzqybEIR1taf0Fr5s/VbwdBC7EOGx3lLgbYd2XkDhVNThBiRL1iitTDCqUsdqFFmn0HTRaxJR67mGDY1CGat2DNN3kg05mjgedTkYeOnhwAlc0QXyGGGx0fFc9knZmTXV378YB8MrKMn5HIr/2ovwcxApp4Yi6HzENEO6NoWbSNMb4Qjv/kUaMT0LBw522u6IHjrbWDKW+cIIwdSxC9PHY+Phnc2ABAO0O945OJ3MRajoxn0TBob/RREbQoA44kKHoYqAEoJXhrBnDXrqitGP+dd+KPb6b3vfXh32fvAXEQ3ty3vN/6tIzB+oMAzVpWNsEMKfQ/BOIK69JdDkurVAjrpWAN3iSvrsMw1pJgHNmyIyEaLqw60FnwCJsJzuuA8Ly5yQP7Tv7/62L8/Y15v+C0J+zX4P5dxYOr6Nk47ojtj90eO7QQLryhlKewEaV/2CsC+7GWy5qYkapdC6rkMoo5KpAkp6vl8kUI6SAcHA/pVMkYEdkr0lBShoqcMpKH/i1btgbHMAaUOv6n8ypbr/jTji/Psrv9NrFtrHVhuJ+O/QvfYYr66nQwk1pqDOBsAU9LFNbNQw0Lp1JOREns9CH0bfjjG/MEGqE+wuQ5WSd7UjO6GD2r/7nNifq776pBbuom5CVvPLqVcs71I6+tI/djiX1vfJ+OhwEtcOnfEHSM/9bvC+wQ9SgAmKwD1mFYIW0NqiVnnagiUUjexiBelrIOb3FfIWVw3zpapIieUm0m6N8RBxhwzQSwgj1iPINbS9oFARX8JLnNkcDfh6glbo2XpwNVWaMcXFRs7GzGivk7pP1z1r4eKIDyF2nIFHR0kUHML6RKpZeu7a7K6ltwCMZwLOHwUvM9h7UKRpaTVNLz9PLeSYR4VlC9SvfIo5V5GkHk8+t2NfScrvOXL25o6p846J5yNohI89K9Ke9fKtvpCJ96zElpRCmskYyMZG8lYSDLa+gtnPRnZzPqhzHrIKDbtQe+jWf+FHDc1w2bKg1hEfYVCR57Zzr51QYQwrsIKMoyHVAXx2KRWTrElcB1UtVUn3KLFVnxRHVK1dUvmBr6Bhuk5SEmpuhL287zqy+SeYOa7Vl+GZZZT+3zCsd+SKiH733XbBWQ/88qU/cKWX2XFZ7tgdo2H1LdFtQ84t8a3qxUbBJMILFc6L5N7qRc4QdV3vCrPF/c7G+p+0r/YdFPSfrgZZ6d7fnq4n8O25iCtzoM0ZLGEXWZD3Qac3JZayUka/x2VPayMx7zKGdoBQb4oIlsuslXLRTuLMDDJKq1SeZ5zFNnQfo72AroLlq5t6Lor4qRk5GzcKaEn+CpMJVnEcAHbgo1fKWlkQIiJIM7YBeNxEuwpC6yKdrji61WGg8nkNiEKByP5xP3L3WB4f9YR7JmT4Rfpu0KdgXM9Gznpj5qfY54IrRH7tuVouTePP7LTzHEehDePP/6Ps948/qjlPImSJcKgPMiduD0e1bX3i7PESU1MHoSvIkm6IAi7+XSPTJjxGoT0vtOR5aOsByKbKo+x+sgxtIWScpAVWM7zjrJg5LOXJxbNuVUF51aZOS+7/sxOd03dmVF38h9VCcKB+wnS7bSLnKQwr0y6wiYVOwRTlPZXor8fJuOMKicKkcWuodHWvy3TcI/xjfEcuBxGQtHuvGYnv1EnSVV+gUG5nf71N7PNfwLqdnA='
