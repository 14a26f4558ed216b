"""crisis-triage: review_queue."""
