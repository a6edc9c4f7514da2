"""``/vms`` and everything below ``/vms/{id}``: one module per sub-collection or verb group,
each registered in ``appliance/api/__init__.py``."""
