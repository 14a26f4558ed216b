"""crisis-triage: policies."""
