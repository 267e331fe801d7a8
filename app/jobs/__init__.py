"""Scheduled and background work: one registry of jobs (registry.py), the lease that runs each
once per period (runner.py), and the queue and worker process that run them (queue.py)."""
