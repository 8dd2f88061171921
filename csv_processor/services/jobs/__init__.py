"""The background machinery every part shares: worker heartbeats, recovery of interrupted jobs, the
task queue (by name) and the sweep of orphaned files."""
