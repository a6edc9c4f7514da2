"""VirtStick webui."""
