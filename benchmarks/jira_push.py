"""Pushing ideas to the stand-in Jira: calls against the target, per fault, and time.

The target (issue 11) is what a push must send: one create per phase epic, one bulk create per
50 ideas, one call per Blocks link, and one search per 100 ideas (the one look, at the start,
for what an earlier attempt or connection made: the price of exactly-once without an
idempotency key). Our push also records every issue in PostgreSQL. Baseline, in the same run
and against a fresh stand-in: the same epic, bulk and link bodies sent straight with httpx,
with no searches and no bookkeeping. Then a 65-idea plan with 14 links is pushed once with no
fault and once per fault kind, each against a fresh stand-in, and its calls are counted.

    .venv/bin/python -m benchmarks.jira_push [--ideas 1000] [--faults-only]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable

import httpx
import msgspec

from benchmarks.harness import ROOT, database_server_url, fresh_database
from services.integrations import repository
from services.integrations.jira_client import JiraClient
from services.integrations.payloads import (
    BULK_CREATE_MAX,
    JiraMapping,
    blocks_link_body,
    create_issue_body,
    epic_fields,
    idea_label,
    issue_fields,
)
from services.integrations.plan_source import PlanSnapshot
from services.integrations.planned import Dependency, PlannedIdea, PlannedPhase
from services.integrations.push import Push
from services.integrations.retry import RetryPolicy
from services.kit import migrate
from services.kit.db import PoolSource
from services.kit.outbound import OutboundGuard
from services.kit.settings import Settings

sys.path.insert(0, str(ROOT / "tests"))
from jira_standin import JiraStandin

PHASES = ("discovery", "improve", "perfection", "personalization")


def plan_of(ideas: int, seed: int = 3) -> PlanSnapshot:
    rng = random.Random(seed)
    planned = [
        PlannedIdea(
            ref=f"cj-{n}",
            title=f"Improvement {n}",
            phase=PHASES[n % 4],
            rank=n + 1,
            score=float(rng.randint(1, 100)),
            persona=rng.choice(["Busy parent", "Retiree", "Student"]),
            journey_stage=rng.choice(["onboarding", "usage", "support"]),
            touchpoint="mobile app",
            pain_point="It takes too long.",
            cost=float(rng.randint(5, 80) * 1000),
        )
        for n in range(ideas)
    ]
    dependencies = [Dependency(idea=f"cj-{n}", on=f"cj-{n - 4}") for n in range(4, ideas, 10)]
    phases = [PlannedPhase(key=key, label=key.title(), budget=1e7, spend=5e6) for key in PHASES]
    return PlanSnapshot(
        plan_id=str(uuid.uuid4()), portfolio_id=str(uuid.uuid4()), currency="EUR",
        phases=phases, ideas=planned, dependencies=dependencies,
    )  # fmt: skip


def plan_with_links(ideas: int, links: int) -> PlanSnapshot:
    """A plan of `ideas` with exactly `links` dependencies (idea n + 4 requires idea n)."""
    plan = plan_of(ideas)
    dependencies = [Dependency(idea=f"cj-{n + 4}", on=f"cj-{n}") for n in range(0, 4 * links, 4)]
    return msgspec.structs.replace(plan, dependencies=dependencies)


# Each fault kind, as the stand-in injects it, on a push of the 65-idea plan.
FAULTS: dict[str, Callable[[JiraStandin, PlanSnapshot], None]] = {
    "no faults": lambda jira, plan: None,
    "429 on the first bulk create": lambda jira, plan: jira.fail_next(r"/issue/bulk$", status=429, retry_after=0),
    "503 on two searches": lambda jira, plan: jira.fail_next(r"/search/jql$", status=503, retry_after=0, times=2),
    "an epic create's answer lost": lambda jira, plan: jira.timeout_after_create(n=1),
    "5 creates' answers lost (4 epics, 1 bulk)": lambda jira, plan: jira.timeout_after_create(n=5),
    "5 elements fail twice, then pass": lambda jira, plan: jira.fail_elements_labelled(
        {idea_label(plan.portfolio_id, f"cj-{n}") for n in (0, 12, 30, 51, 64)}, times=2),
    "5 elements always fail (partial)": lambda jira, plan: jira.fail_elements_labelled(
        {idea_label(plan.portfolio_id, f"cj-{n}") for n in (0, 12, 30, 51, 64)}),
    "5 elements refused on a field (partial)": lambda jira, plan: jira.fail_elements_labelled(
        {idea_label(plan.portfolio_id, f"cj-{n}") for n in (0, 12, 30, 51, 64)}, errors={"priority": "invalid"}),
}  # fmt: skip


async def our_push(
    database_url: str, plan: PlanSnapshot, fault: Callable[[JiraStandin, PlanSnapshot], None] | None = None
) -> tuple[float, Counter[str]]:
    settings = Settings(database_url=database_url, db_pool_max=4)
    source = await PoolSource.open(settings)
    with JiraStandin() as jira:
        if fault is not None:
            fault(jira, plan)
        try:
            async with source.pool.acquire() as conn:
                # A connection belongs to a portfolio (tenant) that exists.
                await conn.execute(
                    "INSERT INTO access.portfolios (id) VALUES ($1) ON CONFLICT DO NOTHING",
                    uuid.UUID(plan.portfolio_id),
                )
                connection = await repository.insert_connection(
                    conn,
                    {"portfolio_id": uuid.UUID(plan.portfolio_id), "site_url": jira.base_url, "project_key": "PROJ",
                     "account_email": jira.auth[0], "api_token_ref": "env:ROADMAP_SECRET_UNUSED", "webhook_secret_ref": None,
                     "mapping": {}, "created_by": "bench"},
                )  # fmt: skip

            async def progress(state: dict[str, object]) -> None:
                return None

            started = time.perf_counter()
            policy = RetryPolicy(base=0.05, cap=0.2)  # the faults' waits are not what is measured
            async with JiraClient.connect(
                jira.base_url, *jira.auth, guard=OutboundGuard([jira.host]), retry=policy
            ) as client:
                await Push(pool=source.pool, jira=client, connection=connection, plan=plan, progress=progress).run()
            return time.perf_counter() - started, Counter(jira.calls)
        finally:
            await source.close()


def direct(plan: PlanSnapshot) -> tuple[float, Counter[str]]:
    mapping = JiraMapping()
    with JiraStandin() as jira, httpx.Client(base_url=jira.base_url, auth=jira.auth, timeout=60) as client:
        started = time.perf_counter()
        epics = {}
        for phase in plan.phases:
            fields = epic_fields("PROJ", mapping, phase, plan.portfolio_id, plan.currency)
            epics[phase.key] = client.post("/rest/api/3/issue", json=create_issue_body(fields)).json()["key"]
        keys = {}
        for start in range(0, len(plan.ideas), BULK_CREATE_MAX):
            batch = plan.ideas[start : start + BULK_CREATE_MAX]
            bodies = [
                create_issue_body(issue_fields("PROJ", mapping, i, epics[i.phase], plan.portfolio_id)) for i in batch
            ]
            answer = client.post("/rest/api/3/issue/bulk", json={"issueUpdates": bodies}).json()
            keys.update({idea.ref: issue["key"] for idea, issue in zip(batch, answer["issues"], strict=True)})
        for dependency in plan.dependencies:
            client.post("/rest/api/3/issueLink", json=blocks_link_body(keys[dependency.on], keys[dependency.idea]))
        return time.perf_counter() - started, Counter(jira.calls)


def target(plan: PlanSnapshot) -> int:
    """Epics + ceil(ideas / 50) bulk creates + links + ceil(ideas / 100) searches."""
    ideas = len(plan.ideas)
    epics = len({idea.phase for idea in plan.ideas})
    return epics + -(-ideas // BULK_CREATE_MAX) + len(plan.dependencies) + -(-ideas // 100)


def faults_table(database_url: str) -> None:
    plan = plan_with_links(65, 14)
    print(f"\nPush of 65 ideas in 4 phases with 14 Blocks links, per fault (target {target(plan)} calls):\n")
    print("| fault | calls | extra calls | by operation |")
    print("|---|---:|---:|---|")
    for name, fault in FAULTS.items():
        _, calls = asyncio.run(our_push(database_url, plan, fault))
        total = sum(calls.values())
        shown = ", ".join(f"{op} {n}" for op, n in sorted(calls.items()))
        print(f"| {name} | {total} | {total - target(plan)} | {shown} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ideas", type=int, default=1000)
    parser.add_argument("--faults-only", action="store_true", help="only the calls per fault kind")
    args = parser.parse_args()
    database_url = asyncio.run(fresh_database(database_server_url(), "bench_push"))
    migrate.upgrade(database_url)
    if args.faults_only:
        faults_table(database_url)
        return
    plan = plan_of(args.ideas)
    baseline_seconds, baseline_calls = direct(plan)
    seconds, calls = asyncio.run(our_push(database_url, plan))
    minimum = target(plan)
    ours = sum(calls.values())
    print(
        f"Push of {args.ideas:,} ideas in 4 phases with {len(plan.dependencies)} Blocks links to the stand-in Jira:\n"
    )
    print("| path | calls | calls / target | seconds | time / baseline |")
    print("|---|---:|---:|---:|---:|")
    print(f"| target (epics + bulk creates + links + one search per 100 ideas) | {minimum} | 1.00 | | |")
    print(f"| baseline: the same bodies sent straight | {sum(baseline_calls.values())} | "
          f"{sum(baseline_calls.values()) / minimum:.2f} | {baseline_seconds:.2f} | 1.00x |")  # fmt: skip
    print(f"| our push (searches, link table, job bookkeeping) | {ours} | {ours / minimum:.2f} | {seconds:.2f} | "
          f"{seconds / baseline_seconds:.2f}x |")  # fmt: skip
    print("\nOur calls by operation: " + ", ".join(f"{name} {count}" for name, count in sorted(calls.items())))
    faults_table(database_url)


if __name__ == "__main__":
    main()
