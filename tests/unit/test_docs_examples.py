"""Every example in the docs is what the code accepts and answers: a doc that drifts fails here.

JSON blocks must be JSON; scenario documents must decode; the worked example of the result
document must be what the optimiser answers; scoring model definitions and the CSV example
must be accepted as they stand. The README's tour runs against a real server in
tests/integration/test_readme_tour.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import pytest

from services.roadmap.optimiser import decode_scenario
from services.scoring import formulas
from services.scoring.csv_codec import read_csv

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[2] / "docs"


def blocks(name: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (DOCS / name).read_text(), re.DOTALL)


def json_values(block: str) -> list[object]:
    """The JSON values of a block: one value, several one per line, or a `"key": value` fragment."""
    text = block.strip()
    if text.startswith('"'):
        return [json.loads("{" + text + "}")]
    decoder, values, index = json.JSONDecoder(), [], 0
    while index < len(text):
        value, end = decoder.raw_decode(text, index)
        values.append(value)
        index = end
        while index < len(text) and text[index].isspace():
            index += 1
    return values


@pytest.mark.parametrize("name", sorted(path.name for path in DOCS.glob("*.md")))
def test_every_json_example_is_json(name):
    for block in blocks(name, "json"):
        assert json_values(block), block


def test_the_scenario_document_example_is_a_scenario_the_optimiser_takes():
    [document] = json_values(blocks("scenario-format.md", "json")[0])
    instance = decode_scenario(json.dumps(document))
    assert len(instance.ideas) == len(document["ideas"]) and len(instance.constraints) == len(document["constraints"])


def test_the_worked_result_example_is_what_the_optimiser_answers():
    from services.roadmap.optimiser import SolveConfig, result_document, solve

    scenario_block, result_block = blocks("scenario-format.md", "json")[1:3]
    [scenario] = json_values(scenario_block)
    [printed] = json_values(result_block)
    instance = decode_scenario(json.dumps(scenario))
    answer = msgspec.to_builtins(result_document(instance, solve(instance, SolveConfig())))
    for field in ("name", "status", "objective", "bestBound", "gap", "assignments"):
        assert answer[field] == printed[field], field
    assert [(p["key"], p["budget"], p["spend"]) for p in answer["phases"]] == [
        (p["key"], p["budget"], p["spend"]) for p in printed["phases"]
    ]
    assert [(item["idea"], item["reason"]) for item in answer["leftOut"]] == [
        (item["idea"], item["reason"]) for item in printed["leftOut"]
    ]


def test_every_scoring_model_example_is_a_model():
    definitions = [value for block in blocks("scoring-models.md", "json") for value in json_values(block)]
    kinds = {definition["kind"] for definition in definitions if isinstance(definition, dict) and "kind" in definition}
    assert kinds >= {"weighted", "rice", "wsjf", "ice", "value_effort", "roi", "custom"}
    for definition in definitions:
        if isinstance(definition, dict) and "kind" in definition:
            msgspec.convert(definition, formulas.ScoringModel)


def test_the_csv_example_imports():
    [example] = blocks("scoring-models.md", "csv")
    file = read_csv(example)
    assert [row.idea.ref for row in file.rows] == ["CX-1", "CX-2"]
