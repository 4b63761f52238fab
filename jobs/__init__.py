"""The job registry, in run order.

A job is SQL files here plus a declaration (``seamline.jobdef.Job``): a KPI
family's job is declared in its module in ``seamline.kpis``, beside the KPIs
it feeds, so one family is its module, its read SQL and its job SQL; the
jobs that feed every family (identity, timeline) are declared here.  Adding
a job: its ``.sql`` file, its ``JOB``, its line below, and its golden test in
``tests/golden/``.
"""

from seamline.jobs import identity, timeline
from seamline.kpis import continuity, effort, freshness, incidents, retention, silence

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
