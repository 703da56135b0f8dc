"""habot: operate a Pacemaker/Corosync cluster from Slack."""

__version__ = "0.1.0"
