"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden with an environment variable (GUNICORN_* below) or on the
command line. The app keeps no state in process memory, so any number of workers and hosts
can serve it; see README "Run it for real".
"""

import multiprocessing
import os

from deltager.serving import hide_server_header, install_log_masking

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak can never take the service down. Now and then: at
# a busy voting meeting a worker answers 130 requests a second, and 2,000 recycled each worker
# every 15 s; every restart made the phones queued behind it wait (the ballot POST's p99 went
# from under 200 ms to 400 ms under `make bench`).
max_requests = 50_000
max_requests_jitter = 5_000
# Build the app once, in the master, and fork the workers from it. Importing and building the app
# costs about two seconds of CPU; without this every recycled worker paid it again, which at a
# busy voting meeting took a sixth of the machine's CPU. The price: a code change needs a restart
# (not a HUP), which a deployment does anyway. The engine's pool is left behind in each fork
# (post_fork), so no database connection is ever shared between processes.
preload_app = True
# Trust X-Forwarded-* only from the reverse proxy on this host; the app's ProxyFix
# (DELTAGER_PROXY_COUNT=1) does the rest.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# No "Server: gunicorn" header: it tells a scanner which server's flaws to try. The workers are forked
# from this process and inherit the change.
hide_server_header()
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
# No query string, no referrer: citizens' tokens must not end up in logs.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


def when_ready(server):  # noqa: ANN001 (gunicorn hook)
    """In the master, before the first workers are forked: warm the preloaded app (see warm_up)."""
    if server.cfg.preload_app:
        from deltager.serving import warm_up

        warm_up(server.app.wsgi())


def post_fork(server, worker):  # noqa: ANN001 (gunicorn hook)
    """Give the new worker a pool of its own: connections opened in the master stay there."""
    from deltager.db import after_fork

    after_fork(server.app.wsgi())


def post_worker_init(worker):  # noqa: ANN001 (gunicorn hook)
    """Mask the secrets in paths (card codes, sign-in and cancel tokens) in every worker's access log."""
    install_log_masking(worker.wsgi.url_map, "gunicorn.access")
