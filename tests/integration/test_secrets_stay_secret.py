"""A full run of the backend as a process, from backlog to Jira and back, with every log line kept:
no token, API token, webhook secret or signing key appears in the logs or in any response."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.integrations.webhooks import signature_of
from services.kit import migrate
from services.kit.auth import mint_token
from services.kit.settings import AuthSettings

pytestmark = pytest.mark.integration

ROADMAP = str(Path(sys.executable).with_name("roadmap"))
SIGNING_KEY = "signing-key-" + "k" * 40
WEBHOOK_SECRET = "webhook-secret-" + "w" * 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait(http: httpx.Client, url: str, done: set[str]) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = http.get(url).json()
        if body["status"] in done:
            return body
        time.sleep(0.2)
    raise AssertionError(body)


def test_no_secret_reaches_a_log_line_or_a_response(make_database, tmp_path, jira):
    url = make_database("secrets")
    migrate.upgrade(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ROADMAP_DATABASE_URL": url, "ROADMAP_JWT_SECRET": SIGNING_KEY, "ROADMAP_DATA_DIR": str(tmp_path),
           "PORT": str(port), "ROADMAP_LOG_LEVEL": "DEBUG", "ROADMAP_SECRET_SECRETS_TEST_JIRA_TOKEN": jira.auth[1],
           "ROADMAP_SECRET_SECRETS_TEST_WEBHOOK": WEBHOOK_SECRET, "ROADMAP_OUTBOUND_ALLOWED_HOSTS": jira.host}  # fmt: skip
    auth = AuthSettings(signing_key=SIGNING_KEY)
    tokens = {
        role: mint_token(auth, subject=f"{role}@example.com", roles=[role]) for role in ("programme_manager", "leader")
    }
    responses: list[str] = []
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([ROADMAP, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        pm = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tokens['programme_manager']}"}, timeout=30)
        leader = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tokens['leader']}"}, timeout=30)
        with pm, leader:

            def keep(response: httpx.Response) -> dict:
                responses.append(response.text)
                assert response.status_code < 500, response.text
                return response.json() if response.content else {}

            portfolio = keep(pm.post("/scoring/portfolios", json={"name": "Secrets"}))
            keep(
                pm.put(f"/scoring/portfolios/{portfolio['id']}/members/leader@example.com", json={"roles": ["leader"]})
            )
            ideas = [{"ref": f"S-{n}", "title": f"Idea {n}", "phases": ["improve"],
                      "estimates": {"reach": 10 + n, "customerImpact": 5, "confidence": 0.5, "effort": {"web": 1}, "cost": 100}}
                     for n in range(3)]  # fmt: skip
            keep(pm.post(f"/scoring/portfolios/{portfolio['id']}/ideas/bulk", json={"ideas": ideas}))
            model = keep(
                pm.post(
                    f"/scoring/portfolios/{portfolio['id']}/models", json={"name": "R", "definition": {"kind": "rice"}}
                )
            )
            scenario = keep(pm.post("/roadmap/scenarios", json={
                "name": "S", "portfolioId": portfolio["id"], "modelId": model["id"], "phases": [{"key": "improve", "budget": 1000}]}))  # fmt: skip
            run = keep(pm.post(f"/roadmap/scenarios/{scenario['id']}/runs", json={}))
            run = wait(pm, f"/roadmap/runs/{run['id']}", {"succeeded", "failed"})
            plan = keep(pm.post(f"/roadmap/runs/{run['id']}/plans", json={"name": "P"}))
            keep(pm.post(f"/roadmap/plans/{plan['id']}/submit"))
            keep(
                leader.post(
                    f"/roadmap/plans/{plan['id']}/phases/improve/decision",
                    json={"decision": "approve", "comment": "go"},
                )
            )
            connection = keep(pm.post("/integrations/connections", json={
                "portfolioId": portfolio["id"], "siteUrl": jira.base_url, "projectKey": "PROJ", "accountEmail": jira.auth[0],
                "apiTokenRef": "env:ROADMAP_SECRET_SECRETS_TEST_JIRA_TOKEN", "webhookSecretRef": "env:ROADMAP_SECRET_SECRETS_TEST_WEBHOOK"}))  # fmt: skip
            keep(pm.post(f"/integrations/connections/{connection['id']}/dry-run", json={"planId": plan["id"]}))
            push = keep(pm.post(f"/integrations/connections/{connection['id']}/pushes", json={"planId": plan["id"]}))
            push = wait(pm, f"/integrations/pushes/{push['id']}", {"succeeded", "failed"})
            assert push["status"] == "succeeded", push
            key = "PROJ-2"  # the first idea's issue, after its phase's epic
            delivery = jira.status_change_webhook(key, "Done", secret=WEBHOOK_SECRET)
            keep(
                httpx.post(
                    f"{base}/integrations/webhooks/{connection['id']}", content=delivery.body, headers=delivery.headers
                )
            )
            forged = httpx.post(
                f"{base}/integrations/webhooks/{connection['id']}",
                content=delivery.body,
                headers={**delivery.headers, "X-Hub-Signature": signature_of("wrong", delivery.body)},
            )
            responses.append(forged.text)
            responses.append(pm.get(f"/integrations/connections/{connection['id']}").text)
    finally:
        server.terminate()
        server.wait(timeout=30)
    logs = log_path.read_text()
    assert "request" in logs and len(logs.splitlines()) > 20  # the log really was written
    secrets = {"bearer token": tokens["programme_manager"], "leader token": tokens["leader"],
               "Jira API token": jira.auth[1], "webhook secret": WEBHOOK_SECRET, "signing key": SIGNING_KEY}  # fmt: skip
    for name, value in secrets.items():
        assert value not in logs, f"the {name} is in the logs"
        assert all(value not in text for text in responses), f"the {name} is in a response"
