"""VirtStick appliance: the oVirt-style engine and the VDSM host agent in one service."""

__version__ = "0.1.0"
