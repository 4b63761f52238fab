"""Repeat contact and silence (SPEC §3): do customers have to reach out
again, and how many active customers never need to?"""

from __future__ import annotations

from typing import Any

from seamline.kpis import Family, Kpi, Period, frame, rate, sql

DAILY_COLUMNS = ["day", "active_customers", "contacts", "repeat_contacts", "silent_customers"]


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
    """Per day: the counts and their rates (also the effort page's silence chart)."""
    df = frame(wh, sql("silence", "daily"), p.params(), DAILY_COLUMNS)
    df["repeat_contact_rate"] = df["repeat_contacts"] / df["contacts"].where(df["contacts"] > 0)
    df["silence_rate"] = df["silent_customers"] / df["active_customers"].where(df["active_customers"] > 0)
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
