"""The SQL of the row-count triggers (`app/models/row_count.py`), one named statement per
trigger and function, per dialect, for migrations 5 (`5_*_add_row_counts`, which creates
them) and 6 (`6_*_pin_row_counts_search_path`, which pins the functions' search_path).

Tortoise declares no triggers, so this SQL lives outside the models; it is here rather than
inline in the migrations so that it can be read and reviewed. Each statement is exactly
what migration 5 has run since it was released (tests/test_migration_sql.py pins the
migrations' SQL): databases already migrated hold these triggers, so a change to one is a
new migration that replaces it, never an edit here.

SQLite has no per-statement triggers: its triggers run per row, on one shard (0), with one
writer at a time. PostgreSQL's run once per statement over its transition tables
(`new_rows`, `old_rows`) and spread each count over `SHARDS` (16) rows, each written only
under its transaction-scoped advisory lock (key 1919907699, the shard).
"""


def one_line(statement: str) -> str:
    """A statement written over lines, as one line: the migration runner splits a
    migration's SQL at every `;` that ends a line (`app.db.migrations.split_statements`),
    and a SQLite trigger's body holds statements ending in `;`."""
    return " ".join(line.strip() for line in statement.splitlines() if line.strip())


def script(*statements: str) -> str:
    """Statements one after another, each on its own line(s), as a migration returns them."""
    return "\n".join(statement.rstrip("\n") for statement in statements)


# --- SQLite: per-row triggers ---------------------------------------------------------------

SQLITE_USERS_INSERT_TRIGGER = one_line("""
    CREATE TRIGGER "row_counts_users_insert" AFTER INSERT ON "users" BEGIN
        INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n")
        VALUES ('users', 0, 0, 1)
        ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" + 1;
    END;
""")

# A deleted user's per-owner item count goes with it (the cascade deletes its items, whose
# trigger counts per owner only while the owner exists).
SQLITE_USERS_DELETE_TRIGGER = one_line("""
    CREATE TRIGGER "row_counts_users_delete" AFTER DELETE ON "users" BEGIN
        INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n")
        VALUES ('users', 0, 0, -1)
        ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" - 1;
        DELETE FROM "row_counts" WHERE "table_name" = 'items' AND "owner_id" = OLD."id";
    END;
""")

SQLITE_ITEMS_INSERT_TRIGGER = one_line("""
    CREATE TRIGGER "row_counts_items_insert" AFTER INSERT ON "items" BEGIN
        INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n")
        VALUES ('items', 0, 0, 1), ('items', NEW."owner_id", 0, 1)
        ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" + 1;
    END;
""")

SQLITE_ITEMS_DELETE_TRIGGER = one_line("""
    CREATE TRIGGER "row_counts_items_delete" AFTER DELETE ON "items" BEGIN
        INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n")
        VALUES ('items', 0, 0, -1)
        ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" - 1;
        INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n")
        SELECT 'items', OLD."owner_id", 0, -1
        WHERE EXISTS (SELECT 1 FROM "users" WHERE "id" = OLD."owner_id")
        ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" - 1;
    END;
""")

# Only a change of owner moves a count (a rename changes none).
SQLITE_ITEMS_MOVE_TRIGGER = one_line("""
    CREATE TRIGGER "row_counts_items_move" AFTER UPDATE OF "owner_id" ON "items"
    WHEN OLD."owner_id" <> NEW."owner_id" BEGIN
        INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n")
        VALUES ('items', OLD."owner_id", 0, -1)
        ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" - 1;
        INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n")
        VALUES ('items', NEW."owner_id", 0, 1)
        ON CONFLICT ("table_name", "owner_id", "shard") DO UPDATE SET "n" = "n" + 1;
    END;
""")

# The rows already there when migration 5 runs.
SQLITE_BACKFILL = one_line("""
    INSERT INTO "row_counts" ("table_name", "owner_id", "shard", "n")
    SELECT 'users', 0, 0, COUNT(*) FROM "users"
    UNION ALL SELECT 'items', 0, 0, COUNT(*) FROM "items"
    UNION ALL SELECT 'items', "owner_id", 0, COUNT(*) FROM "items" GROUP BY "owner_id";
""")

SQLITE_TRIGGERS = {  # name: statement, in the order migration 5 creates them
    "row_counts_users_insert": SQLITE_USERS_INSERT_TRIGGER,
    "row_counts_users_delete": SQLITE_USERS_DELETE_TRIGGER,
    "row_counts_items_insert": SQLITE_ITEMS_INSERT_TRIGGER,
    "row_counts_items_delete": SQLITE_ITEMS_DELETE_TRIGGER,
    "row_counts_items_move": SQLITE_ITEMS_MOVE_TRIGGER,
}
SQLITE_UPGRADE = script(*SQLITE_TRIGGERS.values(), SQLITE_BACKFILL)
SQLITE_DOWNGRADE = script(*(f'DROP TRIGGER IF EXISTS "{name}";' for name in SQLITE_TRIGGERS))


# --- PostgreSQL: the functions (kept as written: PostgreSQL stores their text) ---------------

# The shard a transaction writes its counts to, locked for it until it ends.
POSTGRES_SHARD_FUNCTION = """\
CREATE FUNCTION row_counts_shard() RETURNS SMALLINT LANGUAGE plpgsql AS $$
DECLARE
    shard SMALLINT := txid_current() % 16;
BEGIN
    -- Held until the transaction ends: until then it is the only writer of the shard.
    PERFORM pg_advisory_xact_lock(1919907699, shard);
    RETURN shard;
END $$;
"""

# Per statement (transition tables): one upsert however many users an INSERT adds.
POSTGRES_USERS_INSERT_FUNCTION = """\
CREATE FUNCTION row_counts_users_insert() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows) THEN
        INSERT INTO row_counts AS kept (table_name, owner_id, shard, n)
        SELECT 'users', 0, row_counts_shard(), COUNT(*) FROM new_rows
        ON CONFLICT (table_name, owner_id, shard) DO UPDATE SET n = kept.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;
"""

# Deleted users: fewer users, and their per-owner item counts dropped.
POSTGRES_USERS_DELETE_FUNCTION = """\
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
"""

# New items: the count of all items and each owner's.
POSTGRES_ITEMS_INSERT_FUNCTION = """\
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
"""

# Deleted items: the count of all items and each owner's that is still there.
POSTGRES_ITEMS_DELETE_FUNCTION = """\
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
"""

# Items given to another owner: one less for the old owner, one more for the new.
POSTGRES_ITEMS_UPDATE_FUNCTION = """\
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
"""

# TRUNCATE fires no row trigger: the table's counts go with its rows.
POSTGRES_TRUNCATE_FUNCTION = """\
CREATE FUNCTION row_counts_truncate() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM row_counts WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END $$;
"""

POSTGRES_FUNCTIONS = {  # name: statement, in the order migration 5 creates them
    "row_counts_shard": POSTGRES_SHARD_FUNCTION,
    "row_counts_users_insert": POSTGRES_USERS_INSERT_FUNCTION,
    "row_counts_users_delete": POSTGRES_USERS_DELETE_FUNCTION,
    "row_counts_items_insert": POSTGRES_ITEMS_INSERT_FUNCTION,
    "row_counts_items_delete": POSTGRES_ITEMS_DELETE_FUNCTION,
    "row_counts_items_update": POSTGRES_ITEMS_UPDATE_FUNCTION,
    "row_counts_truncate": POSTGRES_TRUNCATE_FUNCTION,
}


# --- PostgreSQL: the triggers, once per statement ------------------------------------------

POSTGRES_USERS_INSERT_TRIGGER = """\
CREATE TRIGGER row_counts_users_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_users_insert();
"""

POSTGRES_USERS_DELETE_TRIGGER = """\
CREATE TRIGGER row_counts_users_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_users_delete();
"""

POSTGRES_USERS_TRUNCATE_TRIGGER = """\
CREATE TRIGGER row_counts_users_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION row_counts_truncate();
"""

POSTGRES_ITEMS_INSERT_TRIGGER = """\
CREATE TRIGGER row_counts_items_insert AFTER INSERT ON items
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_items_insert();
"""

POSTGRES_ITEMS_DELETE_TRIGGER = """\
CREATE TRIGGER row_counts_items_delete AFTER DELETE ON items
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION row_counts_items_delete();
"""

POSTGRES_ITEMS_UPDATE_TRIGGER = """\
CREATE TRIGGER row_counts_items_update AFTER UPDATE ON items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION row_counts_items_update();
"""

POSTGRES_ITEMS_TRUNCATE_TRIGGER = """\
CREATE TRIGGER row_counts_items_truncate AFTER TRUNCATE ON items
    FOR EACH STATEMENT EXECUTE FUNCTION row_counts_truncate();
"""

# The rows already there when migration 5 runs.
POSTGRES_BACKFILL = """\
INSERT INTO row_counts (table_name, owner_id, shard, n)
SELECT 'users', 0, 0, COUNT(*) FROM users
UNION ALL
SELECT 'items', 0, 0, COUNT(*) FROM items
UNION ALL
SELECT 'items', owner_id, 0, COUNT(*) FROM items GROUP BY owner_id;
"""

POSTGRES_TRIGGERS = {  # name: (table, statement), in the order migration 5 creates them
    "row_counts_users_insert": ("users", POSTGRES_USERS_INSERT_TRIGGER),
    "row_counts_users_delete": ("users", POSTGRES_USERS_DELETE_TRIGGER),
    "row_counts_users_truncate": ("users", POSTGRES_USERS_TRUNCATE_TRIGGER),
    "row_counts_items_insert": ("items", POSTGRES_ITEMS_INSERT_TRIGGER),
    "row_counts_items_delete": ("items", POSTGRES_ITEMS_DELETE_TRIGGER),
    "row_counts_items_update": ("items", POSTGRES_ITEMS_UPDATE_TRIGGER),
    "row_counts_items_truncate": ("items", POSTGRES_ITEMS_TRUNCATE_TRIGGER),
}

POSTGRES_DROP_FUNCTIONS = """\
DROP FUNCTION IF EXISTS row_counts_users_insert, row_counts_users_delete,
    row_counts_items_insert, row_counts_items_delete, row_counts_items_update,
    row_counts_truncate, row_counts_shard;
"""

POSTGRES_UPGRADE = script(
    *POSTGRES_FUNCTIONS.values(),
    *(statement for _, statement in POSTGRES_TRIGGERS.values()),
    POSTGRES_BACKFILL,
)
POSTGRES_DOWNGRADE = script(
    *(
        f"DROP TRIGGER IF EXISTS {name} ON {table};"
        for name, (table, _) in POSTGRES_TRIGGERS.items()
    ),
    POSTGRES_DROP_FUNCTIONS,
)
