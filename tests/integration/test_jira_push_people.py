"""What a push carries besides the plan's shape: owners as assignees, KPI tables, departments as
labels, and the phases' dates, against the stand-in Jira (which checks every request against
Atlassian's OpenAPI document and the ADF schema)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from roadmap_fixtures import EDITOR, PHASES, scenario_body, scored_portfolio
from test_jira_push import connect, push_settings, run_and_approve, single_process, wait_for

from services.integrations.payloads import idea_label, phase_label
from services.kit import migrate

pytestmark = pytest.mark.integration

ANN = {"subject": "ann", "name": "Ann Lee", "email": "Ann@Bank.example", "department": "Customer Service"}
BOB = {"subject": "bob", "name": "Bob Stone", "email": "bob@bank.example", "department": "Cards"}
NOMAIL = {"subject": "cy", "name": "Cy Young"}
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
    "baseline": 1200,
    "target": None,
}
OWNERS = {"A1": (ANN, [NPS, CALLS]), "A2": (BOB, [NPS]), "B": (NOMAIL, []), "C": (ANN, [])}
DATES = {
    "discovery": ("2027-01-01", "2027-03-31"),
    "improve": ("2027-04-01", "2027-09-30"),
    "perfection": ("2027-10-01", "2028-06-30"),
    "personalization": ("2028-07-01", "2029-06-30"),
}


@pytest.fixture(scope="module")
def people_database_url(make_database) -> str:
    url = make_database("push_people")
    migrate.upgrade(url)
    return url


async def owned_dated_plan(http, token_for) -> tuple[dict, dict]:
    """An approved plan whose ideas have owners and KPIs, over phases with dates."""
    editor = token_for(EDITOR)
    scored = await scored_portfolio(http, token_for)
    for ref, (owner, kpis) in OWNERS.items():
        patched = await http.patch(f"{scored['base']}/ideas/{ref}", json={"owner": owner, "kpis": kpis}, headers=editor)
        assert patched.status_code == 200, patched.text
    phases = [{**phase, "start": DATES[phase["key"]][0], "end": DATES[phase["key"]][1]} for phase in PHASES]
    scenario = await http.post("/roadmap/scenarios", json=scenario_body(scored, phases=phases), headers=editor)
    assert scenario.status_code == 201, scenario.text
    plan = await run_and_approve(http, token_for, scenario.json()["id"], "Owned and dated")
    assert plan["status"] == "approved", plan
    return scored, plan


async def push(http, token_for, jira, scored, plan, *, cid: str | None = None) -> tuple[dict, dict[str, str]]:
    """Push the plan through connection `cid`, or a new one; the finished push and the issue keys."""
    editor, viewer = token_for(EDITOR), token_for("viewer")
    cid = cid or await connect(http, jira, scored["portfolioId"], editor)
    started = await http.post(f"/integrations/connections/{cid}/pushes", json={"planId": plan["id"]}, headers=editor)
    assert started.status_code == 202, started.text
    done = await wait_for(
        http, f"/integrations/pushes/{started.json()['id']}", viewer, until={"succeeded", "partial", "failed"}
    )
    assert done["status"] == "succeeded", done
    keys = {
        op.get("idea") or op["phase"]: op["issue_key"]
        for op in done["operations"]
        if op.get("issue_key") and not op.get("blocker")
    }
    return done, keys


def texts(node) -> list[str]:
    if isinstance(node, dict):
        return ([node["text"]] if node.get("type") == "text" else []) + [
            t for child in node.get("content", []) for t in texts(child)
        ]
    return []


def tables(node) -> list[list[list[str]]]:
    """Every ADF table of a document, as rows of cell texts."""
    if not isinstance(node, dict):
        return []
    if node.get("type") == "table":
        return [[[" ".join(texts(cell)) for cell in row["content"]] for row in node["content"]]]
    return [t for child in node.get("content", []) for t in tables(child)]


async def test_owners_become_assignees_kpis_a_table_departments_labels_and_phases_dates(
    people_database_url, settings, token_for, jira, monkeypatch
):
    settings = push_settings(settings, people_database_url, jira, monkeypatch)
    ann = jira.add_user("ann@bank.example", "Ann Lee")  # her address hidden, as most are
    jira.add_user("robert@bank.example", "Bob Stone", email_visible=True)  # not Bob's address: no match
    async with single_process(settings) as http:
        scored, plan = await owned_dated_plan(http, token_for)
        done, keys = await push(http, token_for, jira, scored, plan)

    planned = {a["idea"]: a["phase"] for a in plan["assignments"]}
    assert {"A1", "A2"} <= set(planned), planned  # the dependency pair is always planned in this backlog
    # One user search per distinct e-mail (Ann owns two ideas; Cy has none), one read of the fields.
    emails = {OWNERS[ref][0].get("email", "").lower() for ref in planned if ref in OWNERS} - {""}
    assert jira.calls["findUsers"] == len(emails)
    assert jira.calls["getFields"] == 1

    for ref, phase in planned.items():
        fields = jira.issue(keys[ref])["fields"]
        owner, kpis = OWNERS.get(ref, (None, []))
        assert fields["duedate"] == DATES[phase][1], ref
        assert fields["assignee"] == ({"accountId": ann} if owner is ANN else None), ref
        department = {"Customer Service": "Customer-Service", "Cards": "Cards"}.get((owner or {}).get("department"))
        assert fields["labels"] == [idea_label(scored["portfolioId"], ref), *([department] if department else [])], ref
        kpi_tables = [t for t in tables(fields["description"]) if t[0][0] == "KPI"]
        if kpis:
            assert kpi_tables == [[["KPI", "Unit", "Direction", "Baseline", "Target"],
                                   *([k["name"], k["unit"], k["direction"], f"{k['baseline']:,.2f}",
                                      f"{k['target']:,.2f}" if k["target"] is not None else ""] for k in kpis)]], ref  # fmt: skip
        else:
            assert kpi_tables == [], ref
    for phase in set(planned.values()):
        epic = jira.issue(keys[phase])["fields"]
        assert epic["labels"] == [phase_label(scored["portfolioId"], phase)]
        # Found by its name "Start date" through GET /field, whatever its id on the site.
        assert (epic["duedate"], epic["customfield_10015"]) == (DATES[phase][1], DATES[phase][0])

    unmapped = {(u["subject"], u["reason"], tuple(u["ideas"])) for u in done["unmappedOwners"]}
    expected = set()
    if "A2" in planned:
        expected.add(("bob", "no active Jira account matches this e-mail", ("A2",)))
    if "B" in planned:
        expected.add(("cy", "has no e-mail address", ("B",)))
    assert unmapped == expected


async def test_a_site_without_a_start_date_field_gets_due_dates_only(
    people_database_url, settings, token_for, jira, monkeypatch
):
    settings = push_settings(settings, people_database_url, jira, monkeypatch)
    jira.without_start_date_field()
    async with single_process(settings) as http:
        scored, plan = await owned_dated_plan(http, token_for)
        _, keys = await push(http, token_for, jira, scored, plan)
    assert jira.calls["getFields"] == 1
    for phase in {a["phase"] for a in plan["assignments"]}:
        epic = jira.issue(keys[phase])["fields"]
        assert epic["duedate"] == DATES[phase][1] and epic.get("customfield_10015") is None


async def test_the_delivery_view_has_a_row_per_idea_and_shows_what_is_late_by_the_clock(
    people_database_url, settings, token_for, jira, monkeypatch
):
    settings = push_settings(settings, people_database_url, jira, monkeypatch)
    ann = jira.add_user("ann@bank.example", "Ann Lee")
    now = [datetime(2027, 10, 15, 9, 0, tzinfo=UTC)]  # improve ended on 30 September; perfection runs on
    editor, viewer = token_for(EDITOR), token_for("viewer")
    async with single_process(settings, clock=lambda: now[0]) as http:
        scored, plan = await owned_dated_plan(http, token_for)
        _, keys = await push(http, token_for, jira, scored, plan)
        jira.set_status(keys["A1"], "Done")
        refreshed = await http.post(f"/integrations/plans/{plan['id']}/delivery/refresh", headers=editor)
        assert refreshed.status_code == 200, refreshed.text
        october = (await http.get(f"/integrations/plans/{plan['id']}/delivery", headers=viewer)).json()
        now[0] = datetime(2028, 7, 1, 0, 0, tzinfo=UTC)  # the day after perfection ended
        july = (await http.get(f"/integrations/plans/{plan['id']}/delivery", headers=viewer)).json()

    planned = {a["idea"]: a["phase"] for a in plan["assignments"]}
    order = [p["key"] for p in PHASES]
    expected = sorted(planned, key=lambda ref: (order.index(planned[ref]), ref))
    assert [row["ref"] for row in october["ideaRows"]] == expected
    a1 = next(row for row in october["ideaRows"] if row["ref"] == "A1")
    assert {k: a1[k] for k in ("ref", "title", "owner", "phase", "issueKey", "statusCategory", "due", "late")} == {
        "ref": "A1", "title": "Idea A1", "owner": ANN, "phase": planned["A1"], "issueKey": keys["A1"],
        "statusCategory": "done", "due": DATES[planned["A1"]][1], "late": False}  # fmt: skip
    # The row reads as the plan's row of the idea does.
    (plan_row,) = [a for a in plan["assignments"] if a["idea"] == "A1"]
    assert (a1["persona"], a1["journeyStage"], a1["cost"]) == (
        plan_row["persona"],
        plan_row["journeyStage"],
        plan_row["cost"],
    )
    assert a1["value"] == pytest.approx(plan_row["value"]) and a1["persona"] is not None
    assert [k["key"] for k in a1["kpis"]] == [k["key"] for k in plan_row["kpis"]]
    assert assignee_of(jira, keys["A1"]) == ann

    def late(view, today):
        return {row["ref"] for row in view["ideaRows"] if row["late"]}, {
            ref for ref, phase in planned.items() if ref != "A1" and DATES[phase][1] < today
        }

    shown, due = late(october, "2027-10-15")
    assert shown == due and october["late"] == len(due) and october["asOf"] == "2027-10-15"
    shown, due = late(july, "2028-07-01")
    assert shown == due and july["late"] == len(due) >= october["late"]
    assert "A2" in shown  # not done, and whichever phase holds it had ended by July 2028
    assert {p["phase"]: (p["late"], p["end"]) for p in july["phases"]} == {
        phase: (sum(1 for ref in due if planned[ref] == phase), DATES[phase][1]) for phase in set(planned.values())
    }


def assignee_of(jira, key: str) -> str | None:
    assignee = jira.issue(key)["fields"]["assignee"]
    return assignee["accountId"] if assignee else None


async def test_a_changed_department_replaces_its_label_and_labels_people_added_stay(
    people_database_url, settings, token_for, jira, monkeypatch
):
    settings = push_settings(settings, people_database_url, jira, monkeypatch)
    editor = token_for(EDITOR)
    async with single_process(settings) as http:
        scored, plan = await owned_dated_plan(http, token_for)
        cid = await connect(http, jira, scored["portfolioId"], editor)
        _, keys = await push(http, token_for, jira, scored, plan, cid=cid)
        assert "A1" in keys, "A1 is planned in improve"
        assert "Customer-Service" in jira.issue(keys["A1"])["fields"]["labels"]
        jira.add_label(keys["A1"], "team-favourite")  # someone adds a label of their own in Jira

        moved = {**ANN, "department": "Digital Channels"}
        patched = await http.patch(f"{scored['base']}/ideas/A1", json={"owner": moved}, headers=editor)
        assert patched.status_code == 200, patched.text
        # A scenario freezes its ideas' owners: a new one over the same scores sees the move.
        phases = [{**phase, "start": DATES[phase["key"]][0], "end": DATES[phase["key"]][1]} for phase in PHASES]
        scenario = await http.post("/roadmap/scenarios", json=scenario_body(scored, phases=phases), headers=editor)
        assert scenario.status_code == 201, scenario.text
        newer = await run_and_approve(http, token_for, scenario.json()["id"], "Moved")
        (a1,) = [a for a in newer["assignments"] if a["idea"] == "A1"]
        assert a1["owner"]["department"] == "Digital Channels", a1
        _, again = await push(http, token_for, jira, scored, newer, cid=cid)

    assert again["A1"] == keys["A1"], "the same issue is updated, not a new one made"
    labels = jira.issue(keys["A1"])["fields"]["labels"]
    assert "Digital-Channels" in labels and "team-favourite" in labels
    assert "Customer-Service" not in labels
    assert idea_label(scored["portfolioId"], "A1") in labels
