"""The ASGI application: front doors, hosted pages, control plane, health and metrics."""
