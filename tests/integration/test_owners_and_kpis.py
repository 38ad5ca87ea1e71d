"""Idea owners and KPIs over HTTP: JSON and CSV round trips, filters, bad input named by field."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

EDITOR = "programme_manager"
ANN = {"subject": "ann", "name": "Ann Lee", "email": "ann@bank.example", "department": "Cards"}
NPS = {
    "key": "nps",
    "name": "Net promoter score",
    "unit": "points",
    "direction": "increase",
    "baseline": 31,
    "target": 40,
}
CALLS = {
    "key": "calls",
    "name": "Calls about fees",
    "unit": "calls/month",
    "direction": "decrease",
    "baseline": 1200.5,
    "target": None,
}


async def new_portfolio(client, token_for) -> str:
    response = await client.post("/scoring/portfolios", json={"name": "Owned"}, headers=token_for(EDITOR))
    assert response.status_code == 201, response.text
    return f"/scoring/portfolios/{response.json()['id']}"


def idea(ref: str, **fields):
    return {"ref": ref, "title": f"Idea {ref}", "phases": ["improve"], **fields}


async def test_owner_and_kpis_round_trip_through_json(client, token_for):
    base = await new_portfolio(client, token_for)
    headers = token_for(EDITOR)
    created = await client.post(f"{base}/ideas", json=idea("O-1", owner=ANN, kpis=[NPS, CALLS]), headers=headers)
    assert created.status_code == 201, created.text
    read = (await client.get(f"{base}/ideas/O-1", headers=headers)).json()
    assert read["owner"] == ANN
    assert read["kpis"] == [{**NPS, "baseline": 31.0, "target": 40.0}, CALLS]

    # A patch that names only the owner keeps the KPIs; `null` takes the owner away.
    patched = await client.patch(f"{base}/ideas/O-1", json={"owner": None}, headers=headers)
    assert patched.status_code == 200, patched.text
    assert patched.json()["owner"] is None and len(patched.json()["kpis"]) == 2


async def test_filters_by_owner_department_and_no_owner(client, token_for):
    base = await new_portfolio(client, token_for)
    headers = token_for(EDITOR)
    bob = {"subject": "bob", "name": "Bob Marsh", "department": "Branches"}
    ideas = [
        idea("F-1", owner=ANN),
        idea("F-2", owner=bob, journey={"department": "Cards"}),
        idea("F-3"),
        idea("F-4", owner=bob),
    ]
    assert (await client.post(f"{base}/ideas/bulk", json={"ideas": ideas}, headers=headers)).status_code == 201

    async def refs(**params) -> list[str]:
        response = await client.get(f"{base}/ideas", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["ref"] for item in response.json()["items"]]

    assert await refs(owner="bob") == ["F-2", "F-4"]
    assert await refs(owner="ANN@bank.example") == ["F-1"]  # e-mail, ignoring case
    assert await refs(owner="Ann Lee") == ["F-1"]
    # The idea's owning department, or its owner's.
    assert await refs(department="Cards") == ["F-1", "F-2"]
    assert await refs(department="Branches") == ["F-2", "F-4"]
    assert await refs(withoutOwner="true") == ["F-3"]


async def test_owner_and_kpis_round_trip_through_csv(client, token_for):
    source = await new_portfolio(client, token_for)
    headers = token_for(EDITOR)
    odd = {
        "key": "wait.s",
        "name": "Wait: at; the branch",
        "unit": "",
        "direction": "decrease",
        "baseline": None,
        "target": 90,
    }
    ideas = [idea("C-1", owner=ANN, kpis=[NPS, odd]), idea("C-2", owner={"subject": "x", "name": "X"}), idea("C-3")]
    assert (await client.post(f"{source}/ideas/bulk", json={"ideas": ideas}, headers=headers)).status_code == 201
    exported = await client.get(f"{source}/ideas.csv", headers=headers)
    header = exported.text.splitlines()[0]
    assert header.endswith("owner_subject,owner_name,owner_email,owner_department,kpis")
    assert "nps:Net promoter score:points:increase:31:40;wait.s:Wait\\: at\\; the branch::decrease::90" in exported.text

    target = await new_portfolio(client, token_for)
    imported = await client.post(
        f"{target}/ideas.csv", content=exported.text, headers={**headers, "Content-Type": "text/csv"}
    )
    assert imported.status_code == 200, imported.text

    def accountable(page) -> list:
        return [(item["ref"], item["owner"], item["kpis"]) for item in page["items"]]

    before = (await client.get(f"{source}/ideas", headers=headers)).json()
    after = (await client.get(f"{target}/ideas", headers=headers)).json()
    assert accountable(after) == accountable(before)
    assert accountable(after)[1][1] == {"subject": "x", "name": "X", "email": None, "department": None}

    # An upsert with only the owner's name changes the name and keeps the rest of the owner.
    renamed = "ref,title,owner_subject,owner_name\r\nC-1,Idea C-1,ann,Ann Lee-Smith\r\n"
    upsert = await client.post(
        f"{target}/ideas.csv?mode=upsert", content=renamed, headers={**headers, "Content-Type": "text/csv"}
    )
    assert upsert.status_code == 200, upsert.text
    owner = (await client.get(f"{target}/ideas/C-1", headers=headers)).json()["owner"]
    assert owner == {**ANN, "name": "Ann Lee-Smith"}


async def test_bad_owners_and_kpis_are_named_and_nothing_is_written(client, token_for, conn):
    base = await new_portfolio(client, token_for)
    headers = token_for(EDITOR)
    cases = [
        # Litestar's decoder names a missing nested field without its parent.
        ({"owner": {"name": "No subject"}}, "subject"),
        ({"owner": {**ANN, "email": "not-an-address"}}, "owner.email"),
        ({"kpis": [NPS, {**CALLS, "key": "nps"}]}, "kpis[1].key"),
        ({"kpis": [{**NPS, "direction": "up"}]}, "kpis[0].direction"),
        ({"kpis": [{**NPS, "key": "bad key!"}]}, "kpis[0].key"),
    ]
    for fields, field in cases:
        response = await client.post(f"{base}/ideas", json=idea("B-1", **fields), headers=headers)
        assert response.status_code == 422, (fields, response.text)
        assert field in [error["field"] for error in response.json()["errors"]], (fields, response.json())
    bad_csv = "ref,title,owner_name,kpis\r\nB-2,x,Ann,\r\nB-3,y,,nps:NPS:pts:increase:abc:\r\n"
    response = await client.post(f"{base}/ideas.csv", content=bad_csv, headers={**headers, "Content-Type": "text/csv"})
    assert response.status_code == 422, response.text
    assert [(error["row"], error["column"]) for error in response.json()["errors"]] == [
        (2, "owner_subject"),
        (3, "kpis"),
    ]
    assert (await client.get(f"{base}/ideas", headers=headers)).json()["total"] == 0
