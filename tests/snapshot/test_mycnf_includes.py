"""my.cnf and the option files it includes (!include, !includedir, and Debian's, MariaDB's and RHEL's include
folders), as one datum on the live host, in a bundle (passwords masked on the node and by the collector) and
in a node folder (my.cnf.d/ beside my.cnf): the rules reading server settings from my.cnf see what an included
file sets, with that file and its own line as evidence."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from tests.bundle.test_bundle import HADOCTOR, make_root
from tests.conftest import FIXTURES

SERVER_CNF = "[mysqld]\nlog-bin = /var/log/mysql/mysql-bin\nserver-id = 12\n"
PASSWORDS = ("Inc1uded-Pw-one", "Extra-Pw-two", "Opt-Pw-three")


def _etc(root: Path) -> None:
    """Debian's layout plus an !include and an !includedir outside every usual folder."""
    for d in ("etc/mysql/conf.d", "etc/mysql/mariadb.conf.d", "srv", "opt/db/conf"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "etc/mysql/my.cnf").write_text("[client-server]\nsocket = /run/mysqld/mysqld.sock\n"
                                           "!includedir /etc/mysql/conf.d/\n!includedir /etc/mysql/mariadb.conf.d/\n"
                                           "!include /srv/extra.cnf\n")
    (root / "etc/mysql/mariadb.conf.d/50-server.cnf").write_text(SERVER_CNF)
    (root / "etc/mysql/mariadb.conf.d/50-client.cnf").write_text(f"[client]\npassword = {PASSWORDS[0]}\n")
    (root / "srv/extra.cnf").write_text(f"[client]\npassword={PASSWORDS[1]}\n!includedir /opt/db/conf\n")
    (root / "opt/db/conf/90-repl.cnf").write_text(f"[mysqld]\nauto-increment-offset = 2\n"
                                                  f"[mysqldump]\npassword = \"{PASSWORDS[2]}\"\n")
    (root / "etc/mysql/debian.cnf").write_text("[client]\npassword = DebianCnfPw\n")


def test_live_follows_includes_in_reading_order_each_file_once(tmp_path):
    from hadoctor.snapshot.loader import load_live

    _etc(tmp_path)
    cnf = load_live(str(tmp_path), only=("my_cnf",)).nodes[0].get("my_cnf")
    assert cnf.files == ["/etc/mysql/my.cnf", "/etc/mysql/mariadb.conf.d/50-client.cnf",
                         "/etc/mysql/mariadb.conf.d/50-server.cnf", "/srv/extra.cnf", "/opt/db/conf/90-repl.cnf"]
    sid, binlog, offset = (cnf.server_option(n) for n in ("server_id", "log_bin", "auto_increment_offset"))
    assert (sid.value, sid.file, sid.line) == ("12", "/etc/mysql/mariadb.conf.d/50-server.cnf", 3)
    assert (binlog.value, binlog.file, binlog.line) == ("/var/log/mysql/mysql-bin",
                                                         "/etc/mysql/mariadb.conf.d/50-server.cnf", 2)
    assert (offset.value, offset.file) == ("2", "/opt/db/conf/90-repl.cnf")
    assert not any(p in repr(cnf.to_dict()) for p in PASSWORDS + ("DebianCnfPw",))


def test_bundle_carries_included_files_masked_and_verify_finds_nothing(tmp_path):
    root = make_root(tmp_path)
    _etc(root)
    out = tmp_path / "b.tar.gz"
    env = dict(os.environ, HOME=str(tmp_path), NO_COLOR="1")
    proc = subprocess.run(HADOCTOR + ["bundle", "create", "-q", "--root", str(root), "--node", "node01", "-o",
                                      str(out)], capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(out) as tar:
        files = {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers() if m.isreg()}
    mycnf = files["node01/my.cnf"]
    for part in (b"### /etc/mysql/mariadb.conf.d/50-server.cnf\n" + SERVER_CNF.encode(),
                 b"### /opt/db/conf/90-repl.cnf\n", b"### /srv/extra.cnf\n"):
        assert part in mycnf
    everything = b"".join(files.values())
    assert not [p for p in PASSWORDS + ("DebianCnfPw",) if p.encode() in everything]
    secrets = tmp_path / "secrets"
    secrets.write_text("\n".join(PASSWORDS + ("DebianCnfPw",)) + "\n")
    verify = subprocess.run(HADOCTOR + ["bundle", "verify", "--secrets-file", str(secrets), str(out)],
                            capture_output=True, text=True, timeout=180, env=env)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    from hadoctor.snapshot.loader import load_bundle

    cnf = load_bundle(str(out)).nodes[0].get("my_cnf")
    assert cnf.server_option("server_id").file == "/etc/mysql/mariadb.conf.d/50-server.cnf"


def test_node_folder_my_cnf_d_feeds_the_rules(tmp_path):
    """Both nodes' server_id set only in my.cnf.d/50-server.cnf (the running servers did not say it): MYS003
    reads it there and names that file and line."""
    from hadoctor.snapshot.loader import load_target

    target = tmp_path / "pair"
    shutil.copytree(FIXTURES / "mysql" / "lab-takeover", target)
    for node in ("node01", "node02"):
        folder = target / node
        variables = folder / "mysql-variables.txt"
        variables.write_text("".join(line for line in variables.read_text().splitlines(keepends=True)
                                     if not line.startswith("server_id\t")))
        (folder / "my.cnf").write_text("[client-server]\n!includedir /etc/mysql/mariadb.conf.d/\n")
        (folder / "my.cnf.d").mkdir()
        (folder / "my.cnf.d/50-server.cnf").write_text(SERVER_CNF)
        (folder / "my.cnf.d/60-client.cnf").write_text(f"[client]\npassword = {PASSWORDS[0]}\n")
    node = load_target(str(target)).node("node01")
    cnf = node.get("my_cnf")
    assert [Path(f).name for f in cnf.files] == ["my.cnf", "50-server.cnf", "60-client.cnf"]
    assert cnf.server_option("server_id").value == "12" and PASSWORDS[0] not in repr(cnf.to_dict())
    proc = subprocess.run(HADOCTOR + ["check", "--format", "json", "--select", "MYS003", str(target)],
                          capture_output=True, text=True, timeout=180)
    found = [f for f in json.loads(proc.stdout)["findings"] if f["code"] == "MYS003"]
    assert [f["status"] for f in found] == ["fail"], found
    assert "server_id 12 on node01 and node02" in found[0]["message"]
    where = json.dumps(found[0])
    assert "my.cnf.d/50-server.cnf" in where and PASSWORDS[0] not in proc.stdout
