"""Running commands on cluster nodes: the Transport protocol and its implementations."""
