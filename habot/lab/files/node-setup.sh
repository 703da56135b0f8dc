#!/bin/sh
# Runs once inside a new node (its own mount, UTS and network namespaces): gives the node its
# hostname, a private /dev and state directories, and the lab's stand-ins over /usr.
# Environment: NODE_NAME, NODE_DIR (host directory of the node), LAB (the lab's directory).
set -eu
hostname "$NODE_NAME"
mount --make-rprivate /
# `ip netns exec` mounted a sysfs of this network namespace on /sys; journald needs cgroups.
mount -t cgroup2 cgroup2 /sys/fs/cgroup

# A private /dev, as a container has: the node's /dev/shm, /dev/log and "DRBD device" are its own.
mount -t tmpfs -o mode=755,size=1m,nosuid tmpfs /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/random c 1 8
mknod -m 666 /dev/urandom c 1 9
mknod -m 666 /dev/tty c 5 0
mknod -m 644 /dev/kmsg c 1 11
mkdir -m 755 /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
ln -s /run/systemd/journal/dev-log /dev/log
ln -s "$LAB/shared/drbd1.img" /dev/drbd1

# The node's own configuration, state and logs.
for dir in etc/corosync etc/haproxy etc/pacemaker var/lib/pacemaker var/lib/corosync \
           var/log/pacemaker var/log/corosync var/log/apache2 var/log/journal; do
	mount --bind "$NODE_DIR/fs/$dir" "/$dir"
done
mount --bind "$NODE_DIR/fs/etc/machine-id" /etc/machine-id
# The node's users (the host's and the lab's habot and admin) and their sudo rules.
for file in passwd group shadow sudoers.d; do
	mount --bind "$NODE_DIR/fs/etc/$file" "/etc/$file"
done
# habot-node and its rules, root's, where `habot node-files` says to install them
mount --bind "$NODE_DIR/fs/libexec-habot" /usr/local/libexec/habot
mount -o remount,bind,ro /usr/local/libexec/habot
mount --bind "$LAB/shared/hosts" /etc/hosts

# Stand-ins: virsh, and agents for what this kernel cannot run (DRBD, DLM, GFS2 mounts).
mount -t overlay overlay -o "lowerdir=$LAB/shared/bin:/usr/bin" /usr/bin
mount -t overlay overlay -o "lowerdir=$LAB/shared/ocf:/usr/lib/ocf/resource.d" /usr/lib/ocf/resource.d

# A crmsh lab (`habot lab up --shell crmsh`) has no pcs, as a SUSE node has none: the program
# is there on the host, not in this node.
if [ "${LAB_SHELL:-pcs}" = crmsh ]; then
	mount --bind /dev/null /usr/sbin/pcs
fi
