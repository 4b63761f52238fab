"""``seamline metrics`` for people: every KPI of the registry with its value,
the previous period of equal length, the change and whether it is more than
noise, its target, and what the number rests on — or, where there is no
number, why.  (``--json`` prints the SPEC's object instead.)"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:  # pragma: no cover
    from seamline.config import Settings
    from seamline.kpis import Kpi

# what a KPI's volume counts, for "rests on" and "no …" texts
VOLUME_WORDS = {"events": "events", "source_hours": "source-hours", "transitions": "transitions",
                "contacts": "contacts", "active_customers": "active customers", "responses": "survey answers",
                "segments.*.customers": "customers past their landmark"}


def _volume_words(kpi: "Kpi") -> str:
    key = kpi.volume or (kpi.counts[1] if kpi.counts else "")
    if key.startswith("segments.") and key != "segments.*.customers":
        return "customers past their landmark"
    return VOLUME_WORDS.get(key, key.replace("_", " "))


def _day(value: str) -> str:
    return datetime.fromisoformat(value).strftime("%Y-%m-%d")


def _last_day(value: str) -> str:
    """The period's last day, inclusive (the period is [from, to))."""
    return (datetime.fromisoformat(value) - timedelta(microseconds=1)).strftime("%Y-%m-%d")


def kpi_rows(cur: Mapping[str, Any], prev: Mapping[str, Any], settings: "Settings",
             notes: list[str] | None = None) -> list[dict[str, str]]:
    """One row of text per KPI; footnotes on values are appended to ``notes``."""
    from seamline import views
    from seamline.kpis import all_kpis

    notes = [] if notes is None else notes
    rows = []
    for k in all_kpis():
        if k.family == "retention" and ".segments." in k.key:
            continue  # per segment: the retention section below
        c = views.compare_kpi(k, cur, prev)
        n, n_prev = k.volume_of(cur), k.volume_of(prev)
        words = _volume_words(k)
        if c["value"] is None:
            value = f"– (no {words})" if n == 0 or (n is None and k.volume) else "–"
        else:
            value = views.fmt_kpi(k.unit, c["value"])
            caveat = k.caveat_of(cur)
            if caveat:
                value += "*"
                notes.append(f"* {k.label}: {caveat} (the survival measured there, carried forward)")
        if c["previous"] is None:
            previous = change = "–"
            if c["value"] is not None:
                change = "no data before"
        else:
            previous = views.fmt_kpi(k.unit, c["previous"])
            change = views.fmt_change(k.unit, c["change"])
            if c["better"] is not None:
                change += " (better)" if c["better"] else " (worse)"
            if c["p_value"] is not None:
                change += f", {views.p_text(c['p_value'])}" if c["significant"] else ", noise"
        target = k.target(settings)
        ok = views.on_target(k, c["value"], target)
        rows.append({
            "kpi": k.label,
            "value": value,
            "previous": previous,
            "change": change,
            "target": "–" if target is None else ("≥ " if k.higher_is_better else "≤ ") + views.fmt_kpi(k.unit, target)
                      + ("" if ok is None else (" met" if ok else " missed")),
            "basis": "" if n is None else f"{n:,} {words}" + ("" if n_prev is None else f" ({n_prev:,} before)"),
        })
    return rows


def _table(rows: list[dict[str, str]], columns: list[tuple[str, str]]) -> list[str]:
    widths = {key: max(len(title), *(len(r[key]) for r in rows)) for key, title in columns}
    line = "  ".join(title.ljust(widths[key]) for key, title in columns).rstrip()
    out = [line, "  ".join("-" * widths[key] for key, _ in columns)]
    out += ["  ".join(r[key].ljust(widths[key]) for key, _ in columns).rstrip() for r in rows]
    return out


def metrics_text(cur: Mapping[str, Any], prev: Mapping[str, Any], settings: "Settings") -> str:
    """The report of ``seamline metrics`` (UTC days; ``--to`` is exclusive)."""
    from seamline import views
    from seamline.kpis.retention import LANDMARKS

    p, q = cur["period"], prev["period"]
    lines = [f"KPIs for {_day(p['from'])} to {_last_day(p['to'])} (UTC, both days included), "
             f"compared with {_day(q['from'])} to {_last_day(q['to'])}", ""]
    notes: list[str] = []
    lines += _table(kpi_rows(cur, prev, settings, notes), [
        ("kpi", "KPI"), ("value", "this period"), ("previous", "previous"), ("change", "change"),
        ("target", "target"), ("basis", "based on")])
    lines += ["", *notes, "Changes marked 'noise' are within chance (two-proportion or Welch test, p ≥ 0.05)."]

    r = cur["retention"]
    lines += ["", f"Retention after the {r['landmark_days']}-day landmark, customers whose first event is in "
                  f"the period (log-rank {views.p_text(r['logrank_p'])}):"]
    carried = False
    for seg, e in r["segments"].items():
        cells = []
        for d in LANDMARKS:
            short = e.get("followup_days") is not None and e["followup_days"] < d and e.get(f"survival_{d}") is not None
            carried |= short
            cells.append(f"{d} d {views.fmt_pct(e.get(f'survival_{d}'))}{'*' if short else ''}")
        follow = "" if e.get("followup_days") is None else f"   followed up to {e['followup_days']:.1f} d"
        lines.append(f"  {seg:<11} {e['customers']:>7,} customers  {e['churned']:>6,} churned   "
                     + " · ".join(cells) + follow)
    if carried:
        lines.append("  * beyond the longest follow-up: the survival measured there, carried forward")

    inc = cur["incidents"]
    lines += ["", f"Conflicting-message incidents: {inc['total']:,}"]
    for rule, n in sorted(inc["by_rule"].items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {rule:<32} {n:>7,}")
    return "\n".join(lines)
