from seamline.jobdef import Job

JOB = Job(
    name="freshness",
    description="lag quantiles per source x channel x hour (and day) and per source-hour (SLO)",
    schedule="*/5 * * * *",
    scope="hour",
    inputs=("events",),
    outputs=("freshness_hourly", "freshness_source_hourly"),
    extra_outputs=("freshness_daily", "freshness_daily_total"),  # keyed by day: the SQL rewrites the touched days
    statements=lambda s: [("freshness", {})],
)
