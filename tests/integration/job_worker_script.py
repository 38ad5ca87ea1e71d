"""A job worker process for the tests: `python job_worker_script.py <name>`.

It runs `run_worker` with one slow handler, `test.slow`, against ROADMAP_DATABASE_URL, until
SIGTERM. The handler follows the pattern the services use: it notes that it started, works
(sleeps), and records its outcome with a conditional update, so of several deliveries of a
job exactly one writes `done`. The tables (`job_runs`, `job_events`) are the test's.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from services.kit.jobs import JobContext, run_worker, update_once
from services.kit.observability import configure_logging
from services.kit.settings import Settings


def slow_handler(worker: str):  # type: ignore[no-untyped-def]
    async def slow(job: JobContext) -> None:
        request = json.loads(job.payload)
        async with job.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO job_events (run_id, worker, event) VALUES ($1, $2, 'started')", request["run"], worker
            )
        await asyncio.sleep(request["seconds"])
        async with job.pool.acquire() as conn, conn.transaction():
            query = "UPDATE job_runs SET status = 'done' WHERE id = $1 AND status = 'queued'"
            if await update_once(conn, query, request["run"]):
                await conn.execute(
                    "INSERT INTO job_events (run_id, worker, event) VALUES ($1, $2, 'done')", request["run"], worker
                )

    return slow


async def main(worker: str) -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await run_worker(settings, {"test.slow": slow_handler(worker)}, stop=stop)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
