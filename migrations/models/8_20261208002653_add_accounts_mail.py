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


MODELS_STATE = 'eJztXFtzmzgU/isML5vOZDuOHSfZvtmp03qbxB3b3Xaa7RAZZJsJIAoijqeb/76SAHMxYPDaGLN6Snx0jiQ+iaNzQ79EHSlQs992ZBk5Bh6jJ2iI74RfogF0SP5JbD8VRGCaQSslYDDRmABwOSVMWVkTmNjYAjImrVOg2ZCQFGjLlmpiFdHRDEfTKBHJhFE1ZgHJMdSfDiR9zSCeQ4s0PPwgZNVQ4Au0/Z/mkzRVoaZEJq4qdGxGl/DSZLS+gW8YIx1tIslIc3QjYDaXeI6MFbdqYEqdQQNaAEPaPbYcOn06O+95/SdyZxqwuFMMyShwChwNhx53IgU0UZLuB2Np1BtLklgAIBkZFFwyVZs9/YxO4ffm2fnl+VXr4vyKsLBpriiXr+7QATCuIIPnfiy+snaAgcvBMA5ANR3LRDZcR/Z6DqxkaEMiMXzJxOP4+mhmAewTAoSDXVUGxDp4kTRozPCc4trIwPOvzvD6Y2d40my8oQMi8hK478i919JkTRTyAGL23khzYM+LoByV2g3Qh93JEZgvznPAfHGeCjNtisIMdaBqRRBeCdRxF7fbebZxu52+j2lbDOEXU7WgLQG8DvN7ghRWdZgCdUQyhrfiib71/zlC9DPAHvfveqNx5+4z7V637Z8aw6sz7tGWJqMuY9STi9i6rDoRvvbHHwX6U/g+uO8xOJGNZxYbMeAbfxfpnICDkWSghQSUMCY+2SdFltmxobLFGofEdrDAnmbi67v79ZUtSHHfYomjkjV8jUXygMrA0JbeDjySZfdelk1vtSUVMqFDEpvt6O0W99gsaeqbTJ8SDWmK1jq4N8iC6sz4BJcM4z6ZETDkJNvZc8u+eN0cF7av/t7xqcH4FlisfLnwliKPTh4YYtdI64yuO+97IgN4AuSnBbAUKYI0bUFNFKOseNeb9KYepwADzBg29CnonD3Q+wrUTYShIS/JSokJ3nKM4zTLX1YDXukJLvfgMT+EgSRDiD+4D31AH7qSqrXcc3MnCAeIPrnvWF5PzmPnflw+P25KxoeWaXl7LS/KMbEaor37oAQ57rFjExCVhBBbqnqISW2lIirmQO1aQ0yQkqAixvAlBVKff6tdWzEss7yS3rdxxCHxN+fJXefbm4hTcju4/+Czhzbz9e2gG8OaO4zp27peDuOaf3MgexxDXUyywik92/YmHPtPUT3ENjax5AjHgzvd0G+0MFZ2HqVxs7xMs9xfjbz2jc+/L8PmcMmWvViR4ZkVOIhjYvw85ucxP49zBXBNZctVj0ryVa/Kqidka7zZB6v+DC07UcOmmgchifJiS2fxlT07tF0QQBi2wnJiGBbhuY+NuQ8GF09+bEh+hDdVlbIft2imGjdA1RwLigleV6T9NMv70iinNHVZD1gpeMjwcYVqrFq5atlaGcVsLb+aLd3LCq92Tu0aFinviGpUWLeGj6sFeQhiIhBdaW1n7iV2UEOr73itvEoF2+7I2ziEZEVtnKT9w82Zyp9WU0qWy8l1P9f9XPdz3c91f7V1/8DBE/RCVXyS6g+1Zmp+xPgkegCUkXuxoYG9nW3AF/ovhrrJSDzDUmqGxYKyaqqwWBlJRKiGRSR7Sbbwcofy0iuePili1YRFuFUTt2riWrqgTZMgzi2aylk0kaq34IQustAhMf4FUZXXlyeg03XncaYiK14QNkSLa3oHgZjgpazaTrN8FIs8KrvGIJ+HIn4mDrSApgLxQshk9Am06C/Si03/PrJ+JTqTR4HmdRRhshQe/QzPo3Dy2Lm9lYaDr6PHd1QAaMyHCu+fPQzxt6Fim/Xw5p0ABNbDb7bAnltQbTaS7eiU22cUiJcF34qnia7XgxhMgm27UAbLJga+8t8+POmqs/+LC/ZHs9lqXTYbrYur9vnlZfuqsTKq1puyrKtu/wM1sCI6YLOjFl3GvJ5aVKqGrlqrmStGmhEijftpFa01OOpSf1fTrAE60onGS/+EwheqE6St5uXFCk36IwvI0R05HxKcsWJ6uOQ6olpo4ooYTayaJsFg8qts0o0l+nniYaroefy2zPjtoa/MqVC+dC9RW/oeFTW6wjI7id5WCOR2npx0Oz0l3V67W8tHS9LQIqkEcTPOgSRHexPa9DYyoq5NYNsLlGSTpcOdIFpDh2IvWkS1JXIEq88JaqSLkAaBkXIKhuViYE+I4L7Q9nd8uUHU7mBwGwmkdfvxXM+Xu25veHLGsCdMKo54zxHAbceEVvKVLpswj4iWCPuKcsy4P0NLJaMkBYs2wB6WPDTqRW3lg6DNg/jpSr1eQXz+FVmdV51/RVZKFNK9j7c4kGtyB6wPaRwWzgJxsVA1ztrt4zG7wJO/+TSEGkj5rDzlzvMjU1BpH5pFjSj/BoztYfKv2agLPPsMsnaI2SnPxaQL9t2W08yr9QMefqV+aef8nqOqqWdEenQk/XjgUZGUqAh9qQog7LHXEN2zRp44H+FKRZe1xZxDZODEuu4/R4P7FK8wEIk7B6qMhX8ETbWPMW+YAS4FI+IBrJUfxyuNY6Y97aB76Izh67/hr5uN'
