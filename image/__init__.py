"""VirtStick image."""
