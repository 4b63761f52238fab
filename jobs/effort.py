from seamline.jobdef import Job

JOB = Job(
    name="effort",
    description="survey answers (CES) with channel, topic and source",
    schedule="*/15 * * * *",
    scope="customer",
    outputs=("surveys",),
    inputs=("timeline",),
    statements=lambda s: [("effort", {})],
)
