#!/bin/sh
# PID 1 of the power-loss VM (scripts/harness/vm/image.ts installs it as /sbin/playbook-init; the
# kernel runs it with init=). The root filesystem stays read-only; the data disk /dev/vdb (ext4, made
# by the host for each run, holding redis.conf) is mounted on /data and Redis runs on it as root. Every
# line for the host starts with "playbook-vm:" on the serial console. When Redis exits, the VM powers
# off, so the host sees qemu end instead of waiting for a server that is gone.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
# The initramfs moves /proc, /sys, /dev and /run over to the root; mounted here only when it did not.
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mountpoint -q /run || mount -t tmpfs tmpfs /run
# The initramfs loaded the virtio and ext4 modules for the devices it saw; the root keeps no modules.
# The one network card (qemu user networking: the guest is 10.0.2.15); eth0 with net.ifnames=0.
ip link set lo up
nic=$(ls /sys/class/net | grep -vx lo | head -n 1)
ip link set "$nic" up
ip addr add 10.0.2.15/24 dev "$nic"
# As Redis asks of a production host (a fork for a rewrite must not fail for want of memory).
echo 1 >/proc/sys/vm/overcommit_memory
if ! mount -t ext4 /dev/vdb /data; then
  echo "playbook-vm: cannot mount /dev/vdb on /data"
  echo o >/proc/sysrq-trigger
fi
echo "playbook-vm: kernel $(uname -r)"
echo "playbook-vm: data $(grep ' /data ' /proc/mounts)"
echo "playbook-vm: network $nic $(cat "/sys/class/net/$nic/operstate")"
for name in dirty_expire_centisecs dirty_writeback_centisecs dirty_background_ratio dirty_ratio; do
  echo "playbook-vm: vm.$name $(cat /proc/sys/vm/$name)"
done
echo "playbook-vm: starting $(redis-server --version)"
redis-server /data/redis.conf
echo "playbook-vm: redis-server exited with status $?"
echo o >/proc/sysrq-trigger
sleep 10
