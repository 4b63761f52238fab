from seamline.jobdef import Job

JOB = Job(
    name="retention",
    description="first event, landmark, churn and first-30-day friction per customer",
    schedule="0 * * * *",
    scope="customer",
    inputs=("timeline", "transitions", "contacts"),
    outputs=("retention_customers",),
    extra_outputs=("data_bounds",),
    split_by=("timeline", "customer"),  # a full run: one range of customers at a time
    statements=lambda s: [("retention", {"landmark_days": int(s.windows.landmark_days)}), ("retention_bounds", {})],
)
