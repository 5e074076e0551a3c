"""add_sessions: generated for SQLite and PostgreSQL by `python -m app makemigration`."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True

UPGRADE = {
    "sqlite": """
        CREATE TABLE IF NOT EXISTS "auth_sessions" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "last_used_at" TIMESTAMP NOT NULL,
    "user_agent" VARCHAR(255),
    "refresh_hash" VARCHAR(64) NOT NULL,
    "refresh_expires_at" TIMESTAMP NOT NULL,
    "ended_at" TIMESTAMP,
    "token_version" INT NOT NULL,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_auth_sessio_user_id_287ae8" ON "auth_sessions" ("user_id");""",
    "postgres": """
        CREATE TABLE IF NOT EXISTS "auth_sessions" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "created_at" TIMESTAMPTZ NOT NULL,
    "last_used_at" TIMESTAMPTZ NOT NULL,
    "user_agent" VARCHAR(255),
    "refresh_hash" VARCHAR(64) NOT NULL,
    "refresh_expires_at" TIMESTAMPTZ NOT NULL,
    "ended_at" TIMESTAMPTZ,
    "token_version" INT NOT NULL,
    "user_id" INT NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_auth_sessio_user_id_287ae8" ON "auth_sessions" ("user_id");""",
}
DOWNGRADE = {
    "sqlite": """
        DROP TABLE IF EXISTS "auth_sessions";""",
    "postgres": """
        DROP TABLE IF EXISTS "auth_sessions";""",
}


async def upgrade(db: BaseDBAsyncClient) -> str:
    return UPGRADE[db.capabilities.dialect]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return DOWNGRADE[db.capabilities.dialect]


MODELS_STATE = 'eJztXG1z2jgQ/isef7l0JpchEJJcvkFCWq5J6AR67TTXUYQtwBPbopZcwvTy30+SbSwb2zFceLHPnwLSriw9K1bPrtb5pVpYRyY56urImmKKbG3+Ec3VC+WXakMLsQ8pEoeKCqfTsJ83UDg0hYoRyoInNBedcEioAzXK+kfQJIg16YhojjGlBrZZq+2aJm/EGhM07HHY5NrGDxcBiseITpDDOh4eVJcgBxg6H5o9Qv3+nX0wbB09I8IF+NfpExgZyNQjy/FURDug86lo69r0Wgjy5w+Bhk3XskPh6ZxOsL2QNmzKW8fIRg6kiA9PHZcviM/XxyBYozf3UMSboqSjoxF0TSoBMARhmwrAXW8A+p0BAOoKkGnY5nCzqRKx+jGfwu/145Ozk/PG6ck5ExHTXLScvXiPDoHxFAU8dwP1RfRDCj0JgXEIqmSMnMhKGq/DG4CZhW/QEAIcbrPCIBwi+uT9xqJoXk6gkwynLx6Dkk2wiFBa8BmYyB7TCcev2cwA7q/W/eWH1v0Bk3rHH4mZi/F80J3fVff6ouiO2PORM3X8vZYX5ZhaCdE+PckB9ulJKta8Kwo1oZC6hIGooxXcQ0xrLRfhO9i9AfqNPcQQ6wkuYoCeUyAN5NfatXuGZQZQg87XAR/ZIuSHKW/Og9vWV7Fvrbnfc9O7ex+IS5v58qbXjmGtOYhjA2CCu7hiPdSwUDLqUc0Y9rqvehR8KKL/YAvUe7Y593dJlmm6t53+oHX7KWKfq9agw3vqEdsErQenMV+zGET50h18UPhX5VvvriPgxYSOHfHEUG7wTeVzgi7FwMYzAHWJfQWtAWovnDeOniSSwxuGUHuaQUcHSz24jtNkl7usuhVvgTYcC5txcPk0A7ZNkaUmsXDens29mcQGCHeMXj/ENjZjckziwZuu9B3P7AXP420VLd8mLQ+skZffBPKbIjZbxXbzLFKe2QoHcUytOo+r87g6j9POY9nq7lRf0+pRzcrq+2L1ACPJ7P7sQ6v/RA5J9LCp9EDS2F5u6Thu2eNd84IQQpmF5cRQVtkUiEWjWkuxQQzhZXivsYOMsf0RzQXKXTYlaGtJHMvn958JKiDXegl2T9AaPt+BswXbj2wqtna2YkQ9StrqX7auOurLbqKtGzw27GtomK6D1ISoK9J/mBV9mVwSjDzRzYdhqeHULtPHuw2pIrS/Ua/loP1MKpX2i77sKEu2dk7vKqts74iq7bFvlY+rGVsEowjMVzrr0b3EAUrI+orL8vYq2XaPZ5fYFafWkutf9GW6fYetVeNi+Vy++oltTAWPFObW2WSsIXL4NzYK4X8fxbiAz+RR4WemrgznymNwej4qB4+tmxtw3/vSf7zgCtA01diG2cAj/rYNSsQI7y4UqIgRfiOKWLdiEPEk4lpcOhBU2LGFjtTks+xBDSch9p3EDgg7qvT/dqnfNsb/lwTiH/V6o3FWrzVOz5snZ2fN89rCBS93Zfnidvc9d8cRJ/B6mjFqxrycI6pVwrvURj0X98igHvGE457GcYW+RvU8zRKgfYt5vPTr6UCpTJA26menCzT5lywg+7fsfFhGMyFNk+WHt5yjKYUn3hPS1EeEeBgtcaagK5MyMTI4AcST3GGgXN07buDesbqeSYe+mIn6PNczJiQUuGQtu8d1S2j5glg6NViP3MTx6l12LqxWPhnVKsO99xaKDBw0YoabgAkkk1XAjuuVMMB6+2LVADT0PDXYhzUcWfIIlTvba3eGGITrnFqy3huYeM+cW5ksTPETssHqpQRLemUKVt8sh7KXr/8ULaDKqC5wSVVc8GpxgbSl9qm2QICekCQJjJGeIeEL2k0ld5Ut2Wa2BFnQMFeh9guF0tVrbCSC4r+jVS+nZJ03CVT3CORmnpqYZnpJTLOWhjAw8SzppHod51CzQvs1tHlEz9z1FBIyw0l3V+lwJ6iWMC+wES9isFheo8bPBDfSxthE0E45BWW9GNhDprgptIMdv93AsN3r3URiwnY3/jrH59t25/7gWGDPhAwq3W3FACfuFDnJ5Pc1zCOqW4R90VJY3KvLm3Q3U97Lm+rdmrJZvXq3Ziu5rwJmFpfqwGu7hXOFihaJHgTvucd4ga92/fEemTDlHdvYy/QF80dpCbFoWZtUWbM+QlIlT1lA2mSur4UcQ5uoCdk+v+cwsyIqlKlKobZ2uG84uZd6MKQH6elnQhWcpwTn/Ee1AsK+eAnRPa7lSTcxqVR0RV8sIsQ2TSz1+bPfu0sJBUOVeERgaFT5RzENUsSb0wxwORgR2r/0jy7i/9Mixuf5AO1dF/i+/AvqU9MR'
