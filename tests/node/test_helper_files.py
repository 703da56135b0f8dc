"""habot-node's own reads and writes as an attacker meets them, with real files: root never
follows a link planted anywhere on a log's or a new file's path, never reads a file someone
else put in a directory they may write, and never writes in a directory others may write; the
journal selection is the helper's own, and it requires privilege in every branch."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from habot.node import EXIT_REFUSED
from habot.node.helper import daemon_uid, journal_matches
from tests.node.test_helper import helper, node, ran

__all__ = ["node"]  # the fixture, shared with test_helper
CURSOR = (
    "s=68c0a76ba4bb4bc58b894defd967b845;i=2b3;b=9d7c9a77f6ee4f1783d512fd59f55a67;"
    "m=5aa623c6;t=661951e593e56;x=573298b05b5a63ef"
)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="files of other owners need root")
NOBODY = 65534


# -- the journal ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode",
    [
        ["--since=@1796142947"],
        [f"--after-cursor={CURSOR}", "--lines=2000"],
        ["--follow", "--lines=0"],
        ["--follow", f"--after-cursor={CURSOR}"],
    ],
    ids=lambda m: m[0][:16],
)
def test_the_journal_is_read_with_the_helpers_own_selection(node: Path, mode: list[str]) -> None:
    done = helper(node, "journal", *mode)
    assert done.returncode == 0, done.stderr
    args = [ln[4:] for ln in ran(node) if ln.startswith("arg:")]
    selection = journal_matches(daemon_uid())  # hacluster's uid on this machine, if any
    assert args == ["-o", "json", "--no-pager", "--quiet", *mode, *selection]
    assert "cwd:/" in ran(node)


@pytest.mark.parametrize(
    "mode",
    [
        ["--since=@0", "--flush"],
        ["--vacuum-size=1"],
        ["--after-cursor=s=1", "--lines=2000", "_UID=1000"],  # a selection of the caller's
        ["--since=@0 _UID=1000"],
        ["--follow"],
        ["-D", "/tmp/x", "--since=@0"],
        ["--after-cursor=s=1;i=$(id)", "--lines=5"],
    ],
    ids=str,
)
def test_anything_else_of_the_journal_is_refused(node: Path, mode: list[str]) -> None:
    done = helper(node, "journal", *mode)
    assert done.returncode == EXIT_REFUSED
    assert ran(node) == []


def test_every_branch_of_the_selection_requires_privilege() -> None:
    """journalctl ORs the branches between `+`; within one, different fields are ANDed. Each
    branch must hold a field no local user can set to a privileged value: `_UID` (root, or
    hacluster with a daemon's `_EXE`) or the kernel transport. A branch of `_EXE` alone
    would read a pacemaker binary run by anyone, with LD_PRELOAD making it log anything."""
    for uid in (None, 189):
        selection = journal_matches(uid)
        branches: list[list[str]] = [[]]
        for arg in selection:
            if arg == "+":
                branches.append([])
            else:
                branches[-1].append(arg)
        for branch in branches:
            uids = {a for a in branch if a.startswith("_UID=")}
            assert uids <= {"_UID=0", f"_UID={uid}"}, branch
            assert uids or branch == ["_TRANSPORT=kernel"], branch
        exes = next(b for b in branches if any(a.startswith("_EXE=") for a in b))
        assert ("_UID=189" in exes) is (uid == 189)


# -- log files ----------------------------------------------------------------------------------


@pytest.fixture
def logs(node: Path) -> Path:
    where = node / "logs"
    where.mkdir()
    (where / "pacemaker.log").write_bytes(b"line one\nline two\n")
    return where


def test_a_listed_log_is_read_by_offset(node: Path, logs: Path) -> None:
    path = str(logs / "pacemaker.log")
    stat = helper(node, "log", "stat", path)
    assert stat.returncode == 0, stat.stderr
    inode = (logs / "pacemaker.log").stat().st_ino
    assert stat.stdout == f"{path} {inode} 18\n"
    assert "pacemaker.log.1: No such file" in stat.stderr
    read = helper(node, "log", "read", path, "5", "8")
    assert (read.returncode, read.stdout) == (0, "one\nline")


def test_a_log_not_in_the_rules_is_refused(node: Path, logs: Path) -> None:
    (logs / "other.log").write_text("x\n")
    for args in (("stat", str(logs / "other.log")), ("read", "/etc/shadow", "0", "100")):
        done = helper(node, "log", *args)
        assert done.returncode == EXIT_REFUSED
        assert "not one of the log files" in done.stderr


def test_a_symlink_planted_as_the_log_is_never_followed(node: Path, logs: Path) -> None:
    secret = node / "secret"
    secret.write_text("root:$6$hash\n")
    (logs / "pacemaker.log").unlink()
    (logs / "pacemaker.log").symlink_to(secret)
    for args in (("stat",), ("read",)):
        extra = ("0", "100") if args == ("read",) else ()
        done = helper(node, "log", *args, str(logs / "pacemaker.log"), *extra)
        assert done.returncode == EXIT_REFUSED, done.stdout
        assert "symbolic link" in done.stderr
        assert "root:" not in done.stdout


def test_a_symlinked_directory_on_the_way_is_never_followed(node: Path, logs: Path) -> None:
    real = node / "real-logs"
    logs.rename(real)
    logs.symlink_to(real)
    done = helper(node, "log", "read", str(logs / "pacemaker.log"), "0", "100")
    assert done.returncode == EXIT_REFUSED
    assert "not a directory (a symbolic link?)" in done.stderr
    assert done.stdout == ""


def test_a_hard_link_and_a_fifo_are_refused(node: Path, logs: Path) -> None:
    secret = node / "secret"
    secret.write_text("secret\n")
    (logs / "pacemaker.log").unlink()
    os.link(secret, logs / "pacemaker.log")
    done = helper(node, "log", "read", str(logs / "pacemaker.log"), "0", "100")
    assert done.returncode == EXIT_REFUSED
    assert "2 links" in done.stderr
    (logs / "pacemaker.log").unlink()
    os.mkfifo(logs / "pacemaker.log")
    done = helper(node, "log", "read", str(logs / "pacemaker.log"), "0", "100")
    assert done.returncode == EXIT_REFUSED
    assert "not a regular file" in done.stderr


@needs_root
def test_a_file_someone_else_put_in_the_directory_is_refused(node: Path, logs: Path) -> None:
    """/var/log/pacemaker is hacluster's and every haclient member may write in it: a file
    there that is not its owner's (hacluster's) is not the log, whoever made it."""
    os.chown(logs / "pacemaker.log", NOBODY, NOBODY)
    done = helper(node, "log", "read", str(logs / "pacemaker.log"), "0", "100")
    assert done.returncode == EXIT_REFUSED
    assert f"owned by uid {NOBODY}, not by its directory's owner" in done.stderr


# -- new files ------------------------------------------------------------------------------------


@pytest.fixture
def www() -> Iterator[Path]:
    """A directory only root may write, all the way from `/` (as /var/www is)."""
    top = Path(f"/run/habot-test.{secrets.token_hex(6)}")
    (top / "html").mkdir(parents=True, mode=0o755)
    top.chmod(0o755)
    yield top
    shutil.rmtree(top, ignore_errors=True)


@needs_root
def test_a_new_page_is_written_once_and_kept(node: Path, www: Path) -> None:
    page = www / "html" / "index.html"
    done = helper(node, "write-new", str(page), "<h1>Prueba con GFS2</h1>")
    assert done.returncode == 0, done.stderr
    assert page.read_text() == "<h1>Prueba con GFS2</h1>\n"
    assert page.stat().st_mode & 0o777 == 0o644
    page.write_text("the team's own page\n")
    again = helper(node, "write-new", str(page), "<h1>Prueba con GFS2</h1>")
    assert again.returncode == 0
    assert "kept as it is" in again.stdout
    assert page.read_text() == "the team's own page\n"


@needs_root
def test_a_new_page_is_readable_by_the_web_server_whatever_the_umask(node: Path, www: Path) -> None:
    """A hardened umask (027, as sudo or a restarted daemon may pass on) made the page 0640:
    Apache, not root, answered 403 for it."""
    page = www / "html" / "index.html"
    old = os.umask(0o027)
    try:
        done = helper(node, "write-new", str(page), "<h1>Prueba con GFS2</h1>")
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    assert page.stat().st_mode & 0o777 == 0o644


@needs_root
def test_a_symlinked_directory_is_never_written_through(node: Path, www: Path) -> None:
    """What the old step did: `/var/www/x -> /etc/sudoers.d`, and root wrote index.html
    there."""
    target = www / "target"
    target.mkdir()
    (www / "html" / "site").symlink_to(target)
    done = helper(node, "write-new", str(www / "html" / "site" / "index.html"), "<h1>x</h1>")
    assert done.returncode == EXIT_REFUSED
    assert "a symbolic link" in done.stderr
    assert not (target / "index.html").exists()


@needs_root
def test_a_symlink_planted_as_the_page_is_never_written_through(node: Path, www: Path) -> None:
    target = www / "target"
    (www / "html" / "index.html").symlink_to(target)
    done = helper(node, "write-new", str(www / "html" / "index.html"), "<h1>x</h1>")
    assert done.returncode == EXIT_REFUSED
    assert "exists and is not a regular file" in done.stderr
    assert not target.exists()


@needs_root
@pytest.mark.parametrize("how", ["group-writable", "another owner"])
def test_a_directory_others_may_write_is_refused(node: Path, www: Path, how: str) -> None:
    if how == "group-writable":
        (www / "html").chmod(0o775)
    else:
        os.chown(www / "html", NOBODY, NOBODY)
    done = helper(node, "write-new", str(www / "html" / "index.html"), "<h1>x</h1>")
    assert done.returncode == EXIT_REFUSED
    assert "others than root may write in it" in done.stderr
    assert not (www / "html" / "index.html").exists()


@needs_root
def test_a_write_outside_the_rules_is_refused(node: Path, www: Path) -> None:
    for path, text in (
        ("/etc/sudoers.d/index.html", "<h1>x</h1>"),
        (str(www / "html" / "index.html"), "habot ALL=(ALL) NOPASSWD: ALL"),
    ):
        done = helper(node, "write-new", path, text)
        assert done.returncode == EXIT_REFUSED
        assert "no rule allows" in done.stderr
    assert not Path("/etc/sudoers.d/index.html").exists()
