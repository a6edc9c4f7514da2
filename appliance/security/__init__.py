"""Authentication primitives shared by the appliance and the firstboot wizard."""
