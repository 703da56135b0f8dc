"""What runs on the nodes themselves: habot-node (helper.py), the one program an unprivileged
node user may run through sudo (Python's standard library only)."""

import functools
from importlib import resources

HELPER_PATH = "/usr/local/libexec/habot/habot-node"
HELPER = "habot-node"  # an argv starting with it is one of the helper's own steps
EXIT_REFUSED = 77  # the helper's refusal (EX_NOPERM)
AGENT_PATH = "/usr/local/libexec/habot/habot-alert"  # Pacemaker's alert agent, beside it
AGENT_FILE = "/var/log/pacemaker/habot-events.jsonl"  # where the agent writes by default
PYTHON = ("python3", "-I", "-c")  # the helper run from its source, where it is not installed


@functools.cache
def helper_source() -> str:
    """habot-node's own text: what `habot node-files` installs, and what habot runs with
    `python3 -I -c` on nodes it logs into as root (where no helper is installed)."""
    return (resources.files("habot.node") / "helper.py").read_text()
