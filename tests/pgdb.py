"""Create or drop a PostgreSQL database for a test run: `python tests/pgdb.py create|drop NAME`.

Connects with PG_ADMIN_URL (default: the local server's `test` database as user postgres).
"""
import os
import sys

import psycopg
from psycopg import sql


def main() -> None:
    action, name = sys.argv[1], sys.argv[2]
    url = os.environ.get("PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if action == "create":
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
