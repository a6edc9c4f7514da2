#!/bin/sh
# Run by busybox acpid when the ACPI power button is pressed (libvirt's default shutdown).
echo "VIRTSTICK-POWER-BUTTON" > /dev/ttyS0
sync
poweroff -f
