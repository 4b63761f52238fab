from seamline.jobdef import Job

JOB = Job(
    name="timeline",
    description="events with their customer key, in (customer, time) order, read by the metric jobs",
    schedule="*/5 * * * *",
    scope="customer",
    event_log=True,
    outputs=("timeline",),
    depends_on=("identity",),
    statements=lambda s: [("timeline", {})],
)
