"""The job registry: one entry per metric family (STYLE.md convention 1).

Adding a job: a ``.sql`` file here, a module declaring ``JOB``, its line
below, and its golden test in ``tests/golden/``.
"""

from seamline.jobs import continuity, effort, freshness, identity, incidents, retention, silence, timeline

JOBS = {j.name: j for j in (
    identity.JOB,
    timeline.JOB,
    freshness.JOB,
    continuity.JOB,
    silence.JOB,
    effort.JOB,
    retention.JOB,
    incidents.JOB,
)}
