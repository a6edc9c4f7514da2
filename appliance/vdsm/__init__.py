"""The host agent (VDSM's role): libvirt, domain XML, storage volumes, host facts.

It knows nothing of users or the API; the engine drives it through ``agent_interface.HostAgent``.
"""
