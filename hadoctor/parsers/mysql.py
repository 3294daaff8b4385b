"""MySQL / MariaDB replication state: ``SHOW SLAVE STATUS\\G``, ``SHOW MASTER STATUS``, ``SHOW GLOBAL
VARIABLES`` and my.cnf.

The samples are real: MariaDB 10.11 (Debian 12's ``mariadb-server``), two servers replicating,
captured by ``tests/fixtures/mysql/capture.sh``. MySQL 8.0.22+ and MariaDB 10.5+ also spell the
replica fields ``Replica_*`` / ``Source_*`` (``SHOW REPLICA STATUS``); both spellings read into the
same model (the old spelling is the key kept in ``fields``).

>>> sample = (b"*************************** 1. row ***************************\\n"
...           b"                Slave_IO_State: Waiting for master to send event\\n"
...           b"                   Master_Host: 127.0.0.1\\n"
...           b"               Master_Log_File: a-bin.000001\\n"
...           b"           Read_Master_Log_Pos: 1663\\n"
...           b"         Relay_Master_Log_File: a-bin.000001\\n"
...           b"              Slave_IO_Running: Yes\\n"
...           b"             Slave_SQL_Running: No\\n"
...           b"                    Last_Errno: 1062\\n"
...           b"                    Last_Error: Error 'Duplicate entry '7' for key 'PRIMARY'' on query.\\n"
...           b"           Exec_Master_Log_Pos: 1432\\n"
...           b"         Seconds_Behind_Master: NULL\\n"
...           b"                Last_SQL_Errno: 1062\\n"
...           b"              Master_Server_Id: 1\\n")
>>> ch = parse_replica_status(sample, "mysql-slave-status.txt").channels[0]
>>> ch.io_running, ch.sql_running, ch.seconds_behind, ch.last_sql_errno, ch.exec_master_log_pos
('Yes', 'No', None, 1062, 1432)
>>> ch.stopped_at()
'a-bin.000001:1432'
>>> v = parse_variables(b"auto_increment_offset\\t2\\nlog_bin\\tON\\nserver_id\\t2\\n", "mysql-variables.txt")
>>> v.number("server_id"), v.flag("log_bin"), v.number("auto_increment_offset")
(2, True, 2)
>>> m = parse_master_status(b"File\\tPosition\\tBinlog_Do_DB\\tBinlog_Ignore_DB\\na-bin.000001\\t1432\\t\\t\\n", "x")
>>> m.file, m.position
('a-bin.000001', 1432)
"""

from __future__ import annotations

import re
from datetime import datetime
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from hadoctor.parsers.base import MAX_CONFIG_LINE, Problem, numbered_lines, shorten, to_int
from hadoctor.parsers.mysql_collect import NO_CLIENT
from hadoctor.secrets import Secret

_STAMP = re.compile(r"^\d{6} \d{2}:\d{2}:\d{2}$")
_ROW = re.compile(r"^\*+ (\d+)\. row \*+$")
_FIELD = re.compile(r"^( *)([A-Za-z][A-Za-z0-9_]*): ?(.*)$")
#: what the mysql client prints instead of a result (no server, refused login, unknown statement)
_CLIENT_ERROR = re.compile(r"^(?:ERROR \d+|mysql: |mariadb: |(?:ba|da)?sh: )")

#: MySQL 8.0.22+ / MariaDB 10.5+ name parts -> the classic ones the model keys on (whole parts only:
#: ``Replicate_Do_DB`` stays)
_RENAMES = {"Replica": "Slave", "Source": "Master"}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def classic_name(name: str) -> str:
    """``Seconds_Behind_Source`` -> ``Seconds_Behind_Master``; classic names are unchanged.

    >>> classic_name("Replica_IO_Running"), classic_name("Exec_Source_Log_Pos"), classic_name("Replicate_Do_DB")
    ('Slave_IO_Running', 'Exec_Master_Log_Pos', 'Replicate_Do_DB')
    """
    return "_".join(_RENAMES.get(part, part) for part in name.split("_"))


def _null_int(text: str) -> Optional[int]:
    return to_int(text.strip()) if text.strip() not in ("", "NULL") else None


@dataclass
class ReplicaChannel:
    """One row of SHOW SLAVE/REPLICA STATUS (one replication source; MariaDB multi-source has several)."""

    line: int
    fields: Dict[str, str] = field(default_factory=dict)  # classic field name -> text as printed

    def text(self, name: str) -> str:
        return self.fields.get(name, "")

    def number(self, name: str) -> Optional[int]:
        """The field as a number; None for NULL, empty or absent."""
        return _null_int(self.fields.get(name, ""))

    @property
    def name(self) -> str:
        """MariaDB's Connection_name or MySQL's Channel_Name; "" for the default source."""
        return self.text("Connection_name") or self.text("Channel_Name")

    @property
    def io_running(self) -> str:
        return self.text("Slave_IO_Running")  # Yes / No / Connecting / Preparing

    @property
    def sql_running(self) -> str:
        return self.text("Slave_SQL_Running")

    @property
    def master_host(self) -> str:
        return self.text("Master_Host")

    @property
    def master_port(self) -> Optional[int]:
        return self.number("Master_Port")

    @property
    def seconds_behind(self) -> Optional[int]:
        return self.number("Seconds_Behind_Master")

    @property
    def read_master_log_pos(self) -> Optional[int]:
        return self.number("Read_Master_Log_Pos")

    @property
    def exec_master_log_pos(self) -> Optional[int]:
        return self.number("Exec_Master_Log_Pos")

    @property
    def last_io_errno(self) -> int:
        return self.number("Last_IO_Errno") or 0

    @property
    def last_sql_errno(self) -> int:
        return self.number("Last_SQL_Errno") or self.number("Last_Errno") or 0

    @property
    def master_server_id(self) -> Optional[int]:
        return self.number("Master_Server_Id")

    def error_times(self) -> List[Tuple[str, int, datetime]]:
        """(thread SQL|IO, error number, when) of each thread's last error where the server says when: MySQL's
        ``Last_*_Error_Timestamp`` (``YYMMDD HH:MM:SS``, the server's local time); MariaDB does not say."""
        out = []
        for thread, name in (("SQL", "Last_SQL_Error_Timestamp"), ("IO", "Last_IO_Error_Timestamp")):
            m = _STAMP.match(self.text(name).strip())
            if m:
                try:
                    when = datetime.strptime(m.group(0), "%y%m%d %H:%M:%S")
                except ValueError:
                    continue
                out.append((thread, self.last_sql_errno if thread == "SQL" else self.last_io_errno, when))
        return out

    def error_time(self) -> Optional[datetime]:
        """When the last SQL (else IO) error happened (see :meth:`error_times`); None where the server does not say."""
        times = self.error_times()
        return times[0][2] if times else None

    def stopped_at(self) -> str:
        """The master's binlog file and position the SQL thread applied up to (where it stopped)."""
        file = self.text("Relay_Master_Log_File") or self.text("Master_Log_File")
        pos = self.exec_master_log_pos
        return f"{file}:{pos}" if file and pos is not None else (file or "unknown")

    def to_dict(self) -> dict:
        return {"line": self.line, "name": self.name, "fields": dict(self.fields)}


@dataclass
class ReplicaStatus:
    """SHOW SLAVE STATUS: no channel means the server is not a replica."""

    path: str
    channels: List[ReplicaChannel] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)

    def summary(self) -> str:
        if not self.channels:
            return "not a replica (no replication channel)"
        return "; ".join(f"from {c.master_host or '?'}{' (' + c.name + ')' if c.name else ''}: "
                         f"IO {c.io_running or '?'}, SQL {c.sql_running or '?'}, "
                         f"{'lag ' + str(c.seconds_behind) + ' s' if c.seconds_behind is not None else 'lag NULL'}"
                         for c in self.channels)

    def to_dict(self) -> dict:
        return {"path": self.path, "channels": [c.to_dict() for c in self.channels],
                "problems": [str(p) for p in self.problems]}


#: the client's error line (at a line's start: a status field quoting one is a result, not a failure)
_CLIENT_ERROR_TEXT = re.compile(r"^ERROR (\d+) \([0-9A-Z]{5}\)[^\n]*", re.MULTILINE)
#: the client's errors that mean no server answers where the client configuration points (no socket file,
#: nobody listening behind it, a refused or unanswered TCP connect): MySQL is not running there
NOT_RUNNING_ERRORS = (2002, 2003)


def client_failure(text: str, node: str) -> Optional[Tuple[bool, str]]:
    """What the mysql client (or the collector's sh) said instead of a result, if anything: ``(True, reason)``
    when there is no MySQL to ask on ``node`` (no client, no server: the data is absent, the rules skip),
    ``(False, error)`` when a server is there but refused or failed (access denied, a statement it errors on).
    ``text`` is the client's error output, a bundle item's error, or a node-folder file (output and errors
    mixed); a result with a warning line above it is no failure.

    >>> down, why = client_failure("ERROR 2002 (HY000): Can't connect to local server through socket "
    ...                            "'/run/mysqld/mysqld.sock' (2)\\n", "node02")
    >>> down, why[:60]
    (True, 'MySQL is not installed/running on node02: ERROR 2002 (HY000)')
    >>> client_failure(NO_CLIENT + "\\n", "node02")[1]
    'MySQL is not installed/running on node02: no mysql or mariadb client on PATH'
    >>> client_failure("ERROR 1045 (28000): Access denied for user 'root'@'localhost' (using password: YES)", "n")
    (False, "ERROR 1045 (28000): Access denied for user 'root'@'localhost' (using password: YES)")
    >>> client_failure("mysql: [Warning] Using a password on the command line interface can be insecure.\\n"
    ...                "File\\tPosition\\nb.000001\\t4\\n", "n") is None
    True
    """
    if NO_CLIENT in text:
        return True, f"MySQL is not installed/running on {node}: {NO_CLIENT}"
    m = _CLIENT_ERROR_TEXT.search(text)
    if m is None:
        return None
    error = shorten(m.group(0).strip(), 300)
    if int(m.group(1)) in NOT_RUNNING_ERRORS:
        return True, f"MySQL is not installed/running on {node}: {error}"
    return False, error


def _client_error(path: str, number: int, text: str) -> Problem:
    return Problem(path, number, "the mysql client printed an error instead of a result", shorten(text),
                   code="mysql-client-error")


def parse_replica_status(data: bytes, path: str) -> ReplicaStatus:
    """``SHOW SLAVE STATUS\\G``, ``SHOW REPLICA STATUS\\G`` or MariaDB's ``SHOW ALL SLAVES STATUS\\G``.

    Continuation lines (MySQL's multi-line ``Executed_Gtid_Set``, an error text with a newline) join the
    field above: a field line has its colon in the row's colon column (the client right-aligns names).
    """
    out = ReplicaStatus(path)
    current: Optional[ReplicaChannel] = None
    colon = -1
    last = ""
    for number, text in numbered_lines(data):
        if len(text) > MAX_CONFIG_LINE:
            out.problems.append(Problem(path, number, "line too long", code="line-too-long"))
            continue
        if _ROW.match(text):
            current, colon, last = ReplicaChannel(number), -1, ""
            out.channels.append(current)
            continue
        if current is None and _CLIENT_ERROR.match(text):
            out.problems.append(_client_error(path, number, text))
            continue
        m = _FIELD.match(text)
        if m and (colon < 0 or len(m.group(1)) + len(m.group(2)) == colon):
            if current is None:
                current = ReplicaChannel(number)
                out.channels.append(current)
            if colon < 0:
                colon = len(m.group(1)) + len(m.group(2))
            last = classic_name(m.group(2))
            current.fields[last] = m.group(3)
        elif current is not None and last:
            current.fields[last] += "\n" + text
        elif text.strip():
            if _CLIENT_ERROR.match(text):
                out.problems.append(_client_error(path, number, text))
            else:
                out.problems.append(Problem(path, number, "not a SHOW SLAVE STATUS\\G line", shorten(text),
                                            severity="warning", code="mysql-unexpected-line"))
    return out


@dataclass
class MasterStatus:
    """SHOW MASTER STATUS (SHOW BINARY LOG STATUS): the binlog being written; no row = binary log off."""

    path: str
    file: str = ""
    position: Optional[int] = None
    line: int = 0
    fields: Dict[str, str] = field(default_factory=dict)
    problems: List[Problem] = field(default_factory=list)

    @property
    def logging(self) -> bool:
        return bool(self.file)

    def summary(self) -> str:
        return f"binlog at {self.file}:{self.position}" if self.logging else "no binary log (SHOW MASTER STATUS empty)"

    def to_dict(self) -> dict:
        return {"path": self.path, "file": self.file, "position": self.position, "line": self.line,
                "fields": dict(self.fields), "problems": [str(p) for p in self.problems]}


def _cells(text: str) -> List[str]:
    """A row of the tab-separated batch form or of the boxed ``| a | b |`` form."""
    if text.startswith("|"):
        return [c.strip() for c in text.strip().strip("|").split("|")]
    return text.split("\t")


def parse_master_status(data: bytes, path: str) -> MasterStatus:
    """``mysql -e 'SHOW MASTER STATUS'`` (header + row, tab-separated), ``-N`` (no header), boxed, or ``\\G``.

    >>> parse_master_status(b"*** 1. row ***\\n    File: a-bin.000002\\nPosition: 342\\n", "x").position
    342
    >>> parse_master_status(b"", "x").logging
    False
    """
    out = MasterStatus(path)
    header: Optional[List[str]] = None
    for number, text in numbered_lines(data):
        if len(text) > MAX_CONFIG_LINE:
            out.problems.append(Problem(path, number, "line too long", code="line-too-long"))
            continue
        stripped = text.strip()
        if not stripped or stripped.startswith("+-") or _ROW.match(stripped) or stripped.startswith("***"):
            continue
        if not out.fields and _CLIENT_ERROR.match(text):
            out.problems.append(_client_error(path, number, text))
            continue
        m = _FIELD.match(text)
        if m and "\t" not in text and not text.startswith("|"):
            out.fields[m.group(2)] = m.group(3)
            if m.group(2) == "File":
                out.file, out.line = m.group(3).strip(), number
            elif m.group(2) == "Position":
                out.position = _null_int(m.group(3))
            continue
        cells = _cells(text)
        if cells and cells[0] == "File":
            header = cells
            continue
        if _CLIENT_ERROR.match(text):
            out.problems.append(_client_error(path, number, text))
            continue
        if len(cells) >= 2 and to_int(cells[1]) is not None and not out.file:
            names = header or ["File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"]
            out.fields = dict(zip(names, cells))
            out.file, out.position, out.line = cells[0], to_int(cells[1]), number
            continue
        out.problems.append(Problem(path, number, "not a SHOW MASTER STATUS line", shorten(text),
                                    severity="warning", code="mysql-unexpected-line"))
    return out


@dataclass
class MysqlVariables:
    """SHOW GLOBAL VARIABLES: name (lower case) -> (value, line)."""

    path: str
    values: Dict[str, Tuple[str, int]] = field(default_factory=dict)
    problems: List[Problem] = field(default_factory=list)

    def get(self, name: str) -> Optional[str]:
        found = self.values.get(name.lower())
        return found[0] if found else None

    def line(self, name: str) -> int:
        found = self.values.get(name.lower())
        return found[1] if found else 0

    def number(self, name: str) -> Optional[int]:
        value = self.get(name)
        return None if value is None else to_int(value.strip())

    def flag(self, name: str) -> Optional[bool]:
        value = self.get(name)
        if value is None:
            return None
        return value.strip().upper() in ("ON", "1", "YES", "TRUE")

    def summary(self) -> str:
        names = ("server_id", "log_bin", "read_only", "auto_increment_increment", "auto_increment_offset")
        shown = ", ".join(f"{n} {self.get(n)}" for n in names if self.get(n) is not None)
        return f"{len(self.values)} variables; {shown}"

    def to_dict(self) -> dict:
        return {"path": self.path, "values": {k: v for k, (v, _n) in self.values.items()},
                "problems": [str(p) for p in self.problems]}


#: the few variables that can carry a credential (Galera's SST "user:password")
_SECRET_VARIABLE = re.compile(r"^(?:wsrep_sst_auth|.*_password|password)$", re.IGNORECASE)


def parse_variables(data: bytes, path: str) -> MysqlVariables:
    """``mysql -N -e 'SHOW GLOBAL VARIABLES'`` (tab-separated; with or without the header, or boxed)."""
    out = MysqlVariables(path)
    for number, text in numbered_lines(data):
        if len(text) > MAX_CONFIG_LINE:
            out.problems.append(Problem(path, number, "line too long", code="line-too-long"))
            continue
        if not text.strip() or text.startswith("+-"):
            continue
        cells = _cells(text)
        if len(cells) < 2 or not _NAME.match(cells[0]):
            if _CLIENT_ERROR.match(text):
                out.problems.append(_client_error(path, number, text))
            else:
                out.problems.append(Problem(path, number, "not a 'name<TAB>value' line", shorten(text),
                                            severity="warning", code="mysql-unexpected-line"))
            continue
        if cells[0] == "Variable_name":
            continue
        value = "\t".join(cells[1:])
        out.values[cells[0].lower()] = ("****" if _SECRET_VARIABLE.search(cells[0]) and value else value, number)
    return out


# --------------------------------------------------------------------------- my.cnf

#: option groups the server reads (mysqld, and the MariaDB/MySQL version-specific ones)
SERVER_GROUPS = re.compile(r"^(mysqld|server|mariadb|mariadbd|mysqld-[0-9.]+|mariadb-[0-9.]+)$")
_GROUP = re.compile(r"^\[([^\]]*)\]$")
_OPTION = re.compile(r"^([A-Za-z0-9_.\-]+)[ \t]*(?:=[ \t]*(.*))?$")
_SECRET_OPTION = re.compile(r"passw|secret", re.IGNORECASE)


@dataclass
class MyCnfOption:
    group: str
    name: str  # dashes as underscores, lower case (the server treats them alike)
    value: object  # str, Secret for passwords, or None for a bare flag (skip-log-bin)
    file: str
    line: int

    def to_dict(self) -> dict:
        value = "****" if isinstance(self.value, Secret) else self.value
        return {"group": self.group, "name": self.name, "value": value, "file": self.file, "line": self.line}


@dataclass
class MyCnf:
    """my.cnf and the files it includes, in reading order (later options win)."""

    path: str
    options: List[MyCnfOption] = field(default_factory=list)
    includes: List[Tuple[str, str, int]] = field(default_factory=list)  # (!include|!includedir, target, line)
    files: List[str] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)

    def server_option(self, name: str) -> Optional[MyCnfOption]:
        """The last setting of ``name`` in a server group (``log-bin`` and ``log_bin`` alike)."""
        name = name.replace("-", "_").lower()
        found = None
        for opt in self.options:
            if opt.name == name and SERVER_GROUPS.match(opt.group):
                found = opt
        return found

    def merge(self, other: "MyCnf") -> None:
        self.options += other.options
        self.includes += other.includes
        self.files += other.files
        self.problems += other.problems

    def summary(self) -> str:
        return f"{len(self.files)} file(s), {len(self.options)} option(s)"

    def to_dict(self) -> dict:
        return {"path": self.path, "files": list(self.files), "options": [o.to_dict() for o in self.options],
                "includes": [list(i) for i in self.includes], "problems": [str(p) for p in self.problems]}


#: the line before each file where my.cnf and its included files come as one (a comment to the server)
PART_MARK = "### /"


def parse_mycnf(data: bytes, path: str) -> MyCnf:
    """An option file (``[group]``, ``name = value``, bare flags, ``#``/``;`` comments, ``!include``), or
    several in reading order, each after a ``### /PATH`` line (as a bundle and the live host collect them).

    >>> cnf = parse_mycnf(b"[client]\\npassword = s3cr3t\\n[mysqld]\\nserver-id = 2\\nlog-bin\\n"
    ...                   b"!includedir /etc/mysql/conf.d/\\n", "my.cnf")
    >>> cnf.server_option("server_id").value, cnf.server_option("log_bin").value, cnf.options[0].value
    ('2', None, Secret(****))
    >>> cnf.includes
    [('!includedir', '/etc/mysql/conf.d/', 6)]
    >>> both = parse_mycnf(b"### /etc/mysql/my.cnf\\n[mysqld]\\nserver-id = 1\\n### /etc/mysql/conf.d/r.cnf\\n"
    ...                    b"server-id = 3\\n[mysqld]\\nserver-id = 2\\n", "my.cnf")
    >>> opt = both.server_option("server_id")
    >>> both.files, opt.value, opt.file, opt.line  # the line in its own file (the 3rd of r.cnf)
    (['/etc/mysql/my.cnf', '/etc/mysql/conf.d/r.cnf'], '2', '/etc/mysql/conf.d/r.cnf', 3)
    >>> [p.message for p in both.problems]
    ['option before any [group]']
    """
    out = MyCnf(path)
    group = ""
    parts: List[str] = []
    part, start = path, 0  # the file an option is in, and where it starts in ``data``
    for number, text in numbered_lines(data):
        if len(text) > MAX_CONFIG_LINE:
            out.problems.append(Problem(path, number, "line too long", code="line-too-long"))
            continue
        stripped = text.strip()
        if text.startswith(PART_MARK):  # the collector's next file (hadoctor.datums): it starts outside any group
            group = ""
            parts.append(text[len(PART_MARK) - 1:].strip())
            part, start = parts[-1], number
            continue
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("!include"):
            word, _, target = stripped.partition(" ")
            if word in ("!include", "!includedir") and target.strip():
                out.includes.append((word, target.strip(), number))
            else:
                out.problems.append(Problem(path, number, "unknown ! directive", shorten(stripped),
                                            severity="warning", code="mycnf-bad-line"))
            continue
        m = _GROUP.match(stripped)
        if m:
            group = m.group(1).strip().lower()
            continue
        m = _OPTION.match(stripped)
        if m is None or not group:
            out.problems.append(Problem(path, number, "not an option line" if group else "option before any [group]",
                                        "" if _SECRET_OPTION.search(stripped) else shorten(stripped),
                                        code="mycnf-bad-line"))
            continue
        name = m.group(1).replace("-", "_").lower()
        value: object = None
        if m.group(2) is not None:
            raw = _unquote(_drop_comment(m.group(2)))
            value = Secret(raw) if _SECRET_OPTION.search(name) else raw
        out.options.append(MyCnfOption(group, name, value, part, number - start))
    out.files = parts or [path]
    return out


def _drop_comment(value: str) -> str:
    if value[:1] in ("'", '"'):
        end = value.find(value[0], 1)
        return value[: end + 1] if end > 0 else value.strip()
    cut = value.find(" #")
    cut = value.find("\t#") if cut < 0 else cut
    return (value if cut < 0 else value[:cut]).strip()


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in ("'", '"'):
        return value[1:-1]
    return value
