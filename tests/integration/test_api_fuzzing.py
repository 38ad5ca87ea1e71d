"""Schema-driven fuzzing of every service's OpenAPI document with schemathesis.

`roadmap serve --seed-demo` runs as a real process on its own database, with a scenario, a
finished run, a plan and a Jira connection (to the stand-in) made first, so that generated
requests reach real records and not only 404s: each operation is fed cases with generated
path parameters and cases with the ids of those records, both valid and invalid
(schemathesis' negative mode) bodies and queries, with a token holding every role.

Every answer must be: no 5xx, a status the document lists, the documented content type,
a body that matches its schema, and every 4xx an RFC 9457 problem with the same status.

The generation is derandomised so CI is repeatable (tests/conftest.py); for a deeper local run
set ROADMAP_FUZZ_EXAMPLES (cases per operation and mode, default 12) and HYPOTHESIS_PROFILE=explore.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from jira_standin import JiraStandin
from live_server import serving
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.kit import migrate
from services.kit.auth import Role, mint_token
from services.kit.settings import AuthSettings

pytestmark = pytest.mark.integration

SECRET = "fuzz-" + "f" * 40
JIRA_TOKEN_VARIABLE = "ROADMAP_SECRET_FUZZ_TEST_JIRA_TOKEN"
EXAMPLES = int(os.environ.get("ROADMAP_FUZZ_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def jira_for_fuzzing() -> Iterator[JiraStandin]:
    """A stand-in Jira for the whole module; whatever fuzzed requests make us send it must keep its contract."""
    server = JiraStandin().start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.violations, [(v.method, v.path, v.problems) for v in server.violations]


@pytest.fixture(scope="module")
def live(make_database, tmp_path_factory, jira_for_fuzzing) -> Iterator[tuple[str, dict[str, str]]]:
    """The whole backend as one real process, and the ids of records it holds."""
    url = make_database("fuzz")
    migrate.upgrade(url)
    env = {"ROADMAP_DATABASE_URL": url, "ROADMAP_JWT_SECRET": SECRET, "ROADMAP_LOG_LEVEL": "WARNING",
           "ROADMAP_DATA_DIR": str(tmp_path_factory.mktemp("fuzz")), JIRA_TOKEN_VARIABLE: jira_for_fuzzing.auth[1],
           "ROADMAP_OUTBOUND_ALLOWED_HOSTS": jira_for_fuzzing.host}  # fmt: skip
    with serving(tmp_path_factory.mktemp("fuzz-log") / "serve.log", "--seed-demo", env=env) as base:
        yield base, known_records(base, jira_for_fuzzing)


def every_role_headers() -> dict[str, str]:
    token = mint_token(AuthSettings(signing_key=SECRET), subject="fuzzer", roles=[role.value for role in Role])
    return {"Authorization": f"Bearer {token}"}


def known_records(base: str, jira) -> dict[str, str]:
    """Ids of one of everything, made through the API: path parameters that find something."""
    with httpx.Client(base_url=base, headers=every_role_headers(), timeout=30) as http:
        portfolio = http.get("/scoring/portfolios").json()["items"][0]
        model = http.get(f"/scoring/portfolios/{portfolio['id']}/models").json()[0]
        idea = http.get(f"/scoring/portfolios/{portfolio['id']}/ideas").json()["items"][0]
        phases = [{"key": key, "budget": 400_000} for key in ("discovery", "improve", "perfection", "personalization")]
        scenario = http.post(
            "/roadmap/scenarios",
            json={"name": "Fuzzed", "portfolioId": portfolio["id"], "modelId": model["id"], "phases": phases},
        )
        assert scenario.status_code == 201, scenario.text
        run = http.post(f"/roadmap/scenarios/{scenario.json()['id']}/runs", json={}).json()
        deadline = time.monotonic() + 60
        while http.get(f"/roadmap/runs/{run['id']}").json()["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, "the run never finished"
            time.sleep(0.2)
        plan = http.post(f"/roadmap/runs/{run['id']}/plans", json={"name": "Fuzzed plan"})
        assert plan.status_code == 201, plan.text
        connection = http.post(
            "/integrations/connections",
            json={"portfolioId": portfolio["id"], "siteUrl": jira.base_url, "projectKey": "PROJ",
                  "accountEmail": jira.auth[0], "apiTokenRef": f"env:{JIRA_TOKEN_VARIABLE}"},
        )  # fmt: skip
        assert connection.status_code == 201, connection.text
    return {
        "portfolio_id": portfolio["id"],
        "model_id": model["id"],
        "ref": idea["ref"],
        "scenario_id": scenario.json()["id"],
        "run_id": run["id"],
        "plan_id": plan.json()["id"],
        "phase": "improve",
        "connection_id": connection.json()["id"],
    }


def errors_are_problems(ctx, response, case) -> None:
    """Every 4xx is an RFC 9457 problem carrying its own status."""
    if not 400 <= response.status_code < 500:
        return
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/problem+json"), f"{response.status_code} answered as {content_type}"
    body = response.json()
    assert body.get("status") == response.status_code and body.get("type") and body.get("title"), body


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def cases_for(operation, known: dict[str, str]) -> st.SearchStrategy:
    """Valid and invalid cases, with generated path parameters and with ones that find records."""
    names = [parameter.name for parameter in operation.path_parameters]
    found = {name: known[name] for name in names if name in known}
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        if found:
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=found))
    return st.one_of(strategies)


@pytest.mark.parametrize("service", ["scoring", "roadmap", "integrations"])
def test_every_operation_answers_within_its_documented_contract(service, live):
    base, known = live
    schema = schemathesis.openapi.from_url(f"{base}/{service}/schema/openapi.json")
    headers = every_role_headers()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"the {service} document lists no operations"
    failures = []
    for operation in operations:

        @given(case=cases_for(operation, known))
        @settings(
            max_examples=EXAMPLES * 4,
            suppress_health_check=list(HealthCheck),
        )
        def answers_within_contract(case) -> None:
            response = case.call(base_url=base, headers=headers)
            case.validate_response(response, checks=CHECKS, additional_checks=[errors_are_problems])

        try:
            answers_within_contract()
        except Exception as failure:  # collect every operation's failure, not only the first
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)
