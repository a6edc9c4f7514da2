#!/bin/sh
# VirtStick demo guest: PID 1 of a tiny busybox initramfs. It loads the few modules it
# needs, reports the marker kept on its own disk and readiness on the serial console, shows
# a banner on the screen, then serves one-line commands read from the serial console (and
# reports on it each line typed on the screen's keyboard).
# Protocol (serial, one line each): "marker write VALUE", "marker read", "spin on|off",
# "counter on|off", "mem fill N", "mem free", "disk fill N", "disk free" (N in MiB),
# "poweroff". The ACPI power button powers off (via acpid).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

SERIAL=/dev/ttyS0
SCREEN=/dev/tty0
# The marker lives in the first sector of partition 2 (a raw data area, type 0xda).
MARKER_DEV=/dev/vda2
MARKER_MAGIC=VIRTSTICK-MARKER
# Partition 3 is raw scratch space for "disk fill" and "disk free"; /mem a tmpfs for "mem".
SCRATCH_DEV=/dev/vda3
MIB=1048576
CR=$(printf '\r')

say() { echo "$1" > $SERIAL; }

while read -r module; do insmod "/lib/modules/$module"; done < /etc/modules.load

# virtio_blk probes asynchronously: give the partition a moment to appear.
tries=0
while [ ! -b $MARKER_DEV ] && [ $tries -lt 100 ]; do usleep 50000; tries=$((tries + 1)); done

marker_read() {
    if [ ! -b $MARKER_DEV ]; then echo "<none>"; return; fi
    dd if=$MARKER_DEV bs=512 count=1 2>/dev/null | tr -d '\000' > /tmp/marker
    if [ "$(head -n 1 /tmp/marker)" = "$MARKER_MAGIC" ]; then
        sed -n 2p /tmp/marker
    else
        echo "<none>"
    fi
}

marker_write() {
    # Through a file, not a pipe: dd would take a short read from a pipe as the whole
    # block. conv=sync pads to a sector; fsync + sync so a reset right after keeps it.
    printf '%s\n%s\n' "$MARKER_MAGIC" "$1" > /tmp/marker.new
    dd if=/tmp/marker.new of=$MARKER_DEV bs=512 count=1 conv=sync,fsync 2>/dev/null
    sync
}

banner() {
    printf '\033[2J\033[H' > $SCREEN
    cat > $SCREEN <<'BANNER'

 ##########################################################################
 #                                                                        #
 #   __     ___      _    ____  _   _      _                              #
 #   \ \   / (_)_ __| |_ / ___|| |_(_) ___| | __                          #
 #    \ \ / /| | '__| __|\___ \| __| |/ __| |/ /                          #
 #     \ V / | | |  | |_  ___) | |_| | (__|   <                           #
 #      \_/  |_|_|   \__||____/ \__|_|\___|_|\_\                          #
 #                                                                        #
 #                   V i r t S t i c k   d e m o   g u e s t              #
 #                                                                        #
 ##########################################################################

BANNER
    echo "   $1" > $SCREEN
    echo "   VIRTSTICK-GUEST-READY" > $SCREEN
    echo "   (send commands on the serial console; ACPI power button powers off)" > $SCREEN
}

power_off() {
    say "VIRTSTICK-POWERING-OFF"
    sync
    poweroff -f
}

# Random data, so neither compression (zram) nor page merging (KSM) can make a fill cheap.
mem_fill() {
    mkdir -p /mem
    grep -q " /mem " /proc/mounts || mount -t tmpfs -o size=95% mem /mem
    n=$(ls /mem | wc -l)
    dd if=/dev/urandom of=/mem/fill$n bs=$MIB count="$1" 2>/dev/null
    say "VIRTSTICK-MEM-FILLED=$(du -sm /mem | cut -f1)"
}

mem_free() {
    rm -f /mem/fill*
    # Freed pages go back to the host by free page reporting (virtio-balloon).
    say "VIRTSTICK-MEM-FREED=$(du -sm /mem 2>/dev/null | cut -f1)"
}

disk_fill() {
    room=$(( $(blockdev --getsize64 $SCRATCH_DEV) / MIB ))
    count=$1
    [ "$count" -le "$room" ] || count=$room
    dd if=/dev/urandom of=$SCRATCH_DEV bs=$MIB count="$count" conv=fsync 2>/dev/null
    say "VIRTSTICK-DISK-FILLED=$count"
}

disk_free() {
    # TRIM the whole scratch partition: with discard=unmap the host punches the holes.
    if blkdiscard $SCRATCH_DEV 2>/tmp/discard.err; then
        say "VIRTSTICK-DISK-FREED=ok"
    else
        say "VIRTSTICK-DISK-FREED=failed: $(cat /tmp/discard.err)"
    fi
}

whole_mib() {
    case "$1" in ''|*[!0-9]*) return 1 ;; esac
}

spin_pids=""
counter_pid=""

spin_on() {
    [ -z "$spin_pids" ] || return
    for _ in $(seq "$(nproc)"); do
        (while :; do :; done) &
        spin_pids="$spin_pids $!"
    done
}

counter_on() {
    [ -z "$counter_pid" ] || return
    (n=0; while :; do n=$((n + 1)); say "VIRTSTICK-COUNTER=$n"; usleep 500000; done) &
    counter_pid=$!
}

handle() {
    case "$1" in
        "marker write "*) value=${1#marker write }; marker_write "$value"
                          say "VIRTSTICK-MARKER-WRITTEN=$value" ;;
        "marker read") say "VIRTSTICK-DISK-MARKER=$(marker_read)" ;;
        "spin on") spin_on; say "VIRTSTICK-SPIN=on" ;;
        "spin off") [ -z "$spin_pids" ] || kill $spin_pids; spin_pids=""; say "VIRTSTICK-SPIN=off" ;;
        "counter on") counter_on; say "VIRTSTICK-COUNTER-STATE=on" ;;
        "counter off") [ -z "$counter_pid" ] || kill $counter_pid; counter_pid=""
                       say "VIRTSTICK-COUNTER-STATE=off" ;;
        "mem fill "*) n=${1#mem fill }
                      if whole_mib "$n"; then mem_fill "$n"
                      else say "VIRTSTICK-BAD-ARGUMENT=$1"; fi ;;
        "mem free") mem_free ;;
        "disk fill "*) n=${1#disk fill }
                       if whole_mib "$n"; then disk_fill "$n"
                       else say "VIRTSTICK-BAD-ARGUMENT=$1"; fi ;;
        "disk free") disk_free ;;
        "poweroff") power_off ;;
        "") ;;
        *) say "VIRTSTICK-UNKNOWN-COMMAND=$1" ;;
    esac
}

# A line typed on the screen's keyboard (tty1, echoed there) is said on the serial console
# too, so what a console client sends as keystrokes can be checked.
(while :; do
    while read -r typed; do say "VIRTSTICK-TYPED=${typed%"$CR"}"; done < /dev/tty1
    usleep 100000
done) &

# Start the power button handler before saying ready, so a shutdown right after works.
acpid -c /etc/acpi -l /tmp/acpid.log
stty -F $SERIAL -echo
# Keep kernel messages from scribbling over the banner from here on.
dmesg -n 1
marker="VIRTSTICK-DISK-MARKER=$(marker_read)"
say "$marker"
banner "$marker"
say "VIRTSTICK-GUEST-READY"

while :; do
    while read -r line; do handle "${line%"$CR"}"; done < $SERIAL
    usleep 100000
done
