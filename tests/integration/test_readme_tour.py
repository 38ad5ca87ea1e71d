"""The README's five-minute tour, run as printed against `roadmap serve --seed-demo`.

The shell blocks of the tour are taken from README.md itself and run by bash with curl, with
the tokens `serve` printed and the ids earlier answers gave put where the README says
`<run id>` and the like. A change to the README that breaks a printed request, or a change to
the backend that breaks the README, fails here.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from test_serve import served  # noqa: F401  (the fixture: a real `roadmap serve --seed-demo`)

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_commands() -> list[str]:
    """The tour's shell commands, continuation lines joined, variable assignments left out."""
    text = README.read_text()
    tour = text[text.index("## A five-minute tour") : text.index("### To Jira")]
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", tour, re.DOTALL):
        pending = ""
        for line in block.replace("\\\n", " ").splitlines():
            pending += ("\n" if pending else "") + line
            if not balanced(pending):
                continue  # a quoted body goes on over the next lines
            command = re.sub(r"\s+#[^'\"]*$", "", pending).strip()
            pending = ""
            if command and not re.match(r"^[A-Z]+=", command):
                commands.append(command)
    return commands


def balanced(text: str) -> bool:
    try:
        shlex.split(text)
    except ValueError:  # "No closing quotation"
        return False
    return True


def printed_tokens(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\w+)\s+(ey[\w-]+\.[\w-]+\.[\w-]+)$", output, re.MULTILINE))


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's commands use curl")
def test_the_readme_tour_works_as_printed(served, tmp_path):  # noqa: F811
    base, output = served
    tokens = printed_tokens(output)
    ranking_url = re.search(r"'(http\S+/scoring/portfolios/([\w-]+)/models/([\w-]+)/ranking\S*)'", output)
    assert ranking_url, output
    portfolio, model = ranking_url.group(2), ranking_url.group(3)
    env = {
        "PATH": "/usr/bin:/bin",
        "VIEWER": tokens["viewer"],
        "PM": tokens["programme_manager"],
        "LEADER": tokens["leader"],
        "STAKEHOLDER": tokens["stakeholder"],
        "P": f"{base}/scoring/portfolios/{portfolio}",
        "PORTFOLIO": portfolio,
        "MODEL": model,
    }
    ids = {"<model id>": model}
    commands = tour_commands()
    assert len(commands) >= 15, commands
    answers = []
    for command in commands:
        for placeholder, value in ids.items():
            command = command.replace(placeholder, value)
        command = command.replace("http://127.0.0.1:8000", base)
        assert "<" not in command.replace("<<", ""), f"no value for a placeholder in: {command}"
        if "/result" in command:
            wait_until_finished(base, env["VIEWER"], ids["<run id>"])
        if "> " in command:  # a download into a file: check the file, not the output
            status, body = run(command, env, tmp_path)
            assert status == 0 and (tmp_path / command.rsplit("> ", 1)[1].strip()).stat().st_size > 0
            continue
        status, body = run(command + " -w '\\n%{http_code}'", env, tmp_path)
        text, _, code = body.rpartition("\n")
        answers.append((command, code))
        expected_error = '"confidence": 1.5' in command  # the tour's deliberate bad request
        assert code.startswith("4") if expected_error else code.startswith("2"), (command, code, text[:500])
        remember_ids(command, text, ids, env)
    assert [code for _, code in answers if code == "422"] == ["422"]
    assert "<plan id>" in ids and "<run id>" in ids


def run(command: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run(["bash", "-c", command], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout


def remember_ids(command: str, text: str, ids: dict[str, str], env: dict[str, str]) -> None:
    """Keep the ids the README's later commands refer to, as a reader would copy them."""
    if command.endswith('"$P/models"') and text.startswith("["):
        ids["<stakeholder model id>"] = next(m["id"] for m in json.loads(text) if m["name"] == "Stakeholder voices")
    if not text.startswith("{"):
        return
    answer = json.loads(text)
    if re.search(r"/roadmap/scenarios -d", command):
        env["S"] = answer["id"]
    elif re.search(r"/scenarios/\$S/runs -d", command):
        ids["<run id>"] = answer["id"]
    elif re.search(r"/runs/<run id>/plans|/runs/[\w-]+/plans", command) and "-X POST" in command:
        ids["<plan id>"] = answer["id"]


def wait_until_finished(base: str, viewer: str, run_id: str, within: float = 90.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        run = httpx.get(f"{base}/roadmap/runs/{run_id}", headers={"Authorization": f"Bearer {viewer}"}, timeout=10)
        if run.json()["status"] in ("succeeded", "failed", "cancelled"):
            assert run.json()["status"] == "succeeded", run.text
            return
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish within {within} s")
