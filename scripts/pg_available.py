"""Exit 0 if a PostgreSQL server answers at the given SQLAlchemy URL, 1 otherwise."""

import sys

try:
    import psycopg
except ImportError:
    sys.exit(1)

url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
try:
    psycopg.connect(url, connect_timeout=3).close()
except Exception:  # any failure to connect means: no server for us
    sys.exit(1)
sys.exit(0)
