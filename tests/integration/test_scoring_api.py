"""The scoring service over HTTP against the real database: backlog, models, ranking, roles, bad input."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration

EDITOR = "programme_manager"


def idea(ref: str, **overrides):
    body = {
        "ref": ref,
        "title": f"Idea {ref}",
        "journey": {"persona": "Busy parent", "journeyStage": "onboarding", "touchpoint": "mobile app"},
        "estimates": {"customerImpact": 6, "reach": 1000, "confidence": 0.5, "effort": {"web": 2, "backend": 3}},
        "tags": ["quick-win"],
    }
    body.update(overrides)
    return body


@pytest.fixture
async def portfolio(client, token_for):
    response = await client.post(
        "/scoring/portfolios", json={"name": "Retail", "currency": "EUR"}, headers=token_for(EDITOR)
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def ideas_url(portfolio):
    return f"/scoring/portfolios/{portfolio['id']}/ideas"


@pytest.fixture
def models_url(portfolio):
    return f"/scoring/portfolios/{portfolio['id']}/models"


async def count_ideas(conn, portfolio) -> int:
    """The test portfolio's ideas, whatever other tests left behind."""
    return await conn.fetchval("SELECT count(*) FROM scoring.ideas WHERE portfolio_id = $1", uuid.UUID(portfolio["id"]))


async def test_a_portfolio_has_the_four_phases_in_order(portfolio):
    assert [phase["key"] for phase in portfolio["phases"]] == ["discovery", "improve", "perfection", "personalization"]
    assert portfolio["currency"] == "EUR" and portfolio["ideaCount"] == 0


async def test_create_read_update_and_delete_an_idea(client, token_for, ideas_url):
    created = await client.post(
        ideas_url, json=idea("I-1", phases=["perfection", "improve"]), headers=token_for(EDITOR)
    )
    assert created.status_code == 201, created.text
    assert created.json()["phases"] == ["improve", "perfection"]  # stored in time order
    assert created.json()["estimates"]["cost"] is None  # missing stays missing

    read = await client.get(f"{ideas_url}/I-1", headers=token_for("viewer"))
    assert read.json()["journey"]["persona"] == "Busy parent"

    patched = await client.patch(f"{ideas_url}/I-1", json={"title": "Clearer fees"}, headers=token_for(EDITOR))
    assert patched.status_code == 200
    assert patched.json()["title"] == "Clearer fees" and patched.json()["tags"] == ["quick-win"]

    replaced = await client.put(f"{ideas_url}/I-1", json={"title": "Only a title"}, headers=token_for("admin"))
    assert replaced.json()["estimates"]["customerImpact"] is None
    assert replaced.json()["phases"] == ["discovery", "improve", "perfection", "personalization"]

    deleted = await client.delete(f"{ideas_url}/I-1", headers=token_for(EDITOR))
    assert deleted.status_code == 204
    gone = await client.get(f"{ideas_url}/I-1", headers=token_for("viewer"))
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("application/problem+json")


async def test_list_filters_and_paginates_in_ref_order(client, token_for, ideas_url):
    bulk = [idea(f"I-{n:02d}") for n in range(1, 8)]
    bulk.append(idea("I-50", journey={"persona": "Retiree", "journeyStage": "support"}, tags=["branch"]))
    response = await client.post(f"{ideas_url}/bulk", json={"ideas": bulk}, headers=token_for(EDITOR))
    assert response.status_code == 201 and response.json()["created"] == 8

    page = await client.get(ideas_url, params={"page": 2, "pageSize": 3}, headers=token_for("viewer"))
    assert [item["ref"] for item in page.json()["items"]] == ["I-04", "I-05", "I-06"]
    assert page.json()["total"] == 8

    retirees = await client.get(ideas_url, params={"persona": "Retiree"}, headers=token_for("viewer"))
    assert [item["ref"] for item in retirees.json()["items"]] == ["I-50"]
    tagged = await client.get(
        ideas_url, params={"tag": "branch", "journeyStage": "support"}, headers=token_for("viewer")
    )
    assert tagged.json()["total"] == 1


async def test_journey_filters_match_whatever_the_case(client, token_for, ideas_url):
    bulk = [
        idea("I-1"),
        idea(
            "I-2", journey={"persona": "Retiree", "journeyStage": "Support", "touchpoint": "Branch", "department": "CX"}
        ),
    ]
    response = await client.post(f"{ideas_url}/bulk", json={"ideas": bulk}, headers=token_for(EDITOR))
    assert response.status_code == 201, response.text
    for params, refs in [
        ({"persona": "busy parent"}, ["I-1"]),  # as typed in a URL: persona=busy%20parent
        ({"persona": "BUSY PARENT", "touchpoint": "Mobile App"}, ["I-1"]),
        ({"journeyStage": "support", "touchpoint": "branch"}, ["I-2"]),
        ({"department": "cx"}, ["I-2"]),
        ({"persona": "busy"}, []),  # the whole value, not a part of it
    ]:
        found = await client.get(ideas_url, params=params, headers=token_for("viewer"))
        assert found.status_code == 200, found.text
        assert [item["ref"] for item in found.json()["items"]] == refs and found.json()["total"] == len(refs), params


async def test_bulk_create_is_all_or_nothing(client, token_for, portfolio, ideas_url, conn):
    bad = [idea("I-1"), idea("I-2", estimates={"confidence": 1.5}), idea("I-3", phases=["someday"])]
    response = await client.post(f"{ideas_url}/bulk", json={"ideas": bad}, headers=token_for(EDITOR))
    assert response.status_code in (400, 422)
    fields = {error["field"] for error in response.json()["errors"]}
    assert any("ideas[1]" in field and "confidence" in field for field in fields), fields
    assert await count_ideas(conn, portfolio) == 0


async def test_bulk_create_names_repeated_and_existing_refs(client, token_for, portfolio, ideas_url, conn):
    await client.post(ideas_url, json=idea("I-1"), headers=token_for(EDITOR))
    repeated = await client.post(
        f"{ideas_url}/bulk", json={"ideas": [idea("I-2"), idea("I-2")]}, headers=token_for(EDITOR)
    )
    assert repeated.status_code == 422
    assert repeated.json()["errors"][0]["field"] == "ideas[1].ref"
    existing = await client.post(
        f"{ideas_url}/bulk", json={"ideas": [idea("I-3"), idea("I-1")]}, headers=token_for(EDITOR)
    )
    assert existing.status_code == 409
    assert existing.json()["errors"][0]["field"] == "ideas[1].ref"
    assert await count_ideas(conn, portfolio) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**idea("I-1"), "colour": "red"}, "colour"),
        ({**idea("I-1"), "title": 42}, "title"),
        (idea("I-1", estimates={"customerImpact": 11}), "estimates.customerImpact"),
        (idea("I-1", estimates={"reach": -1}), "estimates.reach"),
        (idea("I-1", estimates={"effort": {"web": -3}}), "estimates.effort"),
        (idea("bad ref!"), "ref"),
        (idea("I-1", title=""), "title"),
        (idea("I-1", phases=[]), "phases"),
        (idea("I-1", phases=["improve", "improve"]), "phases"),
    ],
)
async def test_bad_ideas_are_refused_naming_the_field_and_nothing_is_written(
    client, token_for, portfolio, ideas_url, conn, body, field
):
    response = await client.post(ideas_url, json=body, headers=token_for(EDITOR))
    assert response.status_code in (400, 422), response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(error["field"].startswith(field) for error in problem["errors"]), problem
    assert await count_ideas(conn, portfolio) == 0


async def test_malformed_json_is_a_400_problem(client, token_for, portfolio, ideas_url, conn):
    response = await client.post(
        ideas_url, content=b'{"ref": "I-1", ', headers={**token_for(EDITOR), "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await count_ideas(conn, portfolio) == 0


async def test_an_oversize_body_is_refused(client, token_for, portfolio, ideas_url, conn, settings):
    huge = idea("I-1", description="x" * (settings.max_body_bytes + 10))
    response = await client.post(ideas_url, json=huge, headers=token_for(EDITOR))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await count_ideas(conn, portfolio) == 0


@pytest.mark.parametrize("role", ["viewer", "leader", "delivery"])
async def test_only_programme_managers_and_admins_write(client, member_of, portfolio, ideas_url, role, conn):
    response = await client.post(ideas_url, json=idea("I-1"), headers=await member_of(portfolio["id"], role))
    assert response.status_code == 403
    assert response.json()["type"].endswith("/forbidden")
    assert await count_ideas(conn, portfolio) == 0


@pytest.mark.parametrize("role", ["viewer", "stakeholder", "leader", "delivery", "programme_manager"])
async def test_every_member_reads(client, member_of, portfolio, ideas_url, role):
    assert (await client.get(ideas_url, headers=await member_of(portfolio["id"], role))).status_code == 200


async def test_an_admin_reads_every_portfolio_and_a_non_member_none(client, token_for, ideas_url):
    assert (await client.get(ideas_url, headers=token_for("admin", subject="root@example.com"))).status_code == 200
    outsider = token_for("programme_manager", "leader", subject="outsider@example.com")
    response = await client.get(ideas_url, headers=outsider)
    assert response.status_code == 404 and response.json()["type"].endswith("/not-found")


async def test_an_unknown_portfolio_is_a_404(client, token_for):
    response = await client.get(
        "/scoring/portfolios/00000000-0000-0000-0000-000000000000/ideas", headers=token_for("viewer")
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": 5000}, "pageSize"),
        ({"page": "two"}, "page"),
        ({"phase": "later"}, "phase"),
    ],
)
async def test_bad_query_parameters_are_named(client, token_for, ideas_url, params, field):
    response = await client.get(ideas_url, params=params, headers=token_for("viewer"))
    assert response.status_code in (400, 422), response.text
    assert any(field in error["field"] for error in response.json()["errors"]), response.json()


async def test_a_malformed_portfolio_id_is_a_client_error(client, token_for):
    response = await client.get("/scoring/portfolios/not-a-uuid/ideas", headers=token_for("viewer"))
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_portfolio_can_be_renamed_and_relabelled(client, token_for, portfolio):
    url = f"/scoring/portfolios/{portfolio['id']}"
    response = await client.patch(
        url, json={"name": "Retail 2027", "phaseLabels": {"improve": "Quick wins"}}, headers=token_for(EDITOR)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Retail 2027" and body["currency"] == "EUR"
    assert {phase["key"]: phase["label"] for phase in body["phases"]}["improve"] == "Quick wins"
    bad = await client.patch(url, json={"currency": "euro"}, headers=token_for(EDITOR))
    assert bad.status_code in (400, 422) and bad.json()["errors"][0]["field"] == "currency"


async def test_deleting_a_portfolio_removes_its_ideas(client, token_for, member_of, portfolio, ideas_url, conn):
    await client.post(ideas_url, json=idea("I-1"), headers=token_for(EDITOR))
    viewer = await member_of(portfolio["id"], "viewer")
    assert (await client.delete(f"/scoring/portfolios/{portfolio['id']}", headers=viewer)).status_code == 403
    assert (
        await client.delete(f"/scoring/portfolios/{portfolio['id']}", headers=token_for("admin"))
    ).status_code == 204
    assert await count_ideas(conn, portfolio) == 0


async def test_the_journey_map_lists_the_values_in_use_with_their_counts(client, token_for, ideas_url, portfolio):
    ideas = [
        {**idea("I-1"), "journey": {"persona": "Busy parent", "journeyStage": "onboarding"}, "tags": ["app", "fees"]},
        {**idea("I-2"), "journey": {"persona": "Busy parent", "touchpoint": "branch"}, "tags": ["app"]},
        {**idea("I-3"), "journey": {"persona": "Retiree", "department": "CX"}},
    ]
    response = await client.post(f"{ideas_url}/bulk", json={"ideas": ideas}, headers=token_for(EDITOR))
    assert response.status_code == 201, response.text
    journey = (await client.get(f"/scoring/portfolios/{portfolio['id']}/journey", headers=token_for("viewer"))).json()
    assert journey == {
        # Never reviewed, so a review is due (tests/integration/test_living_backlog.py reviews them).
        "personas": [
            {"value": "Busy parent", "ideas": 2, "reviewDue": True},
            {"value": "Retiree", "ideas": 1, "reviewDue": True},
        ],
        "journeyStages": [{"value": "onboarding", "ideas": 1, "reviewDue": True}],
        "touchpoints": [{"value": "branch", "ideas": 1, "reviewDue": True}],
        "channels": [],
        "departments": [{"value": "CX", "ideas": 1}],
        "tags": [{"value": "app", "ideas": 2}, {"value": "fees", "ideas": 1}, {"value": "quick-win", "ideas": 1}],
    }
