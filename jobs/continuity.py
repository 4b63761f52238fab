from seamline.jobdef import Job

JOB = Job(
    name="continuity",
    description="journeys (gap split), touches, transitions and their friction",
    schedule="*/15 * * * *",
    scope="customer",
    outputs=("transitions", "journeys"),
    inputs=("timeline",),
    split_by=("timeline", "customer"),  # a full run: one range of customers at a time
    # an increment: from the first journey a new event can change (continuity_window.sql)
    window="continuity_window",
    window_columns=(("transitions", "at"), ("journeys", "start_at")),
    statements=lambda s: [("continuity", {
        "gap_ms": int(s.windows.journey_gap_hours * 3_600_000),
        "friction_ms": int(s.windows.friction_minutes * 60_000),
    })],
)
