import json

import msgspec
import pytest
from click.testing import CliRunner
from optimiser_helpers import idea, scenario

from services.roadmap.cli import solve

pytestmark = pytest.mark.unit


def _write(tmp_path, document) -> str:
    path = tmp_path / "scenario.json"
    path.write_bytes(msgspec.json.encode(document))
    return str(path)


def test_solve_prints_a_summary_and_writes_the_result_document(tmp_path):
    ideas = [idea("A", value=5, cost=60), idea("B", value=4, cost=50), idea("C", value=3, cost=40)]
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(solve, [_write(tmp_path, scenario(ideas)), "--output", str(out), "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    assert "optimal" in result.output and "100" in result.output
    doc = json.loads(out.read_text())
    assert doc["status"] == "optimal" and doc["objective"] == 8 and doc["bestBound"] == 8 and doc["gap"] == 0
    assert sorted(a["idea"] for a in doc["assignments"]) == ["A", "C"]
    assert doc["phases"] == [{"key": "p", "budget": 100, "spend": 100, "capacity": []}]
    assert doc["leftOut"][0]["idea"] == "B" and doc["leftOut"][0]["reason"] == "budget"
    assert doc["solver"]["timeLimitSeconds"] == 5


def test_the_default_output_sits_next_to_the_scenario(tmp_path):
    result = CliRunner().invoke(solve, [_write(tmp_path, scenario([idea("A")]))])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "scenario.plan.json").read_text())["status"] == "optimal"


def test_gap_and_time_limit_override_the_document(tmp_path):
    document = scenario([idea("A")], solver={"timeLimitSeconds": 100, "relativeGap": 0.0})
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(
        solve, [_write(tmp_path, document), "-o", str(out), "--time-limit", "7", "--gap", "0.05"]
    )
    assert result.exit_code == 0, result.output
    solver = json.loads(out.read_text())["solver"]
    assert (solver["timeLimitSeconds"], solver["relativeGap"]) == (7.0, 0.05)


def test_infeasible_exits_3_and_writes_the_diagnosis(tmp_path):
    document = scenario([idea("A")], constraints=[{"kind": "mandatory", "idea": "A"}, {"kind": "exclude", "idea": "A"}])
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(solve, [_write(tmp_path, document), "-o", str(out)])
    assert result.exit_code == 3
    assert "forced_and_excluded" in result.output
    doc = json.loads(out.read_text())
    assert doc["status"] == "infeasible" and doc["objective"] is None and doc["assignments"] == []
    assert doc["diagnosis"][0]["constraints"] == ["constraints[1]", "constraints[0]"]


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (scenario([idea("A", phases=["later"])]), "ideas[0].phases[0]"),
        (scenario([idea("A")], constraints=[{"kind": "pin", "idea": "B", "phase": "p"}]), "constraints[0].idea"),
        ({"phases": [{"key": "p", "budget": -1}], "ideas": []}, "phases[0].budget"),
    ],
)
def test_a_bad_document_exits_2_names_the_field_and_writes_nothing(tmp_path, document, field):
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(solve, [_write(tmp_path, document), "-o", str(out)])
    assert result.exit_code == 2
    assert field in result.output
    assert not out.exists() and not (tmp_path / "scenario.plan.json").exists()


def test_a_missing_or_broken_file_exits_2(tmp_path):
    assert CliRunner().invoke(solve, [str(tmp_path / "nope.json")]).exit_code == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    result = CliRunner().invoke(solve, [str(broken)])
    assert result.exit_code == 2 and "JSON" in result.output
