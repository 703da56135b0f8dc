"""A real two-node Pacemaker/Corosync cluster on one machine, in network namespaces."""
