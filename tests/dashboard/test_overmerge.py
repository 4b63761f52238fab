"""A suspected over-merge (SPEC §2) on the executive overview, in headless
Chromium against the real server: a phone number shared by seven customers
(a placeholder nobody blocked) joins them into one component over the limit;
the overview lists it, the customer masked unless identifiers are shown."""

from __future__ import annotations

import json

import pytest

from conftest import ServerThread, build_data_dir
from test_browser import assert_clean, browser, open_page, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

LIMIT = 5


def _events(path):
    rows = []
    for i in range(7):  # seven people, each with a device, all giving the shop's hotline as their phone
        at = f"2026-10-0{i + 1}T10:00:00.000Z"
        rows.append({"event_id": f"s{i}", "occurred_at": at, "source": "web", "channel": "web",
                     "direction": "inbound", "type": "signup", "customer_id": f"C{i:02d}",
                     "anonymous_id": f"dev-{i}", "phone": "+1 800 555 0100"})
    rows.append({"event_id": "x", "occurred_at": "2026-10-02T10:00:00.000Z", "source": "web", "channel": "web",
                 "direction": "inbound", "type": "login", "customer_id": "Z-alone"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    d = tmp_path_factory.mktemp("overmerge")
    build_data_dir(d, _events(d / "events.jsonl"))
    s = ServerThread(d, identity_max_identifiers=LIMIT)
    yield s
    s.stop()


def test_the_overview_lists_suspected_over_merges(srv, page):
    open_page(page, srv.url + "/?period=custom&from=2026-10-01&to=2026-10-07")
    card = page.locator(".card", has=page.locator("h3", has_text="Suspected over-merges"))
    text = card.inner_text()
    assert f"more than {LIMIT} identifiers" in text and "seamline identity explain" in text
    assert "C00" not in text  # the component's key (its smallest customer id), masked
    cells = card.locator("td.dash-cell").all_inner_texts()
    assert "15" in cells  # 7 customer ids + 7 devices + the shared phone
    open_page(page, srv.url + "/?period=custom&from=2026-10-01&to=2026-10-07&ids=1")
    card = page.locator(".card", has=page.locator("h3", has_text="Suspected over-merges"))
    assert "C00" in card.locator("td.dash-cell").all_inner_texts()
    assert "Z-alone" not in card.inner_text()  # a customer within the limit is not listed
    assert_clean(page)
