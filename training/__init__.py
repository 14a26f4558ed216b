"""crisis-triage: training."""
