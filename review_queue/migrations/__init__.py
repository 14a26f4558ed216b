"""Schema migrations of the case database (Alembic); run with ``triage db upgrade``."""
