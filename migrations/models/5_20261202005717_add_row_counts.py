"""add_row_counts: generated for SQLite and PostgreSQL by `python -m app makemigration`.

The table is Aerich's; the triggers that keep its counts (and, on PostgreSQL, their
functions) and the count of the rows already there are in app/db/sql/row_counts.py.
"""

from tortoise import BaseDBAsyncClient

from app.db.sql import row_counts

RUN_IN_TRANSACTION = True

UPGRADE = {
    "sqlite": """
        CREATE TABLE IF NOT EXISTS "row_counts" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "table_name" VARCHAR(32) NOT NULL,
    "owner_id" INT NOT NULL,
    "shard" SMALLINT NOT NULL,
    "n" BIGINT NOT NULL,
    CONSTRAINT "uid_row_counts_table_n_ad44ab" UNIQUE ("table_name", "owner_id", "shard")
) /* Part of the number of rows of `table_name` owned by `owner_id` (`ALL_ROWS`: of all */;
"""
    + row_counts.SQLITE_UPGRADE,
    "postgres": """
        CREATE TABLE IF NOT EXISTS "row_counts" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "table_name" VARCHAR(32) NOT NULL,
    "owner_id" INT NOT NULL,
    "shard" SMALLINT NOT NULL,
    "n" BIGINT NOT NULL,
    CONSTRAINT "uid_row_counts_table_n_ad44ab" UNIQUE ("table_name", "owner_id", "shard")
);
COMMENT ON TABLE "row_counts" IS 'Part of the number of rows of `table_name` owned by `owner_id` (`ALL_ROWS`: of all';
"""
    + row_counts.POSTGRES_UPGRADE,
}
DOWNGRADE = {
    "sqlite": "\n" + row_counts.SQLITE_DOWNGRADE + '\nDROP TABLE IF EXISTS "row_counts";',
    "postgres": "\n" + row_counts.POSTGRES_DOWNGRADE + '\nDROP TABLE IF EXISTS "row_counts";',
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    return UPGRADE[db.capabilities.dialect]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return DOWNGRADE[db.capabilities.dialect]


MODELS_STATE = 'eJztW1tz2jgU/isev2w6k80Qrtm8QUJatgQ6QLedZjtG2AI82BK15BKm5b+vJNv4gu2YbLnWT+BzkaVP4ug7R+KHbGINGuSqpUFzjilE6vI9XMq30g8ZAROyLwkWl5IM5nNfzwUUjAzhovu2ygwuhRKMCLWASpl+DAwCmUiDRLX0OdUxYlJkGwYXYpUZ6mjii2ykf7OhQvEE0im0mOLpSbYJtBRd402zV8hfv7IvOtLgMyTcgD/OZ8pYh4YWGo7jIuQKXc6FrIXogzDk7x8pKjZsE/nG8yWdYrS21hHl0glE0AIU8uapZfMB8f66GHhjdPrumzhdDPhocAxsgwYAGCm+TFaUTneg9JsDRZG3gEzFiMPNukrE6Ce8C38Wr8u18k2pWr5hJqKba0lt5bzaB8ZxFPB0BvJK6AEFjoXA2Ac1MBkZkQ14vAyvB2Yavp7AB9hfZieDsI/ozPmNhdG8mwIrHk7XPAIl6+ApQmmCZ8WAaEKnHL9KJQW4f+q9u3f13gWzesNfiVmIcWJQx1UVHV0Y3TF7P7TmlrvWsqIccTtDtKvlDGBXy4lYc1UYakIBtQkDUYNbhIeI16tChBtgjwboXxwhRliLCRED+JwAqWf/qlV7ZFimADVofh7wlk1CvhnBxXnxWP8s1q25dDXtbuetZx5YzHftbiOCtWpBjo0CYsLFPdNQ3YTxqIc9I9hrruuV9+UU4wcboNZFxtJdJWlT03ps9gf1xw+h+bmvD5pcUwzNjSe9qEZizboR6VNr8E7ij9KXbqcp4MWETizxRt9u8EXmfQI2xQrCCwVoAfblST3UVpw3jmcBksMFI6DOFsDSlA0NLuIk202VWTSjEoDARMwZB5d302PbFJpyHAvn8nTuzSx2QLgj9PopsrAZk2MWT053A894gdY8j8tyWr5PWu7NRlZ+49nvitjsFdvds8hgz7bYiCNu+X6c78f5fpy0Hwdn3Z5rr5z1sGc+68cy6x5GgWl3e+/P+ndokdgIm0gPAh77qy1dR2f2+tC8wIcwyMIyYhh02RWIp0a1NnKDCMKb8D5gC+oT9B4uBcot1iWA1DiO5fL7jwSeINdaeavHk/rvt8BizfZDi4qNnY0YUoeS1vt39fumvDpMttXGEx09AN2wLSjHZF0h/WVa9mVwS2XsmO4+DUtMpw5ZPj5sShWi/aViIQPtZ1aJtF/o0rOs4GxnjK5Bl/1tUYUjjq3B7WrBBsEoAouV1uvoXmwDZ8j6TpflHVWxrYcXd9gWu9ZG6F/rUsO+xcaqcrNsIV/+wBamhMcSC+usM+YIWvyJtUL451C0q/CeDCW+Z2rSaCkNvd1zKF0M6+220ut+6g9vuQMwDDmyYHbwin+RTolo4c2tBCTRwh9EEuOWdCLeRGyTW3uGEtu24JUcv5c9yX4nxLoLsAPCtirt/x3qN/TJ71JA/KtYLJVqxUKpelMp12qVm8I6BG+q0mJxo/WWh+NQEHi5zBiexqycI+x1hmeppWIm7pFCPaIFxyPN4076GNWJNBuA9k0W8ZKPpz2nc4K0VKxV12jyhzQg+49sf9hEM6ZMkxaH91yjOYtIfCSkSVQqYgiTV8FIJkv86tdhTijz08d9nj5Ck2W52zCCtcPZ1SF2cvzIf0fbkq6gzy85eDwikCtZaj2V5FJPpZCEsGLgRVx592Wcfc8c7ZfQngIyZeF6DghZ4DhOlgx3jOsZJhQ7iSI6UdgWrH+PCSMNjA0IUMIuGPSLgD1ijrtC21vx+y2nNbrddqiS1mhFryl8fGw0exfXAntmpNNQ9hwCnNhzaNkkLqS8hHnIdY+wryUni3t+ZyQ5zJzm7YH8zsjvOOv5nZG91MUonkGkbA/kht8BzzcLh4Vzi0pNgB5497cjvMB1e3jfgwZIuDsauSR+YvEo6RbJapdlrDq0dHUqxxSyXM1lWikL+DYHueaR1612ULdKjHnJ+WdyuMvzzoS8k/+otkDYNT9DdK8LWSopzCoRXaGLJDsYURj359a/+91OQpbju0TJrq5S6adk6OQUT2ZSwOVghBjtxn8Ton9DiFBV3kDj0Gcyq/8AcOPzZw=='
