"""Row versions: `version` on users and items (ETag / If-Match), `token_version` on users.

Added the way a live table takes a new column: NOT NULL with a DEFAULT, which fills every
existing row in the same statement (no rewrite on PostgreSQL 11+, and SQLite reads the
default for old rows). The SQL is the same on SQLite and PostgreSQL; SQLite needs 3.35+
for the DROP COLUMN of the downgrade.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "items" ADD "version" INT NOT NULL DEFAULT 1;
        ALTER TABLE "users" ADD "version" INT NOT NULL DEFAULT 1;
        ALTER TABLE "users" ADD "token_version" INT NOT NULL DEFAULT 0;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "items" DROP COLUMN "version";
        ALTER TABLE "users" DROP COLUMN "version";
        ALTER TABLE "users" DROP COLUMN "token_version";"""


MODELS_STATE = (
    "eJztml1v2zYUhv+KoasMyArbjdtid3birF4Tu0jUregwELREy4QlUhWpOkbn/z6SkqxPKl"
    "HgjzjzVZzDcyTyIXX48kg/DY/ayGVvRhx5xm+tnwaBHhI/cvbzlgF9P7VKA4dTVzli4aEs"
    "cMp4AC0ujDPoMiRMNmJWgH2OKRFWErquNFJLOGLipKaQ4O8hApw6iM9RIBr+/keYMbHRA2"
    "LJv/4CzDBy7Vw/sS3vreyAr3xlGxF+rRzl3abAom7okdTZX/E5JRtvTLi0OoigAHIkL8+D"
    "UHZf9i4eZjKiqKepS9TFTIyNZjB0eWa4U5DaDADGExPcD00AjAaALEokXNFVpkbvyC782u"
    "1cvL/48PbdxQfhorq5sbxfR7dOwUSBCs/YNNaqHXIYeSjGKVT1t4T1cg6Daq6Jf4Gs6HKR"
    "bMKxDm1iOBBbDz4AFxGHzyXQXq+G5J/9u8uP/bsz4fWLvCUV6z96KsZxUzdqk7hTvNmelS"
    "ib6EGzegthz4Idk6xhnT67e4Bdw9YcfjXllT3GvrtZpGe3/a+KtreKW24m498T98wUXN5M"
    "BgXyVoAkGwB5GfyVaOHYQ9Xw85EF9nYc+ib5sZ1lv9epMMQA7QlxV/EqqZua0e3w3uzffs"
    "7Nz1XfHMqWbm5uEuvZu8ITsrlI66+R+bEl/219m4yHCi9l3AnUHVM/85sh+wRDTgGhSwDt"
    "TGpIrAm13KyHvv3MWc9Hnmb9pcx6wigz7XHv01n/gQJWmWG18iAT8bhG2Nbkdooz2zm0Lk"
    "gR0qUYL2gksbIhu4J4bFJLitfZolJpKVxlvNc0QNghn9BKUR6JLkFiVWmsWKd/YegItdY6"
    "WT2JNb1/AJcbtZ9bVGLsYsSIR5K0f3/ZvxoaCvEUWoslDGyQYy1baJcWLBvfcpPX9YoWSK"
    "Cj4MhhyE7H1G+og8k1xG4YIKPi9JRrP687RbnSE8wi1wMepxZo1UT4x+7b0f2HPVLlZP/b"
    "bvsJsl94aWW/aqs/ZWVn+4nZNRuyvy2q/YJza3a7WopBCIkgcmXwPLlXeYFXqPqOV+VF4r"
    "60oR4m/atNtyLtJ5uxPt2HwuNUNDs+JVeXzpEnknOTzXMT8Oq2z51UzeQz07QwmY3ZSr3s"
    "BUHuPUWi9PQKpdfWEQYuXVadSh7nnEaeaD9Gew7ZXIgMHzK2pEFFRtbjrgjdVel9v9Wo3W"
    "cRzIDYbvGPijQyoNRFkGh2wWxcAfZUBO6KdrLi96sCB5PJTU4ADkbF6vqX28Hw7qyj2Asn"
    "HB3Iy6JcgGOhj4KQVaWUx5jnQveIfWM5Wu6nVx36NHOcRe/Tq47/46yfXnXspXbE6QIR0B"
    "xkKe6AZbn2YXE2qMpk5EHy+VBBF8Rh15/ukAs1nzwUvlE6snyke/mx3mXJqo8CbM2NiqJV"
    "3HJeV7aCqc+pbrW3fWvHdSttztOfP/Xp7nTu1Jw75UPVgHDs/grpdtpPqaQILy1d1VY47F"
    "DCEanQvH/cT8aaU04aUhS72OKtf1suZjvbug/zbkfCyCna0id1xa/nClJVXmDQbKff/ma2"
    "/g8+dkNT"
)
