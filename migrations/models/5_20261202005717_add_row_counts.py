"""add_row_counts: generated for SQLite and PostgreSQL by `python -m app makemigration`."""

from tortoise import BaseDBAsyncClient

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
CREATE TRIGGER "row_counts_users_insert" AFTER INSERT ON "users" BEGIN INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n") VALUES ('users', 0, 0, 1) ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" + 1; END;
CREATE TRIGGER "row_counts_users_delete" AFTER DELETE ON "users" BEGIN INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n") VALUES ('users', 0, 0, -1) ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" - 1; DELETE FROM "row_counts" WHERE "table_name" = 'items' AND "owner_id" = OLD."id"; END;
CREATE TRIGGER "row_counts_items_insert" AFTER INSERT ON "items" BEGIN INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n") VALUES ('items', 0, 0, 1), ('items', NEW."owner_id", 0, 1) ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" + 1; END;
CREATE TRIGGER "row_counts_items_delete" AFTER DELETE ON "items" BEGIN INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n") VALUES ('items', 0, 0, -1) ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" - 1; INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n") SELECT 'items', OLD."owner_id", 0, -1 WHERE EXISTS (SELECT 1 FROM "users" WHERE "id" = OLD."owner_id") ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" - 1; END;
CREATE TRIGGER "row_counts_items_move" AFTER UPDATE OF "owner_id" ON "items" WHEN OLD."owner_id" <> NEW."owner_id" BEGIN INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n") VALUES ('items', OLD."owner_id", 0, -1) ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" - 1; INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n") VALUES ('items', NEW."owner_id", 0, 1) ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" + 1; END;
INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n") SELECT 'users', 0, 0, COUNT(*) FROM "users" UNION ALL SELECT 'items', 0, 0, COUNT(*) FROM "items" UNION ALL SELECT 'items', "owner_id", 0, COUNT(*) FROM "items" GROUP BY "owner_id";""",
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
CREATE FUNCTION row_counts_shard() RETURNS SMALLINT LANGUAGE plpgsql AS $$
DECLARE
    shard SMALLINT := txid_current() % 16;
BEGIN
    -- Held until the transaction ends: until then it is the only writer of the shard.
    PERFORM pg_advisory_xact_lock(1919907699, shard);
    RETURN shard;
END $$;
CREATE FUNCTION row_counts_users_insert() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows) THEN
        INSERT INTO row_counts AS kept (table_name, owner_id, shard, n)
        SELECT 'users', 0, row_counts_shard(), COUNT(*) FROM new_rows
        ON CONFLICT (table_name, owner_id, shard) DO UPDATE SET n = kept.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION row_counts_users_delete() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows) THEN
        INSERT INTO row_counts AS kept (table_name, owner_id, shard, n)
        SELECT 'users', 0, row_counts_shard(), -COUNT(*) FROM old_rows
        ON CONFLICT (table_name, owner_id, shard) DO UPDATE SET n = kept.n + EXCLUDED.n;
        DELETE FROM row_counts
        WHERE table_name = 'items' AND owner_id IN (SELECT id FROM old_rows);
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION row_counts_items_insert() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    my_shard SMALLINT;
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows) THEN
        my_shard := row_counts_shard();
        INSERT INTO row_counts AS kept (table_name, owner_id, shard, n)
        SELECT 'items', 0, my_shard, COUNT(*) FROM new_rows
        UNION ALL
        SELECT 'items', owner_id, my_shard, COUNT(*) FROM new_rows GROUP BY owner_id
        ON CONFLICT (table_name, owner_id, shard) DO UPDATE SET n = kept.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION row_counts_items_delete() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    my_shard SMALLINT;
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows) THEN
        my_shard := row_counts_shard();
        -- An owner deleted with its items (a cascade) takes its counts with it.
        INSERT INTO row_counts AS kept (table_name, owner_id, shard, n)
        SELECT 'items', 0, my_shard, -COUNT(*) FROM old_rows
        UNION ALL
        SELECT 'items', owner_id, my_shard, -COUNT(*) FROM old_rows
        WHERE EXISTS (SELECT 1 FROM users WHERE users.id = old_rows.owner_id)
        GROUP BY owner_id
        ON CONFLICT (table_name, owner_id, shard) DO UPDATE SET n = kept.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION row_counts_items_update() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    my_shard SMALLINT;
BEGIN
    -- Only items given to another owner change a count (a rename changes none).
    IF EXISTS (
        SELECT 1 FROM old_rows JOIN new_rows ON new_rows.id = old_rows.id
        WHERE new_rows.owner_id <> old_rows.owner_id
    ) THEN
        my_shard := row_counts_shard();
        INSERT INTO row_counts AS kept (table_name, owner_id, shard, n)
        SELECT 'items', moves.owner_id, my_shard, SUM(moves.n)
        FROM (
            SELECT old_rows.owner_id, -1 AS n, new_rows.owner_id AS other
            FROM old_rows JOIN new_rows ON new_rows.id = old_rows.id
            UNION ALL
            SELECT new_rows.owner_id, 1, old_rows.owner_id
            FROM old_rows JOIN new_rows ON new_rows.id = old_rows.id
        ) AS moves
        WHERE moves.owner_id <> moves.other
        GROUP BY moves.owner_id
        ON CONFLICT (table_name, owner_id, shard) DO UPDATE SET n = kept.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION row_counts_truncate() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM row_counts WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END $$;
CREATE TRIGGER row_counts_users_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_users_insert();
CREATE TRIGGER row_counts_users_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_users_delete();
CREATE TRIGGER row_counts_users_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION row_counts_truncate();
CREATE TRIGGER row_counts_items_insert AFTER INSERT ON items
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_items_insert();
CREATE TRIGGER row_counts_items_delete AFTER DELETE ON items
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_items_delete();
CREATE TRIGGER row_counts_items_update AFTER UPDATE ON items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION row_counts_items_update();
CREATE TRIGGER row_counts_items_truncate AFTER TRUNCATE ON items
    FOR EACH STATEMENT EXECUTE FUNCTION row_counts_truncate();
INSERT INTO row_counts (table_name, owner_id, shard, n)
SELECT 'users', 0, 0, COUNT(*) FROM users
UNION ALL
SELECT 'items', 0, 0, COUNT(*) FROM items
UNION ALL
SELECT 'items', owner_id, 0, COUNT(*) FROM items GROUP BY owner_id;""",
}
DOWNGRADE = {
    "sqlite": """
DROP TRIGGER IF EXISTS "row_counts_users_insert";
DROP TRIGGER IF EXISTS "row_counts_users_delete";
DROP TRIGGER IF EXISTS "row_counts_items_insert";
DROP TRIGGER IF EXISTS "row_counts_items_delete";
DROP TRIGGER IF EXISTS "row_counts_items_move";
DROP TABLE IF EXISTS "row_counts";""",
    "postgres": """
DROP TRIGGER IF EXISTS row_counts_users_insert ON users;
DROP TRIGGER IF EXISTS row_counts_users_delete ON users;
DROP TRIGGER IF EXISTS row_counts_users_truncate ON users;
DROP TRIGGER IF EXISTS row_counts_items_insert ON items;
DROP TRIGGER IF EXISTS row_counts_items_delete ON items;
DROP TRIGGER IF EXISTS row_counts_items_update ON items;
DROP TRIGGER IF EXISTS row_counts_items_truncate ON items;
DROP FUNCTION IF EXISTS row_counts_users_insert, row_counts_users_delete,
    row_counts_items_insert, row_counts_items_delete, row_counts_items_update,
    row_counts_truncate, row_counts_shard;
DROP TABLE IF EXISTS "row_counts";""",
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    return UPGRADE[db.capabilities.dialect]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return DOWNGRADE[db.capabilities.dialect]


MODELS_STATE = 'eJztW1tz2jgU/isev2w6k80Qrtm8QUJatgQ6QLedZjtG2AI82BK15BKm5b+vJNv4gu2YbLnWT+BzkaVP4ug7R+KHbGINGuSqpUFzjilE6vI9XMq30g8ZAROyLwkWl5IM5nNfzwUUjAzhovu2ygwuhRKMCLWASpl+DAwCmUiDRLX0OdUxYlJkGwYXYpUZ6mjii2ykf7OhQvEE0im0mOLpSbYJtBRd402zV8hfv7IvOtLgMyTcgD/OZ8pYh4YWGo7jIuQKXc6FrIXogzDk7x8pKjZsE/nG8yWdYrS21hHl0glE0AIU8uapZfMB8f66GHhjdPrumzhdDPhocAxsgwYAGCm+TFaUTneg9JsDRZG3gEzFiMPNukrE6Ce8C38Wr8u18k2pWr5hJqKba0lt5bzaB8ZxFPB0BvJK6AEFjoXA2Ac1MBkZkQ14vAyvB2Yavp7AB9hfZieDsI/ozPmNhdG8mwIrHk7XPAIl6+ApQmmCZ8WAaEKnHL9KJQW4f+q9u3f13gWzesNfiVmIcWJQx1UVHV0Y3TF7P7TmlrvWsqIccTtDtKvlDGBXy4lYc1UYakIBtQkDUYNbhIeI16tChBtgjwboXxwhRliLCRED+JwAqWf/qlV7ZFimADVofh7wlk1CvhnBxXnxWP8s1q25dDXtbuetZx5YzHftbiOCtWpBjo0CYsLFPdNQ3YTxqIc9I9hrruuV9+UU4wcboNZFxtJdJWlT03ps9gf1xw+h+bmvD5pcUwzNjSe9qEZizboR6VNr8E7ij9KXbqcp4MWETizxRt9u8EXmfQI2xQrCCwVoAfblST3UVpw3jmcBksMFI6DOFsDSlA0NLuIk202VWTSjEoDARMwZB5d302PbFJpyHAvn8nTuzSx2QLgj9PopsrAZk2MWT053A894gdY8j8tyWr5PWu7NRlZ+49nvitjsFdvds8hgz7bYiCNu+X6c78f5fpy0Hwdn3Z5rr5z1sGc+68cy6x5GgWl3e+/P+ndokdgIm0gPAh77qy1dR2f2+tC8wIcwyMIyYhh02RWIp0a1NnKDCMKb8D5gC+oT9B4uBcot1iWA1DiO5fL7jwSeINdaeavHk/rvt8BizfZDi4qNnY0YUoeS1vt39fumvDpMttXGEx09AN2wLSjHZF0h/WVa9mVwS2XsmO4+DUtMpw5ZPj5sShWi/aViIQPtZ1aJtF/o0rOs4GxnjK5Bl/1tUYUjjq3B7WrBBsEoAouV1uvoXmwDZ8j6TpflHVWxrYcXd9gWu9ZG6F/rUsO+xcaqcrNsIV/+wBamhMcSC+usM+YIWvyJtUL451C0q/CeDCW+Z2rSaCkNvd1zKF0M6+220ut+6g9vuQMwDDmyYHbwin+RTolo4c2tBCTRwh9EEuOWdCLeRGyTW3uGEtu24JUcv5c9yX4nxLoLsAPCtirt/x3qN/TJ71JA/KtYLJVqxUKpelMp12qVm8I6BG+q0mJxo/WWh+NQEHi5zBiexqycI+x1hmeppWIm7pFCPaIFxyPN4076GNWJNBuA9k0W8ZKPpz2nc4K0VKxV12jyhzQg+49sf9hEM6ZMkxaH91yjOYtIfCSkSVQqYgiTV8FIJkv86tdhTijz08d9nj5Ck2W52zCCtcPZ1SF2cvzIf0fbkq6gzy85eDwikCtZaj2V5FJPpZCEsGLgRVx592Wcfc8c7ZfQngIyZeF6DghZ4DhOlgx3jOsZJhQ7iSI6UdgWrH+PCSMNjA0IUMIuGPSLgD1ijrtC21vx+y2nNbrddqiS1mhFryl8fGw0exfXAntmpNNQ9hwCnNhzaNkkLqS8hHnIdY+wryUni3t+ZyQ5zJzm7YH8zsjvOOv5nZG91MUonkGkbA/kht8BzzcLh4Vzi0pNgB5497cjvMB1e3jfgwZIuDsauSR+YvEo6RbJapdlrDq0dHUqxxSyXM1lWikL+DYHueaR1612ULdKjHnJ+WdyuMvzzoS8k/+otkDYNT9DdK8LWSopzCoRXaGLJDsYURj359a/+91OQpbju0TJrq5S6adk6OQUT2ZSwOVghBjtxn8Ton9DiFBV3kDj0Gcyq/8AcOPzZw=='
