"""The network step: NetworkManager over D-Bus (dbus-next), the ``ovirtmgmt`` bridge, and a
checkpoint that NetworkManager rolls back by itself unless the wizard confirms connectivity."""
