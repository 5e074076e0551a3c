"""SQL functions SQLite lacks, installed on each of the app's SQLite connections.

SQLite's own UPPER changes ASCII letters only, so `q=école` (Tortoise's `icontains`:
`UPPER(name) LIKE UPPER('%école%')`) missed `ÉCOLE` there but found it on PostgreSQL. This
UPPER is PostgreSQL's (a UTF-8 database): every character to its capital, one character
for one (`ß` and `ﬁ`, whose capitals are two letters, stay as they are), so a search folds
case alike on both databases.
"""

import aiosqlite


def unicode_upper(text: object) -> object:
    """UPPER as PostgreSQL computes it, character by character; non-text as SQLite's."""
    if not isinstance(text, str):
        return text
    if text.isascii():
        return text.upper()
    return "".join(capital if len(capital := ch.upper()) == 1 else ch for ch in text)


async def install(connection: aiosqlite.Connection) -> None:
    """Replaces the built-in UPPER on `connection` (a function defined by the
    application takes precedence over SQLite's own of the same name and arity)."""
    await connection.create_function("upper", 1, unicode_upper, deterministic=True)
