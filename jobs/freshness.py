from seamline.jobdef import Job

JOB = Job(
    name="freshness",
    description="lag quantiles per source x channel x hour and per source-hour (SLO)",
    schedule="*/5 * * * *",
    scope="hour",
    inputs=("events",),
    outputs=("freshness_hourly", "freshness_source_hourly"),
    statements=lambda s: [("freshness", {})],
)
