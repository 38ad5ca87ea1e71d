"""`roadmap solve` as its own process: the result is written and the exit status kept when the
process ends without the interpreter's teardown (services.roadmap.cli.end_process)."""

import json
import subprocess
import sys

import msgspec
import pytest
from optimiser_helpers import idea, scenario

pytestmark = pytest.mark.unit

FEASIBLE = scenario([idea("A", value=3, cost=1), idea("B", value=2, cost=100)])
INFEASIBLE = scenario([idea("A", cost=200)], constraints=[{"kind": "mandatory", "idea": "A"}])


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "entry",
    [["-m", "services.roadmap.cli"], ["-c", "from services.cli import main; main()", "solve"]],
    ids=["python -m services.roadmap.cli", "roadmap solve"],
)
@pytest.mark.parametrize(("document", "status", "code"), [(FEASIBLE, "optimal", 0), (INFEASIBLE, "infeasible", 3)])
def test_the_process_writes_its_result_prints_its_summary_and_keeps_its_exit_status(
    tmp_path, entry, document, status, code
):
    path, out = tmp_path / "s.json", tmp_path / "s.plan.json"
    path.write_bytes(msgspec.json.encode(document))
    done = _run([*entry, str(path), "-o", str(out)])
    assert done.returncode == code, done.stderr
    assert json.loads(out.read_text())["status"] == status
    assert f"Result written to {out}" in done.stdout  # flushed before the process ended


def test_a_bad_command_line_keeps_clicks_exit_status_and_message(tmp_path):
    done = _run(["-m", "services.roadmap.cli", str(tmp_path / "missing.json"), "--gap", "2"])
    assert done.returncode == 2
    assert "--gap" in done.stderr


def test_end_process_flushes_output_and_exits_with_the_code():
    code = "import sys; from services.roadmap.cli import end_process; print('out', end=''); sys.stderr.write('err'); end_process(5)"
    done = _run(["-c", code])
    assert (done.returncode, done.stdout, done.stderr) == (5, "out", "err")
    done = _run(["-c", "from services.roadmap.cli import end_process; end_process('stopped: why')"])
    assert (done.returncode, done.stderr.strip()) == (1, "stopped: why")
