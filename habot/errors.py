"""habot's error tree.

    HabotError                  every error habot raises on purpose
    +-- ConfigError             a setting or the config file is wrong (exit code 2)
    +-- LabError                the lab cannot be brought up, torn down or used
    |   +-- LabPreflightError   the machine cannot run the lab (not root, packages, ports)
    +-- TransportError          a node could not be reached or a command could not run
    |   +-- ConnectError        no SSH session: refused, DNS, host key, auth
    |   |   +-- HostKeyError    the node's host key is unknown or changed
    |   +-- CommandTimeout      the command outlived its timeout (and was killed on the node)
    +-- ClusterError            the cluster answered, but not usefully
    |   +-- ClusterUnreachable  no node answered; carries each node's reason
    |   +-- StatusParseError    crm_mon output could not be read
    +-- UsageError              a user typed something habot does not understand
    +-- AuditError              the audit log could not be written (nothing more runs)
    +-- RunbookError            a runbook file is not valid (names the file and line)
    +-- StoreError              the database could not be opened, read or written

A non-zero exit code of a remote command is data (CommandResult.exit_status), never an error.
"""


class HabotError(Exception):
    """Root of every error habot raises on purpose; its message is for a person."""


class ConfigError(HabotError):
    """A setting or the config file is missing or invalid."""


class LabError(HabotError):
    """The lab could not do what was asked."""


class LabPreflightError(LabError):
    """This machine cannot run the lab as it is."""


class TransportError(HabotError):
    """A command could not be run on a node."""

    def __init__(self, node: str, message: str) -> None:
        super().__init__(f"{node}: {message}")
        self.node = node
        self.reason = message


class ConnectError(TransportError):
    """No SSH session could be opened to the node."""


class HostKeyError(ConnectError):
    """The node's host key is not in known_hosts, or does not match it."""


class CommandTimeout(TransportError):
    """The command ran past its timeout and was killed on the node."""


class ClusterError(HabotError):
    """The cluster could not give a usable answer."""


class ClusterUnreachable(ClusterError):
    """No node of the cluster answered."""

    def __init__(self, cluster: str, reasons: dict[str, str]) -> None:
        lines = "; ".join(f"{node}: {why}" for node, why in reasons.items())
        super().__init__(f"cluster {cluster} unreachable ({lines})")
        self.cluster = cluster
        self.reasons = dict(reasons)


class StatusParseError(ClusterError):
    """crm_mon's output was not the XML habot expected."""


class UsageError(HabotError):
    """The user's command could not be understood."""


class AuditError(HabotError):
    """The audit log could not be written; a run stops before its next command."""


class RunLost(AuditError):
    """This replica no longer owns the run (it was swept as interrupted while this replica
    was paused): no further command starts, rollback included — another run may hold the
    cluster now."""


class RunbookError(HabotError):
    """A runbook file is not valid; the message names the file and line."""


class StoreError(HabotError):
    """The database could not be opened, read or written."""
