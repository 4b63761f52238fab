"""Increments that follow the new events (issue 26): a job with a window
recomputes each customer from the first thing a new event can change, not
the whole history.  Hand-computed windows at their boundaries, and
incremental == full on a long history fed hour by hour with late events and
identity merges."""

from __future__ import annotations

import gzip
import json
import random
import time
from datetime import datetime, timedelta, timezone

import pytest

from seamline import scopes
from seamline.load import load_file
from seamline.runner import run_jobs
from seamline.sample import generate

from test_jobs import snapshot, write_parts

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)


def ev(eid: str, at: datetime, cust: str | None = None, channel: str = "web", type_: str = "page_view", **more):
    e = {"event_id": eid, "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "source": channel,
         "channel": channel, "direction": "inbound", "type": type_}
    if cust:
        e["customer_id"] = cust
    return e | more


def load(wh, tmp_path, name: str, events: list[dict]) -> None:
    path = tmp_path / name
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    assert load_file(wh, path, "test-salt", progress=False).quarantined == 0
    time.sleep(0.01)  # loaded_at strictly after the previous run


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


@pytest.fixture
def all_windows(monkeypatch):
    """Each increment's windows, as the runs computed them: per job, a list
    of {customer: (from_ms, read_ms)}."""
    seen: dict[str, list[dict[str, tuple[int, int]]]] = {}
    drop = scopes.Window.drop

    def keep_then_drop(self):
        if self.wh.table_exists(self.table):
            rows = self.wh.rows("SELECT customer, from_ms, read_ms FROM {t:Identifier}", {"t": self.table})
            if rows:
                seen.setdefault(self.job.name, []).append({c: (f, r) for c, f, r in rows})
        drop(self)

    monkeypatch.setattr(scopes.Window, "drop", keep_then_drop)
    return seen


def continuity(all_windows) -> list[dict[str, int]]:
    """Each increment's continuity window: {customer: from_ms}."""
    runs = all_windows.get("continuity", [])
    assert all(f == r for w in runs for f, r in w.values())  # continuity reads from where it replaces
    return [{c: f for c, (f, _) in w.items()} for w in runs]


def test_continuity_recomputes_from_the_journey_a_new_event_can_change(wh, md, settings, tmp_path, all_windows):
    gap = timedelta(hours=settings.windows.journey_gap_hours)
    j1, j2 = T0, T0 + 5 * 24 * H  # A: two journeys, 5 days apart
    load(wh, tmp_path, "history.jsonl", [
        ev("a1", j1, "A"), ev("a2", j1 + H, "A", "chat", "contact", topic="billing"),
        ev("a3", j2, "A"), ev("a4", j2 + H, "A", "app", "login"),
        ev("b1", j1, "B"), ev("c1", j1, "C"), ev("d1", j1, "D"), ev("m1", j1, "M"),
        ev("n1", j1 + 2 * H, anonymous_id="dev-n"),
    ])
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))

    load(wh, tmp_path, "hour.jsonl", [
        # A: 1 h after its last journey: that journey is recomputed from its start
        ev("a5", j2 + 2 * H, "A", "phone", "contact", topic="billing"),
        # B: exactly the gap after its journey's end still joins it; C: 1 ms more starts a new one
        ev("b2", j1 + gap, "B", "app", "login"),
        ev("c2", j1 + gap + timedelta(milliseconds=1), "C", "app", "login"),
        # D: a late event, before its only journey
        ev("d0", j1 - 3 * H, "D", "email", "contact", topic="order"),
        # M merges with the anonymous visitor N: both recomputed whole
        ev("m2", j1 + 3 * H, "M", anonymous_id="dev-n"),
    ])
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))
    (window,) = continuity(all_windows)
    assert window == {"A": ms(j2), "B": ms(j1), "C": ms(j1 + gap + timedelta(milliseconds=1)),
                      "D": ms(j1 - 3 * H), "M": 0, "dev-n": 0}
    incremental = snapshot(wh)
    run_jobs(wh, md, settings, full=True)
    assert snapshot(wh) == incremental
    # what the windows gave: A's second journey now holds three touches and two
    # transitions; B is one journey, C two
    journeys = {c: n for c, n in wh.rows("SELECT customer, count() FROM journeys GROUP BY customer")}
    assert (journeys["A"], journeys["B"], journeys["C"], journeys["D"]) == (2, 1, 2, 1)
    assert wh.scalar("SELECT count() FROM transitions WHERE customer = 'A' AND at >= {t:DateTime64(3, 'UTC')}",
                     {"t": j2}) == 2


def _hours(src, tmp_path, parts: int, seed: int, late: float) -> list:
    """The sample in time order, cut into ``parts`` loads; a share ``late``
    of the events arrives in a later load than its time says."""
    lines = gzip.open(src, "rt", encoding="utf-8").read().splitlines()
    lines.sort(key=lambda ln: json.loads(ln)["occurred_at"])
    rng = random.Random(seed)
    chunks: list[list[str]] = [[] for _ in range(parts)]
    for i, line in enumerate(lines):
        k = i * parts // len(lines)
        if rng.random() < late:
            k = rng.randrange(k, parts)
        chunks[k].append(line)
    return write_parts(tmp_path, chunks, "step")


def test_incremental_equals_full_on_a_long_history_fed_in_steps(wh, md, settings, tmp_path, all_windows):
    sample = generate(tmp_path / "events.jsonl.gz", customers=60, days=45, seed=5, bad_rows=False).path
    steps = _hours(sample, tmp_path, parts=9, seed=5, late=0.03)
    for step in steps:
        load_file(wh, step, settings.hash_salt, progress=False)
        assert all(r.status == "success" for r in run_jobs(wh, md, settings))
        time.sleep(0.01)
    # the increments went back only part of the way for most customers
    later = continuity(all_windows)[-3:] + [{c: f for c, (f, _) in w.items()} for w in all_windows['silence'][-3:]]
    assert later and all(any(f > 0 for f in w.values()) for w in later)
    incremental = snapshot(wh)
    assert sum(len(v) for v in incremental.values()) > 1000
    run_jobs(wh, md, settings, full=True)
    assert snapshot(wh) == incremental


def test_silence_recomputes_from_the_day_of_the_first_new_event_and_looks_back_a_repeat_window(
        wh, md, settings, tmp_path, all_windows):
    repeat = timedelta(days=settings.windows.repeat_contact_days)
    day1 = T0
    load(wh, tmp_path, "history.jsonl", [
        ev("s1", day1, "S", "chat", "contact", topic="billing"),
        ev("s9", day1 + 8 * 24 * H, "S", "phone", "contact", topic="billing"),  # 8 days later: no repeat
        ev("s10", day1 + 8 * 24 * H + H, "S", "phone", "contact", topic="order"),
    ])
    run_jobs(wh, md, settings)
    assert wh.rows("SELECT event_id, is_repeat FROM contacts ORDER BY at") == [("s1", 0), ("s9", 0), ("s10", 0)]

    # a late contact 2 days after the first: it repeats the first, and the
    # contact 6 days after it now repeats it
    late = day1 + 2 * 24 * H
    load(wh, tmp_path, "late.jsonl", [ev("s3", late, "S", "email", "contact", topic="billing")])
    run_jobs(wh, md, settings)
    (window,) = all_windows["silence"]
    start_of_day = datetime(late.year, late.month, late.day, tzinfo=timezone.utc)
    assert window == {"S": (ms(start_of_day), ms(start_of_day - repeat))}
    assert wh.rows("SELECT event_id, is_repeat, prev_event_id FROM contacts ORDER BY at") == [
        ("s1", 0, ""), ("s3", 1, "s1"), ("s9", 1, "s3"), ("s10", 0, "")]
    days = wh.rows("SELECT day, contacts, repeat_contacts FROM customer_days ORDER BY day")
    assert [(d.isoformat(), c, r) for d, c, r in days] == [
        (day1.date().isoformat(), 1, 0), (late.date().isoformat(), 1, 1), ((day1 + 8 * 24 * H).date().isoformat(), 2, 1)]
    incremental = snapshot(wh)
    run_jobs(wh, md, settings, full=True)
    assert snapshot(wh) == incremental
