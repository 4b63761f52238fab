from seamline.jobdef import Job


def _statements(settings):
    out = []
    for rule in settings.active_rules():
        params = {
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
    return out


JOB = Job(
    name="incidents",
    description="conflicting-message incidents from the configured rules",
    schedule="*/10 * * * *",
    scope="customer",
    outputs=("incidents",),
    inputs=("timeline",),
    # A full run holds one range of customers' messages in a join at a time,
    # so the contradiction rule's join does not hold every customer's messages.
    split_by=("timeline", "customer"),
    statements=_statements,
)
