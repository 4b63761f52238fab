from seamline.jobdef import Job


def _statements(settings, full):
    """One statement per active rule.  A full run's rules read the timeline; an
    incremental run's read one staged copy of its customers' messages,
    triggers and contacts (the scattered attrs are read once, not per rule)."""
    rules = settings.active_rules()
    if not rules:
        return []
    types = {"message"} | {r.trigger_type for r in rules if r.template == "after_trigger"}
    if any(r.template == "during_open_case" for r in rules):
        types.add("contact")
    out = [] if full else [("incidents_stage", {"types": sorted(types)})]
    src = "timeline" if full else "_incidents_stage"
    for rule in rules:
        params = {
            "src": src,
            "rule": rule.name,
            "window_ms": int(rule.window_hours * 3_600_000),
            "msg_keys": list(rule.message.keys()),
            "msg_values": list(rule.message.values()),
        }
        if rule.template == "after_trigger":
            params |= {"trigger_type": rule.trigger_type, "match_keys": list(rule.match)}
        elif rule.template == "during_open_case":
            params |= {"case_topic": rule.case_topic}
        elif rule.template == "contradiction":
            params |= {"same": rule.same, "differ": rule.differ}
        out.append((f"incidents_{rule.template}", params))
    return out if full else out + [("incidents_unstage", {})]


JOB = Job(
    name="incidents",
    description="conflicting-message incidents from the configured rules",
    schedule="*/10 * * * *",
    scope="customer",
    outputs=("incidents",),
    inputs=("timeline",),
    depends_on=("identity", "timeline"),
    statements=_statements,
)
