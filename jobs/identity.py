from seamline.jobdef import Job


def _run(wh, settings, full, batches, since):
    from seamline.identity import resolve

    return resolve(wh, None if full else batches, since).changed_idents


JOB = Job(
    name="identity",
    description="connected components of identifiers -> customer keys (SPEC §2)",
    schedule="*/5 * * * *",
    scope="global",
    inputs=("identity_edges_committed",),
    outputs=("identity_map", "identity_changes"),
    run=_run,
)
