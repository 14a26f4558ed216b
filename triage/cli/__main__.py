"""``python -m triage.cli``."""

from triage.cli import main

main()
