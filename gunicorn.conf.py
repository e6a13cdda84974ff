"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden with an environment variable (GUNICORN_* below) or on the
command line. The app keeps no state in process memory, so any number of workers and hosts
can serve it; see README "Run it for real".
"""

import multiprocessing
import os

from deltager.serving import install_log_masking

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak can never take the service down.
max_requests = 2000
max_requests_jitter = 200
# Trust X-Forwarded-* only from the reverse proxy on this host; the app's ProxyFix
# (DELTAGER_PROXY_COUNT=1) does the rest.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
# No query string, no referrer: citizens' tokens must not end up in logs.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


def post_worker_init(worker):  # noqa: ANN001 (gunicorn hook)
    """Mask ballot-card codes in the access log of every worker."""
    install_log_masking("gunicorn.access")
