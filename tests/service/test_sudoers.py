"""`habot sudoers` and the node rules: every command habot builds is allowed by the rules it
writes, and what the runbooks cannot run is refused — checked by habot-node's own matching,
argument by argument, so merged or split words match nothing. The lab holds the installed
helper behind the real sudo to the same."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from habot.cli import main
from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.scratch import made_dir, mktemp
from habot.node import HELPER_PATH
from habot.runbooks.loader import load_all, load_file
from habot.runbooks.model import Parameter, Runbook
from habot.runbooks.plan import make_plan
from habot.runbooks.shapes import ShapeError, element_shape, pattern_ere
from habot.service import sudoers
from habot.ssh.transport import NodeAddress

FIXTURES = Path(__file__).parents[1] / "fixtures"
SEED = parse_crm_mon((FIXTURES / "crm_mon" / "lab_seed_fenced.xml").read_bytes())
NODE = NodeAddress("nodo1", "nodo1.invalid", user="habot", sudo=True)
PRIVATE = "/run/habot.Ab3dEf9hIj"
SHADOW = f"{PRIVATE}/cib.xml"
LOG = "/var/log/pacemaker/pacemaker.log"
VIP = "10.1.1.100"
STATUS_SCRIPT = ("sh", "-c", "crm_mon --one-shot; cibadmin --query", "habot-status", "x")
# Parameters for a plan of every shipped runbook (a new runbook fails the test until added).
PARAMS: dict[str, list[dict[str, str]]] = {
    "alert-agent": [{}, {"file": "/var/log/pacemaker/events.jsonl"}],
    "cleanup": [{"resource": "VirtualIP"}],
    "failover": [{"resource": "VirtualIP", "node": "nodo2"}],
    "failover-test": [{"resource": "VirtualIP", "address": "10.1.1.100"}],
    "fence-test": [{"node": "nodo2"}],
    "gfs2-activate": [{}, {"device": "/dev/drbd/by-res/webdata/0", "fsname": "web2"}],
    "maintenance": [{"mode": "on"}, {"mode": "off"}],
    "standby": [{"node": "nodo2"}],
    "node-patch": [{"node": "nodo2"}],
    "rolling-maintenance": [{}],
    "unstandby": [{"node": "nodo2"}],
    "ban": [{"resource": "VirtualIP", "node": "nodo2"}],
    "ban-for": [{"resource": "VirtualIP", "node": "nodo2", "lifetime": "PT2H"}],
    "clear": [{"resource": "VirtualIP"}],
    "clear-on-node": [{"resource": "VirtualIP", "node": "nodo1"}],
    "enable": [{"resource": "WebSite"}],
    "disable": [{"resource": "WebSite"}],
    "restart": [{"resource": "WebSite"}],
    "restart-on-node": [{"resource": "WebData-clone", "node": "nodo1"}],
    "cleanup-on-node": [{"resource": "WebFS", "node": "nodo1"}],
    "refresh": [{"resource": "WebFS"}],
    "unmanage": [{"resource": "WebSite"}],
    "manage": [{"resource": "WebSite"}],
    "node-maintenance": [{"node": "nodo2", "mode": "on"}, {"node": "nodo2", "mode": "off"}],
    "fence-history-cleanup": [{"node": "nodo2"}],
    "haproxy": [
        {"mode": mode, "port": "8080", "backends": "10.1.1.101:80,10.1.1.102:80", "address": VIP}
        for mode in ("active-passive", "active-active")
    ],
    "stonith-libvirt": [
        {
            "hostlist": "nodo1:06-HA-IPFailover-Apache2DRBDGFS2_nodo1,nodo2:vm2",
            "hypervisor_uri": "qemu+ssh://192.168.121.1/system",
        }
    ],
}


@pytest.fixture(scope="module")
def runbooks() -> dict[str, Runbook]:
    return load_all()


@pytest.fixture(scope="module")
def rules(runbooks: dict[str, Runbook]) -> list[sudoers.Rule]:
    return sudoers.rules(runbooks.values())


def test_the_log_files_habot_reads_are_listed_in_the_rules(rules: list[sudoers.Rule]) -> None:
    """habot-node reads a log only when its path is listed (with `.1` and `.2`, its older
    generations): the journal and the logs are the helper's own verbs, not commands."""
    document = json.loads(sudoers.node_rules(rules, logs=[LOG, LOG]))
    assert document["logs"] == [LOG]
    assert not [r for r in document["commands"] if r["command"] in ("journalctl", "dd", "stat")]


def test_the_shadow_directory_is_made_by_root_under_run_only_with_sudo() -> None:
    assert mktemp(NODE)[-1].startswith("/run/habot.")
    assert mktemp(NodeAddress("n", "h"))[-1].startswith("/tmp/habot.")
    assert made_dir("n", 0, PRIVATE + "\n") == PRIVATE


def test_every_step_of_every_shipped_runbook_is_allowed(
    runbooks: dict[str, Runbook], rules: list[sudoers.Rule]
) -> None:
    assert set(PARAMS) == set(runbooks), "give the new runbook parameters here"
    checked = 0
    for name, variants in PARAMS.items():
        for raw in variants:
            plan = make_plan(runbooks[name], raw, SEED, cluster="mycluster")
            for step in (*plan.steps, *plan.rollback):
                if step.argv:
                    assert sudoers.allows(rules, step.argv), f"{name}: {step.argv}"
                    checked += 1
                for edit in step.edits:
                    assert sudoers.allows_edit(rules, edit), f"{name}: {edit}"
                    checked += 1
            for edit in plan.preview_edits:
                assert sudoers.allows_edit(rules, edit), f"{name}: {edit}"
                checked += 1
    assert checked >= 30


@pytest.mark.parametrize(
    "argv",
    [
        ("pcs", "resource", "delete", "VirtualIP"),
        ("pcs", "resource", "move", "VirtualIP", "nodo2", "--force"),
        ("pcs", "resource", "move", "--force", "nodo2"),
        ("pcs", "property", "set", "stonith-enabled=false"),
        ("pcs", "cluster", "destroy"),
        ("mkfs.gfs2", "-O", "-p", "lock_dlm", "-j", "2", "-t", "mycluster:web", "/dev/sda"),
        (
            "mkfs.gfs2",
            "-O",
            "-p",
            "lock_dlm",
            "-j",
            "2",
            "-t",
            "mycluster:web",
            "/dev/drbd1/../sda",
        ),
        ("rm", "-rf", "--", "/"),
        ("rm", "-rf", "--", f"{PRIVATE}/../../etc"),
        ("pcs", "-f", "/tmp/habot.Ab3dEf9hIj/cib.xml", "resource", "clone", "WebSite"),
        ("pcs", "cluster", "cib-push", "/tmp/evil.xml", "--config"),
        ("journalctl", "--vacuum-size=1"),
        ("journalctl", "-o", "json", "--no-pager", "--quiet", "--since=@0", "--flush"),
        ("journalctl", "-o", "json", "--no-pager", "--quiet", "--since=@0"),
        ("sh", "-c", "id"),
        ("dd", "if=/etc/shadow", "iflag=skip_bytes,count_bytes", "skip=0", "count=9", "bs=65536"),
        ("stat", "-L", "-c", "%n %i %s", "/var/log/pacemaker/pacemaker.log"),
        ("habot-node", "write-new", "/etc/sudoers.d/index.html", "<h1>Prueba con GFS2</h1>"),
        ("habot-node", "write-new", "/var/www/html/index.html", "habot ALL=(ALL) ALL"),
        ("crm_mon", "--one-shot"),
        ("stonith_admin", "--reboot", "nodo2", "--tolerance", "0"),
        ("stonith_admin", "--off", "nodo2"),
        (
            "curl",
            "--silent",
            "--show-error",
            "--fail",
            "--max-time",
            "10",
            "http://x/",
            "-o",
            "/etc/x",
        ),
        ("cibadmin", "--replace", "--xml-file", SHADOW),
        ("bash", "-i"),
        # two words of a rule merged into one argument: the same joined line, another command
        ("pcs", f"-f {SHADOW}", "resource", "clone", "WebSite"),
        ("pcs", "resource move", "VirtualIP", "nodo2"),
        ("pcs", "resource", "cleanup VirtualIP"),
        ("stonith_admin", "--reboot nodo2"),
        ("journalctl", "-o json", "--no-pager", "--quiet", "--since=@0"),
        # a newline or NUL inside an argument
        ("pcs", "resource", "cleanup", "VirtualIP\n"),
        # the old plumbing, no longer a command of its own
        ("mktemp", "-d", "/run/habot.XXXXXXXXXX"),
        ("pcs", "cluster", "cib-push", SHADOW, "--config"),
        ("pcs", "cluster", "cib", SHADOW),
        STATUS_SCRIPT,
    ],
    ids=lambda a: " ".join(a)[:50],
)
def test_what_the_runbooks_cannot_run_is_refused(
    rules: list[sudoers.Rule], argv: tuple[str, ...]
) -> None:
    assert not sudoers.allows(rules, argv), argv


def test_cib_edits_are_checked_argument_by_argument(rules: list[sudoers.Rule]) -> None:
    assert sudoers.allows_edit(rules, ("resource", "clone", "WebSite"))
    assert not sudoers.allows_edit(rules, ("resource clone", "WebSite"))
    assert not sudoers.allows_edit(rules, ("resource", "delete", "WebSite"))
    assert not sudoers.allows_edit(rules, ("cluster", "cib-push", "/tmp/x", "--config"))


def test_the_sudoers_file_allows_the_helper_and_nothing_else() -> None:
    text = sudoers.render("habot")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert lines == [
        f"Defaults!{HELPER_PATH} !requiretty",
        f"habot ALL=(root) NOPASSWD: {HELPER_PATH}",
    ]
    assert "sh -c" not in text
    with pytest.raises(sudoers.SudoersError, match="not a user name"):
        sudoers.render("root; ALL")


@pytest.mark.skipif(shutil.which("visudo") is None, reason="sudo (visudo) is not installed")
def test_visudo_accepts_the_file(tmp_path: Path) -> None:
    path = tmp_path / "habot.sudoers"
    path.write_text(sudoers.render("habot"))
    checked = subprocess.run(["visudo", "-cf", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr + checked.stdout


def test_the_node_rules_hold_no_shell_for_habots_own_reads(rules: list[sudoers.Rule]) -> None:
    """The status read is the helper's own step; the only script is a runbook's fixed one,
    and the index page is the helper's `write-new`."""
    document = json.loads(sudoers.node_rules(rules))
    scripts = [r for r in document["commands"] if r["command"] == "sh"]
    assert sorted(o for r in scripts for o in r["origins"]) == [
        'haproxy: step "write the configuration on every node"',
    ]
    (write,) = document["writes"]
    assert write["origins"] == ['gfs2-activate: step "index page"']
    assert re.fullmatch(write["args"][0], "/var/www/html/index.html")
    assert not re.fullmatch(write["args"][0], "/etc/sudoers.d/index.html")
    # cibadmin only in crmsh forms that delete exactly the objects they name, fixed arguments
    cibadmin = [r for r in document["commands"] if r["command"] == "cibadmin"]
    assert sorted(o for r in cibadmin for o in r["origins"]) == [
        'gfs2-activate: step "WebSite no longer tied to VirtualIP"',
        'haproxy: step "remove HAProxy"',
    ]
    for rule in cibadmin:
        assert rule["args"][:3] == ["--delete-all", "--force", "--xpath"]
        xpath = rule["args"][3].replace("\\", "")
        assert re.fullmatch(rule["args"][3], xpath)  # a literal: it matches itself only
        assert not re.fullmatch(rule["args"][3], "//clone")
    assert document["paths"]["pcs"] == "/usr/sbin/pcs"


# -- shapes: parameter patterns as POSIX EREs ---------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "samples"),
    [
        ("[A-Za-z0-9_-]{1,30}", ["web", "a-b_c", "", "a b", "x" * 31, "-"]),
        (
            "/dev/drbd([0-9]{1,3}|/by-res/[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}/[0-9]{1,3})",
            ["/dev/drbd1", "/dev/drbd/by-res/r0/0", "/dev/sda", "/dev/drbd1/../sda", "/dev/drbd"],
        ),
        (
            "(qemu|xen|lxc)(\\+ssh|\\+tcp|\\+tls)?://([A-Za-z0-9_.-]+@)?[A-Za-z0-9_.:-]+/[a-z]+",
            ["qemu+ssh://192.168.121.1/system", "qemu://h/system", "qemuXssh://h/s", "lxc://h/"],
        ),
        ("[]a^-]+", ["]", "a^-", "^", "b"]),
        ("a{2,}b*c?", ["aa", "aaabbbc", "a", "aac c"]),
    ],
)
def test_a_translated_pattern_matches_what_the_original_matches(
    pattern: str, samples: list[str]
) -> None:
    ere = pattern_ere(pattern)
    for sample in samples:
        assert bool(re.fullmatch(ere, sample)) == bool(re.fullmatch(pattern, sample)), (
            ere,
            sample,
        )


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (".+", "any character"),
        ("[^a]+", "negated"),
        (r"\d+", "ERE form"),
        (r"[\w]+", "ERE form"),
        (r"a\sb", "ERE form"),
        ("(?i)abc", "flags"),
        ("a b", "can match ' '"),
        ("^abc", "no place"),
        ("[ -~]+", "not printable"),
        ("[a-z]{1,256}", "up to 255"),  # sudo matches nothing with a larger count
    ],
)
def test_a_pattern_that_cannot_be_bounded_is_refused(pattern: str, why: str) -> None:
    with pytest.raises(ShapeError, match=re.escape(why)):
        pattern_ere(pattern)


def test_an_expression_over_choices_becomes_its_values() -> None:
    mode = Parameter.model_validate({"type": "choice", "choices": ["on", "off"]})
    shape = element_shape("x={{ 'true' if mode == 'on' else 'false' }}", {"mode": mode})
    assert shape == "(x=false|x=true)"


def test_an_expression_over_a_free_parameter_is_refused() -> None:
    resource = Parameter.model_validate({"type": "resource"})
    with pytest.raises(ShapeError, match="not a choice or bool"):
        element_shape("{{ resource | upper }}", {"resource": resource})


def _runbook(run: list[str]) -> Runbook:
    return Runbook.model_validate(
        {
            "name": "probe",
            "summary": "probe",
            "parameters": {"resource": {"type": "resource"}},
            "steps": [{"name": "one", "run": run}],
        }
    )


def test_a_fixed_argument_with_a_space_is_one_argument_at_the_node() -> None:
    """habot-node matches each argument on its own: a fixed argument may hold spaces, and
    the same words split or merged are refused."""
    runbook = _runbook(["pcs", "resource", "update", "{{ resource }}", "description=a b"])
    found = sudoers.rules([runbook])
    assert sudoers.allows(found, ("pcs", "resource", "update", "WebSite", "description=a b"))
    assert not sudoers.allows(found, ("pcs", "resource", "update", "WebSite", "description=a", "b"))
    assert not sudoers.allows(found, ("pcs", "resource update", "WebSite", "description=a b"))


# -- the command ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HABOT_CONFIG", str(tmp_path / "absent.yaml"))


def test_habot_sudoers_prints_the_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sudoers", "--user", "hauser", "--config", "/nonexistent"]) == 2
    capsys.readouterr()
    assert main(["sudoers", "--user", "hauser"]) == 0
    out = capsys.readouterr().out
    assert f"hauser ALL=(root) NOPASSWD: {HELPER_PATH}\n" in out


def test_habot_node_files_writes_the_helper_its_rules_and_sudoers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "node"
    assert main(["node-files", str(out), "--path", "pcs=/opt/pcs/bin/pcs"]) == 0
    assert (out / "habot-node").read_text().startswith("#!/usr/bin/python3 -I\n")
    assert (out / "habot-node").stat().st_mode & 0o777 == 0o755
    assert json.loads((out / "rules.json").read_text())["paths"]["pcs"] == "/opt/pcs/bin/pcs"
    assert "NOPASSWD" in (out / "habot.sudoers").read_text()
    assert "wrote" in capsys.readouterr().out


def test_habot_sudoers_names_a_runbook_it_cannot_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "loose.yaml").write_text(
        "name: loose\nsummary: anything goes\n"
        "parameters:\n  what: {type: string, pattern: '.+'}\n"
        "steps:\n  - name: run it\n    run: [pcs, '{{ what }}']\n"
    )
    load_file(tmp_path / "loose.yaml")  # a valid runbook; only its sudoers rule is impossible
    assert main(["sudoers", "--runbooks", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert 'loose: step "run it": `what`' in err
    assert "any character" in err


def test_a_repetition_count_sudo_would_refuse_is_caught() -> None:
    # POSIX RE_DUP_MAX is 255: a rule with `{1,512}` is refused (kept for POSIX tools too)
    runbook = Runbook.model_validate(
        {
            "name": "wide",
            "summary": "a long label",
            "parameters": {"label": {"type": "string", "pattern": "[a-z]{1,512}"}},
            "steps": [{"name": "one", "run": ["pcs", "resource", "describe", "{{ label }}"]}],
        }
    )
    with pytest.raises((sudoers.SudoersError, ShapeError), match="255"):
        sudoers.rules([runbook])


def test_a_runbook_may_use_only_the_helpers_write_new() -> None:
    runbook = _runbook(["habot-node", "log", "read", "/etc/shadow", "0", "100"])
    with pytest.raises(sudoers.SudoersError, match="write-new PATH TEXT"):
        sudoers.rules([runbook])


def test_a_string_parameter_never_reaches_the_node_as_an_option() -> None:
    """A string value that is a whole argument cannot start with "-" at the node either
    (habot's plan refuses it first; a stolen key meets the helper's rule)."""
    runbook = Runbook.model_validate(
        {
            "name": "labelled",
            "summary": "a free label",
            "parameters": {"label": {"type": "string", "pattern": "[a-z-]{1,20}"}},
            "steps": [{"name": "one", "run": ["pcs", "resource", "describe", "{{ label }}"]}],
        }
    )
    found = sudoers.rules([runbook])
    assert sudoers.allows(found, ("pcs", "resource", "describe", "web-site"))
    assert not sudoers.allows(found, ("pcs", "resource", "describe", "-all"))
    assert not sudoers.allows(found, ("pcs", "resource", "describe", "--force"))
