"""What a deployer sees: structured logs with request ids (logs.py), Prometheus metrics
(metrics.py), and the /healthz, /readyz and /metrics endpoints (views.py)."""
