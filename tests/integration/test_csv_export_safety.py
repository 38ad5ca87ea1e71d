"""The CSV export as a spreadsheet opens it: no cell runs as a formula, one charset in its Content-Type."""

from __future__ import annotations

import csv
import io

import pytest

pytestmark = pytest.mark.integration

RISKY_TITLES = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", '\t=HYPERLINK("http://x")', "\r=cmd|' /C calc'!A0"]


async def test_cells_a_spreadsheet_would_run_are_defused_and_come_back_as_they_were(client, token_for):
    editor = token_for("programme_manager")
    made = await client.post("/scoring/portfolios", json={"name": "Sheet"}, headers=editor)
    url = f"/scoring/portfolios/{made.json()['id']}"
    ideas = [{"ref": f"R-{n}", "title": title} for n, title in enumerate(RISKY_TITLES)]
    assert (await client.post(f"{url}/ideas/bulk", json={"ideas": ideas}, headers=editor)).status_code == 201
    exported = await client.get(f"{url}/ideas.csv", headers=editor)
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(exported.text, newline="")))
    assert sorted(row["title"] for row in rows) == sorted("'" + title for title in RISKY_TITLES)

    copy = await client.post("/scoring/portfolios", json={"name": "Copy"}, headers=editor)
    copy_url = f"/scoring/portfolios/{copy.json()['id']}"
    imported = await client.post(
        f"{copy_url}/ideas.csv", content=exported.content, headers={**editor, "Content-Type": "text/csv"}
    )
    assert imported.status_code == 200, imported.text
    titles = [idea["title"] for idea in (await client.get(f"{copy_url}/ideas", headers=editor)).json()["items"]]
    assert sorted(titles) == sorted(RISKY_TITLES)
