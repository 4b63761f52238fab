from seamline.jobdef import Job

# A full run computes the hourly rows in parts of the months of events, so it
# holds the sorted lags of a few months at a time, not of the whole history.
FRESHNESS_PARTS = 6

JOB = Job(
    name="freshness",
    description="lag quantiles per source x channel x hour (and day) and per source-hour (SLO)",
    schedule="*/5 * * * *",
    scope="hour",
    inputs=("events",),
    outputs=("freshness_hourly", "freshness_source_hourly"),
    extra_outputs=("freshness_daily", "freshness_daily_total"),
    keyed_by=(("freshness_daily", "day"), ("freshness_daily_total", "day")),  # an increment rewrites its days
    statements=lambda s: [("freshness", {"part": 0, "parts": 1}), ("freshness_daily", {})],
    full_statements=lambda s: [("freshness", {"part": p, "parts": FRESHNESS_PARTS}) for p in range(FRESHNESS_PARTS)]
    + [("freshness_daily", {})],
)
