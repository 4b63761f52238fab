from seamline.jobdef import Job

JOB = Job(
    name="silence",
    description="contacts with repeat flag, per-customer-day activity",
    schedule="*/15 * * * *",
    scope="customer",
    outputs=("contacts", "customer_days"),
    inputs=("timeline",),
    split_by=("timeline", "customer"),  # a full run: one range of customers at a time
    # an increment: from the day of a customer's first new event (silence_window.sql)
    window="silence_window",
    window_columns=(("contacts", "at"), ("customer_days", "day")),
    statements=lambda s: [("silence", {"repeat_ms": int(s.windows.repeat_contact_days * 86_400_000)})],
)
