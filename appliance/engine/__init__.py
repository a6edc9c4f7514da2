"""The engine: object model, store, services, jobs and reconciliation with the hosts."""
