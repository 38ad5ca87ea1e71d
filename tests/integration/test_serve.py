"""`roadmap serve --seed-demo` as a user runs it: a real process, real HTTP, the printed examples."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

ROADMAP = Path(sys.executable).with_name("roadmap")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_examples(process: subprocess.Popen, output: list[str], deadline: float, log: Path) -> None:
    """Read the welcome text until its last example line has been printed."""
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if "/scores'" in line:
            return
    raise AssertionError("no example requests printed:\n" + "".join(output) + log.read_text()[-3000:])


def curl_to_request(line: str) -> tuple[dict[str, str], str]:
    words = shlex.split(line.strip())
    assert words[0] == "curl"
    headers = {}
    for flag, value in zip(words, words[1:], strict=False):
        if flag == "-H":
            name, _, header_value = value.partition(": ")
            headers[name] = header_value
    return headers, words[-1]


@pytest.fixture
def served(make_database, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "ROADMAP_DATABASE_URL": make_database("serve"),
        "ROADMAP_DATA_DIR": str(tmp_path),
        "PORT": str(port),
    }
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [str(ROADMAP), "serve", "--seed-demo"], env=env, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    output: list[str] = []
    try:
        wait_for_examples(process, output, time.monotonic() + 90, log)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, "".join(output)
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stdout.close()


def test_serve_prints_tokens_for_every_role_and_examples_that_work_as_printed(served):
    base, output = served
    assert base in output
    for role in ("viewer", "programme_manager", "leader", "delivery", "admin"):
        assert re.search(rf"^\s+{role}\s+ey[\w-]+\.[\w-]+\.[\w-]+$", output, re.MULTILINE), role
    examples = [line for line in output.splitlines() if line.strip().startswith("curl ")]
    assert len(examples) == 3
    answers = []
    for line in examples:
        headers, url = curl_to_request(line)
        response = httpx.get(url, headers=headers, timeout=10)
        assert response.status_code == 200, (url, response.text)
        answers.append(response.json())
    ranking, onboarding, scores = answers
    assert ranking["items"][0]["rank"] == 1 and ranking["scored"] >= 30
    assert onboarding["total"] >= 1
    assert all(item["journey"]["journeyStage"] == "onboarding" for item in onboarding["items"])
    assert {score["modelName"] for score in scores} >= {"RICE"}


def test_the_demo_portfolio_is_seeded_once_with_thirty_or_more_varied_ideas(served, auth_settings):
    base, output = served
    headers, url = curl_to_request([line for line in output.splitlines() if "journeyStage" in line][0])
    portfolio_url = url.split("/ideas")[0]
    ideas = httpx.get(f"{portfolio_url}/ideas", params={"pageSize": 1000}, headers=headers, timeout=10).json()
    items = ideas["items"]
    assert ideas["total"] >= 30
    assert len({item["journey"]["persona"] for item in items}) >= 3
    assert len({item["journey"]["journeyStage"] for item in items}) >= 3
    assert len({item["journey"]["touchpoint"] for item in items}) >= 3
    portfolios = httpx.get(f"{base}/scoring/portfolios", headers=headers, timeout=10).json()
    assert portfolios["total"] == 1


def worker_processes(parent: int) -> list[int]:
    """The server processes uvicorn started under `parent` (its other children are not servers)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == parent and b"spawn_main" in cmdline:
            children.append(int(stat.parent.name))
    return children


def served_by_each(children: list[int], base: str, *, batches: int = 30) -> dict[int, float]:
    """Readiness checks each server process counted itself, read from its own metrics file.

    Requests go out in concurrent batches on new connections until every process has served
    one (the kernel hands each connection to whichever process accepts first).
    """
    from concurrent.futures import ThreadPoolExecutor

    from prometheus_client.multiprocess import MultiProcessCollector

    environ = Path(f"/proc/{children[0]}/environ").read_bytes().split(b"\0")
    folder = next(item.split(b"=", 1)[1].decode() for item in environ if item.startswith(b"PROMETHEUS_MULTIPROC_DIR="))

    def counted(pid: int) -> float:
        files = [str(path) for path in Path(folder).glob(f"counter_{pid}.db")]
        return sum(
            sample.value
            for metric in MultiProcessCollector.merge(files, accumulate=True)
            for sample in metric.samples
            if sample.name == "http_requests_total" and sample.labels.get("route") == "/health/ready"
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(batches):
            list(pool.map(lambda _: httpx.get(f"{base}/health/ready", timeout=10), range(16)))
            served = {pid: counted(pid) for pid in children}
            if all(served.values()):
                break
    return served


def ready_requests_counted(exposition: str) -> float:
    """`http_requests_total` for answered readiness checks, summed over services, from a scrape."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith("http_requests_total{") and 'route="/health/ready"' in line and 'status="200"' in line
    )


@pytest.mark.parametrize("service", ["all", "scoring"])
def test_serve_with_two_workers_runs_two_server_processes_that_answer(service, make_database, tmp_path):
    """`--workers 2` runs two server processes on one port, each building its app from the environment."""
    database_url = make_database(f"workers_{service}")
    if service != "all":  # a service on its own expects the migrations applied, as in a deployment
        subprocess.run([str(ROADMAP), "migrate"], env={**os.environ, "ROADMAP_DATABASE_URL": database_url}, check=True)
    port = free_port()
    env = {**os.environ, "ROADMAP_DATABASE_URL": database_url, "ROADMAP_DATA_DIR": str(tmp_path), "PORT": str(port),
           # Scoring on its own must know where integrations is (this test never calls it).
           "ROADMAP_INTEGRATIONS_URL": "http://integrations.invalid:8000"}  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(ROADMAP), "serve", "--service", service, "--workers", "2", "--no-worker"],
            env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        base, deadline, statuses = f"http://127.0.0.1:{port}", time.monotonic() + 90, []
        while time.monotonic() < deadline and statuses[-1:] != [200]:
            try:
                statuses.append(httpx.get(f"{base}/health/ready", timeout=2).status_code)
            except httpx.TransportError:
                time.sleep(0.2)
        assert statuses[-1:] == [200], log.read_text()[-3000:]
        assert len(worker_processes(process.pid)) == 2, log.read_text()[-3000:]
        # Whichever process answers a scrape, it counts the requests both answered.
        with httpx.Client(base_url=base, timeout=10) as http:
            before = ready_requests_counted(http.get("/metrics").text)
            for _ in range(20):  # new connections, so the kernel spreads them over both processes
                assert httpx.get(f"{base}/health/ready", timeout=10).status_code == 200
            counts = {ready_requests_counted(http.get("/metrics").text) for _ in range(6)}
        assert counts == {before + 20}, (before, counts)
        # ...and both really answered: each process's own counter file shows requests it served.
        children = worker_processes(process.pid)
        served = served_by_each(children, base)
        assert all(served[pid] > 0 for pid in children), served
    finally:
        process.terminate()
        process.wait(timeout=30)
