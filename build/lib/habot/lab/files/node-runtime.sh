#!/bin/sh
# Runs inside a node at each power-on: a fresh /run and /dev/shm, as after a reboot.
set -eu
if [ -e /run/.habot-lab-node ]; then umount -l /run; fi
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
touch /run/.habot-lab-node
mkdir -p /run/sshd /run/lock /run/habot-lab /run/resource-agents /run/systemd/system
chmod 1777 /run/lock
install -d -o hacluster -g haclient -m 750 /run/crm
if [ -e /dev/shm/.habot-lab-node ]; then umount -l /dev/shm; fi
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
touch /dev/shm/.habot-lab-node
