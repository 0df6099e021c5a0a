"""Background jobs: video analyses and photo batches (issue 12).

Two backends, chosen by configuration, behind one :class:`~portal.jobs.service.JobService`:

* **embedded** (default): the server's own ``ProcessPoolExecutor`` (``JOB_WORKERS`` processes);
  on start-up, jobs left ``running`` by a crashed server are re-queued and resubmitted;
* **celery** (``REDIS_URL`` set): tasks go to Celery on Redis and run on ``make worker`` processes
  (any machine that reaches Redis, the database and ``DATA_DIR``).

The database is the source of truth (``db.jobs``): status, progress, error, attempts, worker.
A worker claims a job with one conditional UPDATE, writes progress + heartbeat twice a second
and stops when that write says the job was cancelled.
"""
from portal.jobs.settings import JobSettings  # noqa: F401
