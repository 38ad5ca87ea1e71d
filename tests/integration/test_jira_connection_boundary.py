"""The trust boundary of Jira connections, through HTTP against `roadmap serve` on its own database.

The server runs as an operator would set it: secrets in a folder (`ROADMAP_SECRETS_DIR`) and in
`ROADMAP_SECRET_*` variables, and `ROADMAP_OUTBOUND_ALLOWED_HOSTS` naming the stand-in Jira, a
host that is not Jira, and a closed port. A loopback listener that nobody named stands for
everything else inside the network: whatever a user types, it must receive nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from jira_standin import JiraStandin
from listeners import HTML_NOT_FOUND, Listener, closed_port, http_answer
from live_server import serving

from services.kit import migrate
from services.kit.auth import mint_token
from services.kit.settings import AuthSettings

pytestmark = pytest.mark.integration

SIGNING_KEY = "boundary-" + "b" * 40
TOKEN_VARIABLE, WEBHOOK_VARIABLE = "ROADMAP_SECRET_BOUNDARY_JIRA_TOKEN", "ROADMAP_SECRET_BOUNDARY_WEBHOOK"


class Setup:
    """What the module's server was started with."""

    def __init__(
        self, base: str, secrets: Path, data: Path, jira: JiraStandin, others: dict[str, Listener | int]
    ) -> None:
        self.base, self.secrets, self.data, self.jira = base, secrets, data, jira
        self.unnamed: Listener = others["unnamed"]  # type: ignore[assignment]
        self.not_jira: Listener = others["not_jira"]  # type: ignore[assignment]
        self.closed: int = others["closed"]  # type: ignore[assignment]


@pytest.fixture(scope="module")
def setup(make_database, tmp_path_factory) -> Iterator[Setup]:
    url = make_database("boundary")
    migrate.upgrade(url)
    root = tmp_path_factory.mktemp("boundary")
    data, secrets = root / "data", root / "secrets"
    data.mkdir()
    secrets.mkdir()
    (data / "jwt-signing-key").write_text("a-signing-key-that-must-stay-home")
    with JiraStandin() as jira, Listener(http_answer("200 OK", b"{}")) as unnamed, Listener(HTML_NOT_FOUND) as not_jira:
        (secrets / "jira_api_token").write_text(jira.auth[1] + "\n")
        (secrets / "sub").mkdir()
        (secrets / "sub" / "token").write_text(jira.auth[1])
        (secrets / "leads_out").symlink_to(data / "jwt-signing-key")
        (secrets / "..2026_03_02").mkdir()  # a Kubernetes Secret volume: name -> ..data/name
        (secrets / "..2026_03_02" / "api-token").write_text(jira.auth[1])
        (secrets / "..data").symlink_to("..2026_03_02")
        (secrets / "api-token").symlink_to("..data/api-token")
        closed = closed_port()
        env = {
            "ROADMAP_DATABASE_URL": url, "ROADMAP_JWT_SECRET": SIGNING_KEY, "ROADMAP_DATA_DIR": str(data),
            "ROADMAP_LOG_LEVEL": "WARNING", "ROADMAP_SECRETS_DIR": str(secrets),
            "ROADMAP_OUTBOUND_ALLOWED_HOSTS": f"{jira.host}, {not_jira.host},127.0.0.1:{closed}",
            TOKEN_VARIABLE: jira.auth[1], WEBHOOK_VARIABLE: "boundary-webhook-secret",
            "ROADMAP_SECRET_WRONG_TOKEN": "not-the-api-token", "HOME": os.environ.get("HOME", "/root"),
        }  # fmt: skip
        with serving(root / "serve.log", env=env) as base:
            yield Setup(base, secrets, data, jira, {"unnamed": unnamed, "not_jira": not_jira, "closed": closed})
        assert not jira.violations, jira.violations


@pytest.fixture(scope="module")
def pm(setup) -> Iterator[httpx.Client]:
    token = mint_token(AuthSettings(signing_key=SIGNING_KEY), subject="pm@example.com", roles=["programme_manager"])
    with httpx.Client(base_url=setup.base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def portfolio_id(pm) -> str:
    response = pm.post("/scoring/portfolios", json={"name": "Boundary"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def body(setup, portfolio_id):
    def make(**overrides: str) -> dict[str, object]:
        return {"portfolioId": portfolio_id, "siteUrl": setup.jira.base_url, "projectKey": "PROJ",
                "accountEmail": setup.jira.auth[0], "apiTokenRef": f"env:{TOKEN_VARIABLE}",
                "webhookSecretRef": f"env:{WEBHOOK_VARIABLE}", **overrides}  # fmt: skip

    return make


def refused(pm: httpx.Client, body: dict[str, object], field: str) -> dict:
    """Create the connection; assert a 422 naming `field` and that nothing was stored."""
    response = pm.post("/integrations/connections", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert [error["field"] for error in problem["errors"]] == [field], problem
    assert pm.get("/integrations/connections").json() == []
    return problem


OUTSIDE = [
    "env:ROADMAP_DATABASE_URL", "env:ROADMAP_JWT_SECRET", "env:HOME", "env:ROADMAP_SECRET_", "env:roadmap_secret_wrong_token",
    "file:/proc/self/environ", "file:/etc/passwd", "file:{data}/jwt-signing-key", "file:{secrets}/../data/jwt-signing-key",
    "file:{secrets}/sub/token", "file:{secrets}/leads_out", "file:{secrets}/..data", "file:{secrets}/.hidden",
    "file:{secrets}//jira_api_token", "file:jira_api_token", "the-api-token-itself",
]  # fmt: skip


@pytest.mark.parametrize("field", ["apiTokenRef", "webhookSecretRef"])
@pytest.mark.parametrize("reference", OUTSIDE)
def test_a_secret_reference_outside_the_operators_space_is_refused_and_nothing_is_called(
    setup, pm, body, field, reference
):
    reference = reference.format(data=setup.data, secrets=setup.secrets)
    asked = sum(setup.jira.calls.values())
    problem = refused(pm, body(**{field: reference}), field)
    assert sum(setup.jira.calls.values()) == asked  # no secret travelled anywhere
    assert "a-signing-key-that-must-stay-home" not in str(problem) and setup.jira.auth[1] not in str(problem)


@pytest.mark.parametrize(
    "reference", [f"env:{TOKEN_VARIABLE}", "file:{secrets}/jira_api_token", "file:{secrets}/api-token"]
)
def test_a_reference_inside_the_space_is_read_and_checked_against_jira(setup, pm, body, reference):
    response = pm.post("/integrations/connections", json=body(apiTokenRef=reference.format(secrets=setup.secrets)))
    assert response.status_code == 201, response.text
    assert pm.delete(f"/integrations/connections/{response.json()['id']}").status_code == 204


SITES = [
    "http://127.0.0.1:{port}", "https://127.0.0.1:{port}", "http://localhost:{port}", "https://localhost:{port}",
    "https://0x7f000001:{port}", "https://2130706433:{port}", "https://017700000001:{port}", "https://127.1:{port}",
    "https://0177.0.0.1:{port}", "https://[::ffff:127.0.0.1]:{port}", "https://[::ffff:7f00:1]:{port}",
    "https://[::127.0.0.1]:{port}", "https://[::1]:{port}", "https://0.0.0.0:{port}", "https://127.0.0.1.:{port}",
    "https://169.254.169.254", "http://169.254.169.254", "https://10.0.0.1", "https://192.168.1.1", "https://172.16.0.1",
    "https://100.64.0.1", "https://[fe80::1]", "https://[fd00::1]", "https://224.0.0.1", "https://[2002:7f00:1::]:{port}",
    "https://[64:ff9b::7f00:1]:{port}", "https://localhost.:{port}", "http://jira.example.com", "ftp://jira.example.com",
    "https://user:pw@jira.example.com",
]  # fmt: skip


@pytest.mark.parametrize("site", SITES)
def test_a_site_that_is_not_public_https_is_refused_and_the_unnamed_listener_receives_nothing(setup, pm, body, site):
    refused(pm, body(siteUrl=site.format(port=setup.unnamed.port)), "siteUrl")
    assert setup.unnamed.connections == 0


def test_the_stand_in_is_reached_only_as_the_operator_named_it(setup, pm, body):
    port = setup.jira.host.split(":")[1]
    for spelling in (f"http://localhost:{port}", f"http://0x7f000001:{port}", f"https://127.0.0.1:{port}"):
        asked = sum(setup.jira.calls.values())
        refused(pm, body(siteUrl=spelling), "siteUrl")
        assert sum(setup.jira.calls.values()) == asked, spelling
    made = pm.post("/integrations/connections", json=body())
    assert made.status_code == 201, made.text
    assert pm.delete(f"/integrations/connections/{made.json()['id']}").status_code == 204


def test_a_host_that_is_not_jira_answers_exactly_as_a_closed_port_does(setup, pm, body):
    # Told apart, the answers would make the server a port scanner of the operator's network.
    not_jira = refused(pm, body(siteUrl=f"http://{setup.not_jira.host}"), "siteUrl")
    closed = refused(pm, body(siteUrl=f"http://127.0.0.1:{setup.closed}"), "siteUrl")
    assert setup.not_jira.connections >= 1  # it was asked, and what it said is nowhere
    assert not_jira == closed
    assert "internal admin" not in str(not_jira) and "404" not in str(not_jira)


def test_bad_credentials_an_unknown_project_and_a_missing_issue_type_are_named(pm, body):
    refused(pm, body(apiTokenRef="env:ROADMAP_SECRET_WRONG_TOKEN"), "apiTokenRef")
    refused(pm, body(projectKey="NOPE"), "projectKey")
    refused(pm, body(mapping={"epicIssueType": "Initiative"}), "mapping.epicIssueType")  # type: ignore[arg-type]
