from seamline.jobdef import Job


def _run(wh, settings, full, batches, since):
    from seamline.governance.guards import sync_blocklist
    from seamline.identity import claim_changes, resolve

    # the configured blocked identifiers reach the loads and the edges read below (migration 0020)
    sync_blocklist(wh, settings)
    changed = resolve(wh, None if full else batches, since).changed_idents
    claim_changes(wh, batches)  # the run's change batch is recorded with its load batches
    return changed


JOB = Job(
    name="identity",
    description="connected components of identifiers -> customer keys (SPEC §2)",
    schedule="*/5 * * * *",
    scope="global",
    inputs=("identity_edges_committed",),
    outputs=("identity_map", "identity_changes"),
    run=_run,
)
