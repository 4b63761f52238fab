"""APScheduler 3 wiring: one scheduled entry per job, schedules from the job
definitions (overridable in settings), persisted in the metadata database."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from seamline.config import Settings

log = logging.getLogger("seamline.scheduler")

_settings_for_jobs: Settings | None = None


def run_scheduled(name: str) -> None:
    """Module-level job function (APScheduler stores it as 'module:function')."""
    from seamline.metadata import Metadata
    from seamline.runner import run_jobs
    from seamline.warehouse import Warehouse

    settings = _settings_for_jobs or Settings()
    wh = Warehouse.from_settings(settings)
    md = Metadata(settings.metadata_dsn)
    results = run_jobs(wh, md, settings, [name])
    for r in results:
        log.info("job %s: %s (%s rows, %.2f s)%s", r.job, r.status, r.rows, r.seconds,
                 f" {r.error}" if r.error else "")
    from seamline.alerts import after_jobs

    after_jobs(wh, md, settings, results)


def run_scheduled_entry(ref: str, *args: object) -> None:
    """A scheduled entry of a feature (``module:function``, e.g. a source's
    sync): called with the settings, then ``args``."""
    import importlib

    module, _, function = ref.partition(":")
    getattr(importlib.import_module(module), function)(_settings_for_jobs or Settings(), *args)


def build_scheduler(settings: Settings, start: bool = True):
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    from seamline.metadata import engine_for
    from seamline.runner import registry
    from seamline.warehouse import Warehouse
    from seamline.warehouse.schema import migrate

    from seamline import governance

    global _settings_for_jobs
    _settings_for_jobs = settings
    wh = Warehouse.from_settings(settings)
    migrate(wh)
    governance.prepare(wh, settings)  # salt, blocked identifiers, retention limits, as every command
    store = SQLAlchemyJobStore(engine=engine_for(settings.metadata_dsn), tablename="scheduler_jobs")
    sched = BackgroundScheduler(
        jobstores={"default": store},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone="UTC",
    )
    sched.start(paused=True)
    wanted = set()
    for name, job in registry().items():
        job_id = f"seamline:{name}"
        wanted.add(job_id)
        sched.add_job("seamline.scheduler:run_scheduled", CronTrigger.from_crontab(job.cron(settings), timezone="UTC"),
                      args=[name], id=job_id, name=name, replace_existing=True)
    from seamline.sources import scheduled_entries

    for job_id, name, cron, ref, args in scheduled_entries(settings):
        wanted.add(job_id)
        sched.add_job("seamline.scheduler:run_scheduled_entry", CronTrigger.from_crontab(cron, timezone="UTC"),
                      args=[ref, *args], id=job_id, name=name, replace_existing=True)
    for j in sched.get_jobs():
        if j.id not in wanted:
            j.remove()
    if start:
        sched.resume()
    return sched


def run_forever(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sched = build_scheduler(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"scheduler running {len(sched.get_jobs())} jobs (pid {os.getpid()}); Ctrl-C to stop", flush=True)
    for j in sched.get_jobs():
        print(f"  {j.name:<12} next run {j.next_run_time}", flush=True)
    while not stop.is_set():
        time.sleep(0.5)
    sched.shutdown(wait=True)
