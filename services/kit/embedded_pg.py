"""The embedded PostgreSQL of the default set-up: a real server run from the `pgserver` wheel.

Used when no `ROADMAP_DATABASE_URL` is given, so a new user needs nothing installed.
"""

from __future__ import annotations

import fcntl
import warnings
from pathlib import Path


def embedded_database_url(data_dir: Path, *, database: str = "roadmap") -> str:
    """Start (or reuse) the server whose files live in `data_dir/postgres` and return a URL.

    The server outlives this process on purpose: `pgserver` shares one server between all
    the processes that ask for the same folder, and stops it when the last one exits.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); its fallback is fine.
        warnings.simplefilter("ignore")
        import pgserver  # heavy import, and only the embedded default needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    # Several processes may start together on a fresh folder (the test workers do): pgserver's
    # own check-then-mkdir races, so the folder is made here and the start is one at a time.
    (data_dir / "postgres").mkdir(exist_ok=True)
    with (data_dir / "start.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        server = pgserver.get_server(data_dir / "postgres", cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "1 row" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return server.get_uri(database)
