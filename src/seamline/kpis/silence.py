"""Repeat contact and silence (SPEC §3): do customers have to reach out
again, and how many active customers never need to?"""

from __future__ import annotations

from typing import Any

from seamline.kpis import Family, Kpi, Period, frame, rate, sql
from seamline.jobdef import Job

# that day's counts, then the period's from its first day through that day
DAILY_COLUMNS = ["day", "active_customers", "contacts", "repeat_contacts", "active_to_date", "noisy_to_date",
                 "contacts_to_date", "repeat_contacts_to_date"]


def period(wh, settings, p: Period) -> dict[str, Any]:
    active, no_contact, silent, contacts, repeats = wh.rows(sql("silence", "period"), p.params())[0]
    active, contacts, repeats = int(active or 0), int(contacts or 0), int(repeats or 0)
    return {
        "active_customers": active,
        "contacts": contacts,
        "repeat_contacts": repeats,
        "repeat_contact_rate": rate(repeats, contacts),
        "no_contact_rate": rate(no_contact, active),
        "silence_rate": rate(silent, active),
        "contacts_per_100_customers": None if not active else 100.0 * contacts / active,
        "silent_customers": int(silent or 0),
        "no_contact_customers": int(no_contact or 0),
    }


def daily(wh, settings, p: Period):
    """Per day: that day's counts, and the tiles' rates for the period so far
    (from its first day through that day; also the effort page's chart).

    Silence is a customer's whole period (silent = never repeated anything in
    it), so a one-day rate is another measure — 83 % of a day's customers are
    silent that day where 49 % are over 30 days.  The rates "to date" are the
    tiles' definitions: the period's last day has the tiles' numbers."""
    df = frame(wh, sql("silence", "daily"), p.params(), DAILY_COLUMNS)
    df["silent_to_date"] = df["active_to_date"] - df["noisy_to_date"]
    df["repeat_contact_rate"] = df["repeat_contacts_to_date"] / df["contacts_to_date"].where(df["contacts_to_date"] > 0)
    df["silence_rate"] = df["silent_to_date"] / df["active_to_date"].where(df["active_to_date"] > 0)
    return df


FAMILY = Family(
    name="silence",
    kpis=(
        Kpi("silence.repeat_contact_rate", "repeat_contact_rate", "Repeat-contact rate", "pct", False, 0.15,
            counts=("repeat_contacts", "contacts"), tile=True, daily=True,
            definition="Share of contacts that follow a contact on the same topic by the same customer "
                       "in the {w.repeat_contact_days:g} days before"),
        Kpi("silence.silence_rate", "silence_rate", "Silence rate", "pct", True, 0.85,
            counts=("silent_customers", "active_customers"), tile=True, daily=True,
            definition="Share of active customers who never had to reach out again or repeat information"),
        Kpi("silence.no_contact_rate", "no_contact_rate", "No-contact rate", "pct", True,
            counts=("no_contact_customers", "active_customers"),
            definition="Share of active customers who did not contact support at all"),
        Kpi("silence.contacts_per_100_customers", "contacts_per_100_customers", "Contacts per 100 customers",
            "number", False, volume="active_customers",
            definition="Contacts per 100 active customers"),
    ),
    period=period,
    daily=daily,
    daily_volume="active_customers",
    costly=True,
)


# The job writing the family's rollups: its SQL is jobs/silence.sql.
JOB = Job(
    name="silence",
    description="contacts with repeat flag, per-customer-day activity",
    schedule="*/15 * * * *",
    scope="customer",
    outputs=("contacts", "customer_days"),
    inputs=("timeline",),
    split_by=("timeline", "customer"),  # a full run: one range of customers at a time
    # an increment: from the day of a customer's first new event (its window statement)
    window="silence:window",
    window_columns=(("contacts", "at"), ("customer_days", "day")),
    statements=lambda s: [("silence:contacts", {"repeat_ms": int(s.windows.repeat_contact_days * 86_400_000)})],
)
