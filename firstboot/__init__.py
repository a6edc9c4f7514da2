"""VirtStick firstboot."""
