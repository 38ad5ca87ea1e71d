"""The services as a deployment runs them: separate processes, two workers, one PostgreSQL.

Each service is `roadmap serve --service NAME`; they reach each other over HTTP; runs go to
`roadmap worker` processes. Twenty runs are asked for at once, one worker is killed in the
middle, and every run still finishes, once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.kit import migrate
from services.kit.auth import mint_token
from services.kit.settings import AuthSettings

pytestmark = pytest.mark.integration

ROADMAP = str(Path(sys.executable).with_name("roadmap"))
SECRET = "apart-" + "s" * 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(base: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base} never became ready")


def test_separate_services_and_two_workers_finish_every_run_once_though_one_worker_dies(make_database, tmp_path):
    url = make_database("apart")
    migrate.upgrade(url)
    ports = {name: free_port() for name in ("scoring", "roadmap", "integrations")}
    bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = {**os.environ, "ROADMAP_DATABASE_URL": url, "ROADMAP_JWT_SECRET": SECRET, "ROADMAP_DATA_DIR": str(tmp_path),
           "ROADMAP_SCORING_URL": bases["scoring"], "ROADMAP_ROADMAP_URL": bases["roadmap"],
           "ROADMAP_JOB_RETRY_AFTER_SECONDS": "2", "ROADMAP_LOG_LEVEL": "WARNING"}  # fmt: skip
    processes: dict[str, subprocess.Popen] = {}

    def start(name: str, *args: str) -> None:
        with (tmp_path / f"{name}.log").open("w") as log:  # the child keeps its own descriptor
            processes[name] = subprocess.Popen([ROADMAP, *args], env=env, stdout=log, stderr=subprocess.STDOUT)

    try:
        for name, port in ports.items():
            start(name, "serve", "--service", name, "--port", str(port))
        start("worker-1", "worker")
        start("worker-2", "worker")
        for base in bases.values():
            wait_ready(base)
        headers = {"Authorization": "Bearer " + mint_token(AuthSettings(signing_key=SECRET), subject="pm", roles=["programme_manager"])}
        with httpx.Client(headers=headers, timeout=30) as http:
            portfolio = http.post(f"{bases['scoring']}/scoring/portfolios", json={"name": "Apart"}).json()
            ideas = [
                {"ref": f"I-{n}", "title": f"Idea {n}", "phases": ["improve", "perfection"],
                 "estimates": {"reach": 100 + n, "customerImpact": 5, "confidence": 0.8, "effort": {"web": 2}, "cost": 1000 + n}}
                for n in range(30)
            ]  # fmt: skip
            assert http.post(f"{bases['scoring']}/scoring/portfolios/{portfolio['id']}/ideas/bulk", json={"ideas": ideas}).status_code == 201
            model = http.post(
                f"{bases['scoring']}/scoring/portfolios/{portfolio['id']}/models", json={"name": "RICE", "definition": {"kind": "rice"}}
            ).json()
            scenario = http.post(
                f"{bases['roadmap']}/roadmap/scenarios",
                json={"name": "Apart", "portfolioId": portfolio["id"], "modelId": model["id"],
                      "phases": [{"key": "improve", "budget": 10_000}, {"key": "perfection", "budget": 8_000}],
                      "solver": {"timeLimitSeconds": 5}},
            )  # fmt: skip
            assert scenario.status_code == 201, scenario.text
            runs = [
                http.post(f"{bases['roadmap']}/roadmap/scenarios/{scenario.json()['id']}/runs", json={}).json()["id"]
                for _ in range(20)
            ]
            time.sleep(1.0)
            processes["worker-1"].send_signal(signal.SIGKILL)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                states = [http.get(f"{bases['roadmap']}/roadmap/runs/{run}").json() for run in runs]
                if all(state["status"] in ("succeeded", "failed", "cancelled") for state in states):
                    break
                time.sleep(0.5)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
    assert [state["status"] for state in states] == ["succeeded"] * 20, [
        (s["status"], s["error"]) for s in states
    ] + [(tmp_path / "worker-2.log").read_text()[-1500:]]
    objectives = {state["summary"]["objective"] for state in states}
    assert len(objectives) == 1  # the same scenario, the same proven optimum, every time
    assert all(state["summary"]["status"] == "optimal" for state in states)
