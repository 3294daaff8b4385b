"""Parser for heartbeat's ``/etc/ha.d/ha.cf`` with heartbeat 3.0.6's own rules.

The first word of a line is the directive (case-sensitive); ``#`` anywhere starts a
comment. Option directives apply each word of the rest separately, split on blanks
*and commas* (``node a b`` declares two nodes); whole-line directives (``ucast``,
``mcast``, ``respawn``, ``apiauth``, ``stonith_host``...) take the line as a whole.
Directives take effect in file order, which is why every item keeps its ``line`` and
its ``index`` (position among the directives).

>>> cf = parse_hacf(b'''keepalive 2
... deadtime 10
... bcast eth1
... udpport 694    # too late for bcast
... node Alpha beta
... auto_failback on
... ''', "ha.cf")
>>> [n.name for n in cf.nodes], [(m.kind, m.iface, m.port) for m in cf.media]
(['alpha', 'beta'], [('bcast', 'eth1', 694)])
>>> cf.keepalive.value, cf.deadtime.value, cf.warntime.value, cf.warntime.explicit, cf.initdead.value
(2000, 10000, 5000, False, 20000)
>>> cf.udpport.line, cf.udpport_for_media()
(4, {'bcast': 694})
>>> parse_hacf(b"undport 694\\n", "ha.cf").problems[0].message
'Illegal directive [undport] in ha.cf; did you mean udpport?'

Cross-directive checks (deadtime against keepalive, udpport after media, missing
media or nodes) belong to rules; the accessors give them values, lines and order.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from hadoctor.parsers.base import (MAX_CONFIG_LINE, MAX_PROBLEMS_PER_LINE, TOO_MANY, Problem, numbered_lines,
                                   shorten)
from hadoctor.parsers.timespec import C_WHITESPACE, c_atoi, c_strtol, format_ms, parse_time_ms
from hadoctor.secrets import Secret

#: heartbeat's DELIMS: option lists split on commas too.
_DELIMS = "," + C_WHITESPACE
_WS_SPLIT = re.compile(f"[{re.escape(C_WHITESPACE)}]+")
_DELIM_SPLIT = re.compile(f"[{re.escape(_DELIMS)}]+")

#: compiled-in port when udpport is unset and /etc/services has no ha-cluster entry (Debian).
DEFAULT_UDPPORT = 694
MAX_MEDIA = 64
MAX_NODES = 100
MASK = "****"

_TRUE = frozenset(("true", "on", "yes", "y", "1"))
_FALSE = frozenset(("false", "off", "no", "n", "0"))

#: glibc's syslog facility names (cl_syslogfac_str2int, case-sensitive) plus "none".
FACILITIES = frozenset(["auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "mark",
                        "news", "security", "syslog", "user", "uucp", "none"]
                       + [f"local{i}" for i in range(8)])
BAUD_RATES = frozenset((9600, 19200, 38400, 57600, 115200, 230400, 460800))
PACEMAKER_MODES = ("minimal", "manual", "respawn", "ccm-only", "valgrind")

#: Problem code: a timing directive's value heartbeat cannot read (or reads as zero).
BAD_TIME = "hacf-bad-time"
TIME_DIRECTIVES = ("keepalive", "deadtime", "deadping", "initdead", "warntime", "conn_logd_time")
_BOOL_DIRECTIVES = frozenset(("realtime", "use_logd", "use_apphbd", "log_badpack", "syslogmsgfmt", "coredumps",
                              "traditional_compression", "crmd_spawns_pengine", "record_config_changes",
                              "record_pengine_inputs", "enable_config_writes"))
_STRING_DIRECTIVES = frozenset(("cluster", "logfile", "debugfile", "coreroot", "crm_daemon_dir", "quorum_server"))
#: directive -> (lowest, highest) for values read with atoi.
_INT_RANGES = {"hopfudge": (0, 255), "debug": (0, 255), "rtprio": (1, 99), "memreserve": (1, None),
               "compression_threshold": (1, None), "max_rexmit_delay": (1, None), "udpport": (1, None)}
_CHOICES = {"hbgenmethod": ("file", "time"), "msgfmt": ("classic", "netstring"),
            "uuidfrom": ("file", "nodename"), "compression": ("zlib", "bz2")}

#: option-list directives of heartbeat 3.0.6 (Directives[] in config.c); crm is pacemaker's alias.
OPTION_DIRECTIVES = frozenset({"node", "watchdog", "baud", "logfacility", "nice_failback", "auto_failback", "env",
                               "crm", "pacemaker", "autojoin"}
                              | set(TIME_DIRECTIVES) | _BOOL_DIRECTIVES | _STRING_DIRECTIVES
                              | set(_INT_RANGES) | set(_CHOICES))
WHOLE_LINE_DIRECTIVES = frozenset(("stonith", "stonith_host", "apiauth", "respawn", "failfast"))
#: media plugins: per word (``new``) and whole line (``parse``); Debian ships all of these.
TOKEN_MEDIA = frozenset(("bcast", "serial", "ping", "ping6"))
LINE_MEDIA = frozenset(("ucast", "ucast6", "mcast", "mcast6", "ping_group"))
#: plugins in heartbeat's source tree that distributions do not build.
UNBUILT_MEDIA = frozenset(("hbaping", "tipc", "rds"))
PING_MEDIA = frozenset(("ping", "ping6", "ping_group"))
KNOWN_DIRECTIVES = OPTION_DIRECTIVES | WHOLE_LINE_DIRECTIVES | TOKEN_MEDIA | LINE_MEDIA
_SUGGESTIONS = sorted(KNOWN_DIRECTIVES | {"udp"})

#: what heartbeat applies after parsing when a directive is absent (Directives[] defaults).
DEFAULTS: Dict[str, Tuple[Any, str]] = {
    "cluster": ("linux-ha", "linux-ha"), "hopfudge": (1, "1"), "baud": (19200, "19200"),
    "hbgenmethod": ("file", "file"), "realtime": (True, "true"), "msgfmt": ("classic", "classic"),
    "conn_logd_time": (60000, "60"), "log_badpack": (True, "true"), "syslogmsgfmt": (True, "true"),
    "coredumps": (True, "true"), "autojoin": ("none", "none"), "uuidfrom": ("file", "file"),
    "compression": ("zlib", "zlib"), "compression_threshold": (2, "2"), "traditional_compression": (False, "no"),
    "max_rexmit_delay": (250, "250"), "record_config_changes": (True, "on"),
    "record_pengine_inputs": (True, "on"), "enable_config_writes": (True, "on"), "memreserve": (6500, "6500"),
    "keepalive": (1000, "1000ms"), "deadtime": (30000, "30000ms"), "auto_failback": ("legacy", "legacy"),
    "pacemaker": ("off", "false"),
}

#: apiauth clients that `pacemaker on` (3.0.6) registers itself; the first two even when minimal.
_PACEMAKER_APIAUTH = ("cib", "crmd", "stonithd", "stonith-ng", "attrd", "pingd")

_C_NUMBER = re.compile(r"0[xX]([0-9a-fA-F]*)|0[0-7]*|[1-9][0-9]*")
_TEMPLATE_MARKERS = (("{{", "}}"), ("{%", "%}"), ("{#", "#}"), ("<%", "%>"))


def parse_bool(token: str) -> Optional[bool]:
    """glue's ``cl_str_to_boolean``: True, False, or None when heartbeat refuses the word.

    >>> parse_bool("Yes"), parse_bool("0"), parse_bool("enabled")
    (True, False, None)
    """
    word = ascii_lower(token)
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, as C's tolower/strcasecmp do (``str.lower`` knows more)."""
    return text.lower() if text.isascii() else "".join(c.lower() if c.isascii() else c for c in text)


def template_marker(text: str) -> Optional[str]:
    """The first Jinja (``{{ }}``, ``{% %}``, ``{# #}``) or ERB (``<% %>``) marker on a line, if any.

    >>> template_marker("bcast {{ interface }}"), template_marker("node a  # {not a template}")
    ('{{ interface }}', None)
    """
    for opener, closer in _TEMPLATE_MARKERS:
        start = text.find(opener)
        if start >= 0:
            end = text.find(closer, start + 2)
            if end >= 0:
                return text[start:end + 2]
    return None


@dataclass
class Directive:
    """One non-comment line: the directive word, its arguments and where it stands.

    ``args`` are split the way heartbeat splits them (commas too for option lists).
    ``ok`` is False when heartbeat refuses the line or a part of it. For
    ``stonith_host`` the parameters are masked in ``args`` and ``raw``.
    """

    name: str
    args: List[str]
    line: int
    index: int
    raw: str
    ok: bool = True

    def to_dict(self) -> dict:
        return {"name": self.name, "args": list(self.args), "line": self.line, "index": self.index,
                "raw": self.raw, "ok": self.ok}


@dataclass(frozen=True)
class Setting:
    """The value a directive has in effect: typed ``value``, the word as written, its place.

    ``line`` 0 / ``index`` -1 mean heartbeat's default (or a value derived from others).
    """

    name: str
    value: Any
    text: str
    line: int = 0
    index: int = -1

    @property
    def explicit(self) -> bool:
        return self.line > 0

    def to_dict(self) -> dict:
        return {"value": self.value, "text": self.text, "line": self.line, "index": self.index,
                "explicit": self.explicit}


@dataclass(frozen=True)
class Node:
    """A ``node`` entry; ``name`` lower-cased as heartbeat stores it, ``written`` as in the file."""

    name: str
    written: str
    line: int
    index: int


@dataclass
class Medium:
    """One heartbeat communication path.

    ``port`` is the port really used: for bcast/ucast/ucast6 the ``udpport`` in effect
    when the plugin first loaded (see :meth:`HaCf.udpport_for_media`), for mcast the
    line's own port. ``ttl`` holds the hops of mcast6; ``hosts`` the members of a
    ping_group; ``written_as`` is ``udp`` for that old alias of bcast.
    """

    kind: str
    iface: Optional[str] = None
    peer: Optional[str] = None
    group: Optional[str] = None
    port: Optional[int] = None
    ttl: Optional[int] = None
    loop: Optional[int] = None
    line: int = 0
    index: int = 0
    hosts: List[str] = field(default_factory=list)
    written_as: str = ""

    @property
    def is_ping(self) -> bool:
        return self.kind in PING_MEDIA

    @property
    def link_name(self) -> str:
        """The name heartbeat gives the link in ``Link node:NAME up/dead`` lines."""
        if self.kind in ("ping", "ping6"):
            return self.peer or ""
        if self.kind == "ping_group":
            return self.group or ""
        return self.iface or ""

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, [], "")}


@dataclass(frozen=True)
class ClientChild:
    """A ``respawn`` or ``failfast`` entry: run ``command`` as ``user``; ``path`` is its first word."""

    kind: str
    user: str
    command: str
    path: str
    line: int
    index: int

    @property
    def failfast(self) -> bool:
        return self.kind == "failfast"


@dataclass(frozen=True)
class ApiAuth:
    """An ``apiauth client [uid=a,b] [gid=c]`` entry."""

    client: str
    uids: Tuple[str, ...]
    gids: Tuple[str, ...]
    line: int
    index: int


@dataclass(frozen=True)
class StonithDevice:
    """A ``stonith <type> <configfile>`` entry."""

    type: str
    config_file: str
    line: int
    index: int


@dataclass(frozen=True)
class StonithHost:
    """A ``stonith_host <host|*> <type> <params...>`` entry; params may be passwords, kept as Secret."""

    host: str
    type: str
    params: Tuple[Secret, ...]
    line: int
    index: int

    def to_dict(self) -> dict:
        return {"host": self.host, "type": self.type, "params": [MASK] * len(self.params),
                "line": self.line, "index": self.index}


@dataclass
class HaCf:
    """A parsed ha.cf. ``settings`` holds the last accepted value of each option directive.

    The timing accessors return heartbeat's effective values in ms, with its defaults
    and derivations (warntime = deadtime/2, the initdead table, deadping = deadtime).
    """

    path: str
    directives: List[Directive] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)
    nodes: List[Node] = field(default_factory=list)
    media: List[Medium] = field(default_factory=list)
    settings: Dict[str, Setting] = field(default_factory=dict)
    clients: List[ClientChild] = field(default_factory=list)
    apiauth: List[ApiAuth] = field(default_factory=list)
    stonith: List[StonithDevice] = field(default_factory=list)
    stonith_hosts: List[StonithHost] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)
    #: first line of an unrendered template marker, 0 if none
    template_line: int = 0
    #: port fixed by each udp plugin (bcast, ucast, ucast6) when its first medium loaded
    plugin_ports: Dict[str, Setting] = field(default_factory=dict)

    # -- generic access -------------------------------------------------------------
    def setting(self, name: str) -> Optional[Setting]:
        """The explicit setting, else heartbeat's default for it, else None."""
        found = self.settings.get(name)
        if found is not None:
            return found
        if name in DEFAULTS:
            value, text = DEFAULTS[name]
            return Setting(name, value, text)
        return None

    def directives_named(self, name: str) -> List[Directive]:
        return [d for d in self.directives if d.name == name]

    @property
    def node_names(self) -> List[str]:
        return [n.name for n in self.nodes]

    # -- timings (ms) ---------------------------------------------------------------
    @property
    def keepalive(self) -> Setting:
        return self.setting("keepalive")  # type: ignore[return-value]

    @property
    def deadtime(self) -> Setting:
        return self.setting("deadtime")  # type: ignore[return-value]

    @property
    def warntime(self) -> Setting:
        return self.settings.get("warntime") or Setting("warntime", self.deadtime.value // 2, "deadtime/2")

    @property
    def initdead(self) -> Setting:
        found = self.settings.get("initdead")
        if found is not None:
            return found
        dead = self.deadtime.value
        if dead > 10000:
            return Setting("initdead", dead, "deadtime")
        if dead < 6000:
            return Setting("initdead", 12000, "12000ms (deadtime < 6 s)")
        return Setting("initdead", 2 * dead, "2*deadtime")

    @property
    def deadping(self) -> Setting:
        return self.settings.get("deadping") or Setting("deadping", self.deadtime.value, "deadtime")

    def timings(self) -> Dict[str, Setting]:
        return {name: getattr(self, name) for name in ("keepalive", "deadtime", "warntime", "initdead", "deadping")}

    # -- ports ------------------------------------------------------------------------
    @property
    def udpport(self) -> Optional[Setting]:
        """The last accepted ``udpport`` (int value), or None when the file sets none."""
        return self.settings.get("udpport")

    def udpport_for_media(self) -> Dict[str, int]:
        """Port each udp plugin present really uses: ``{"bcast": 694, "ucast": 694}``.

        Each plugin reads ``udpport`` once, when its first medium is parsed; a later
        ``udpport`` line does not reach it (so 694 applies, or an earlier udpport).
        """
        return {kind: setting.value for kind, setting in self.plugin_ports.items()}

    def ports(self) -> List[int]:
        """Every UDP port heartbeat's traffic uses: each udp plugin's port and the explicit ports of media
        lines; with no udp medium, ``udpport`` (or heartbeat's default 694).

        >>> parse_hacf(b"udpport 700\\nbcast eth0\\nmcast eth1 239.0.0.1 701 1 0\\n").ports()
        [700, 701]
        >>> parse_hacf(b"serial /dev/ttyS0\\n").ports()
        [694]
        """
        ports = set(self.udpport_for_media().values()) | {m.port for m in self.media if m.port}
        return sorted(ports or {self.udpport.value if self.udpport else DEFAULT_UDPPORT})

    # -- behaviour ----------------------------------------------------------------------
    @property
    def auto_failback(self) -> Setting:
        """``on``/``off``/``legacy`` (nice_failback folded in the way heartbeat does)."""
        return self.setting("auto_failback")  # type: ignore[return-value]

    @property
    def pacemaker(self) -> Setting:
        """``off``, ``on``, or a mode (respawn, minimal, manual, ccm-only, valgrind); ``crm`` is its alias."""
        return self.setting("pacemaker")  # type: ignore[return-value]

    @property
    def pacemaker_enabled(self) -> bool:
        """True when pacemaker manages resources, so haresources is ignored."""
        return self.pacemaker.value != "off"

    @property
    def autojoin(self) -> Setting:
        return self.setting("autojoin")  # type: ignore[return-value]

    @property
    def logfile(self) -> Optional[Setting]:
        return self.settings.get("logfile")

    @property
    def debugfile(self) -> Optional[Setting]:
        return self.settings.get("debugfile")

    @property
    def logfacility(self) -> Optional[Setting]:
        return self.settings.get("logfacility")

    @property
    def use_logd(self) -> Optional[Setting]:
        """Explicit ``use_logd`` (bool), or None: heartbeat then decides from the log targets."""
        return self.settings.get("use_logd")

    @property
    def respawn(self) -> List[ClientChild]:
        return [c for c in self.clients if c.kind == "respawn"]

    @property
    def failfast(self) -> List[ClientChild]:
        return [c for c in self.clients if c.kind == "failfast"]

    @property
    def ping_media(self) -> List[Medium]:
        return [m for m in self.media if m.is_ping]

    @property
    def link_media(self) -> List[Medium]:
        """Media that carry heartbeats between nodes (not ping pseudo-nodes)."""
        return [m for m in self.media if not m.is_ping]

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "directives": [d.to_dict() for d in self.directives],
            "nodes": [asdict(n) for n in self.nodes],
            "media": [m.to_dict() for m in self.media],
            "settings": {k: s.to_dict() for k, s in self.settings.items()},
            "timings_ms": {k: s.to_dict() for k, s in self.timings().items()},
            "udpport": self.udpport.to_dict() if self.udpport else None,
            "udpport_for_media": self.udpport_for_media(),
            "auto_failback": self.auto_failback.value,
            "pacemaker": self.pacemaker.value,
            "autojoin": self.autojoin.value,
            "clients": [asdict(c) for c in self.clients],
            "apiauth": [asdict(a) for a in self.apiauth],
            "stonith": [asdict(s) for s in self.stonith],
            "stonith_hosts": [s.to_dict() for s in self.stonith_hosts],
            "env": dict(self.env),
            "template_line": self.template_line,
            "problems": [asdict(p) for p in self.problems],
        }


def parse_hacf(data: bytes, path: str = "ha.cf") -> HaCf:
    """Parse ha.cf bytes; never raises. Problems name the line heartbeat would complain about."""
    return _Reader(path).read(data)


class _Reader:
    """Walks the file once, keeping the state heartbeat keeps while it parses."""

    def __init__(self, path: str) -> None:
        self.cf = HaCf(path)
        self.path = path
        self.watchdog_line = 0
        self.baud_line = 0
        self.pacemaker_line = 0  # first pacemaker/crm line: heartbeat accepts the directive once
        self.pacemaker_recorded = False
        self.nice_failback = False  # heartbeat's globals behind auto_failback
        self.api_clients: Dict[str, Tuple[int, str]] = {}  # client -> (line, origin)
        self.ping_nodes = 0
        self.template_lines = 0
        self.limit_line = 0
        self.directive: Optional[Directive] = None
        self.per_line: Dict[int, int] = {}

    # -- plumbing -------------------------------------------------------------------
    def problem(self, line: int, message: str, text: str = "", severity: str = "error", *, code: str) -> None:
        self.per_line[line] = count = self.per_line.get(line, 0) + 1
        if count <= MAX_PROBLEMS_PER_LINE:
            self.cf.problems.append(Problem(self.path, line, message, shorten(text), severity, code))
        elif count == MAX_PROBLEMS_PER_LINE + 1:
            self.cf.problems.append(Problem(self.path, line, "more problems on this line are not listed", "",
                                            severity, TOO_MANY))
        if severity == "error" and self.directive is not None:
            self.directive.ok = False

    def record(self, name: str, value: Any, token: str, d: Directive) -> None:
        self.cf.settings[name] = Setting(name, value, token, d.line, d.index)

    def read(self, data: bytes) -> HaCf:
        for number, text in numbered_lines(data):
            if len(text) > MAX_CONFIG_LINE:
                self.problem(number, f"line longer than {MAX_CONFIG_LINE} characters; not read", code="line-too-long")
                continue
            self.line(number, text)
        if self.template_lines:
            self.cf.problems.insert(0, Problem(
                self.path, self.cf.template_line,
                f"looks like an unrendered template ({self.template_lines} line(s) with Jinja/ERB markers, "
                "not read); give the file as installed on the node", "", "error", code="unrendered-template"))
        return self.cf

    def line(self, number: int, text: str) -> None:
        body = text.split("\0", 1)[0].lstrip(C_WHITESPACE)  # C stops at NUL
        body = body.split("#", 1)[0]
        cut = min((i for i in (body.find("\r"), body.find("\n")) if i >= 0), default=-1)
        if cut >= 0:
            body = body[:cut]
        if not body:
            return
        if template_marker(text) is not None:
            self.template_lines += 1
            if not self.cf.template_line:
                self.cf.template_line = number
            return
        blank = _WS_SPLIT.search(body)
        end = blank.start() if blank else len(body)
        name = body[:end]
        rest = body[end:].lstrip(_DELIMS)
        whole_line = name in WHOLE_LINE_DIRECTIVES or name in LINE_MEDIA
        args = _WS_SPLIT.split(rest.strip(C_WHITESPACE)) if whole_line else _DELIM_SPLIT.split(rest.strip(_DELIMS))
        args = [a for a in args if a]
        raw = text
        if name == "stonith_host":
            args = args[:2] + [MASK] * len(args[2:])
            raw = " ".join([name] + args)
        d = Directive(name, args, number, len(self.cf.directives), raw)
        self.cf.directives.append(d)
        self.directive = d
        self.dispatch(d, rest)
        self.directive = None

    def dispatch(self, d: Directive, rest: str) -> None:
        name = d.name
        if name == "udp":
            self.problem(d.line, "directive 'udp' replaced by 'bcast'", d.raw, "warning", code="hacf-obsolete")
            for token in d.args:
                self.token_medium("bcast", token, d, written_as="udp")
            return
        if name in UNBUILT_MEDIA:
            self.problem(d.line, f"media plugin [{name}] is not built by Debian or RHEL packages; "
                                 f"without it heartbeat says: Illegal directive [{name}] in {self.path}",
                         d.raw, "warning", code="hacf-unbuilt-medium")
            return
        if name not in KNOWN_DIRECTIVES:
            message = f"Illegal directive [{name}] in {self.path}"
            if name == "normalpoll":
                message += "; normalpoll is not compiled into heartbeat 3.0.x"
            elif len(name) <= 40:
                guess = difflib.get_close_matches(name, _SUGGESTIONS, 1, 0.75)
                if guess:
                    message += f"; did you mean {guess[0]}?"
            self.problem(d.line, message, d.raw, code="hacf-unknown-directive")
            return
        if name in TOKEN_MEDIA:
            if not d.args:
                self.problem(d.line, f"{name} without an argument: no medium defined", d.raw, "warning", code="hacf-no-value")
            for token in d.args:
                self.token_medium(name, token, d)
        elif name in LINE_MEDIA:
            getattr(self, "medium_" + name)(d)
        elif name in WHOLE_LINE_DIRECTIVES:
            getattr(self, "whole_" + name)(d, rest)
        else:
            if not d.args:
                self.problem(d.line, f"{name} without a value: heartbeat ignores the line", d.raw, "warning", code="hacf-no-value")
            for token in d.args:
                self.option(name, token, d)

    # -- option directives ------------------------------------------------------------------
    def option(self, name: str, token: str, d: Directive) -> None:
        text = d.raw
        if name == "crm":
            name = "pacemaker"  # set_release2mode hands the value to pacemaker
        if name in TIME_DIRECTIVES:
            self.time_option(name, token, d)
        elif name in _BOOL_DIRECTIVES:
            value = parse_bool(token)
            if value is None:
                self.problem(d.line, f"{name}: [{token}] is not a boolean (true/on/yes/y/1 or "
                                     "false/off/no/n/0)", text, code="hacf-bad-bool")
                return
            if name == "crmd_spawns_pengine" and not self.before_pacemaker(name, d):
                return
            self.record(name, value, token, d)
        elif name in _STRING_DIRECTIVES:
            if name == "crm_daemon_dir" and not self.before_pacemaker(name, d):
                return
            self.record(name, token, token, d)
        elif name in _INT_RANGES:
            self.int_option(name, token, d)
        elif name in _CHOICES:
            if token not in _CHOICES[name]:
                self.problem(d.line, self.choice_message(name, token), text, code="hacf-bad-choice")
                return
            self.record(name, token, token, d)
        else:
            getattr(self, "option_" + name)(token, d)

    def time_option(self, name: str, token: str, d: Directive) -> None:
        ms = parse_time_ms(token)
        at_least = 1 if name in ("keepalive", "warntime", "conn_logd_time") else 0
        if ms is None:
            if token[:2].lower() in ("ms", "us") and len(d.args) > 1:
                hint = f"; write the unit without a space ({d.args[0]}{token})"
            else:
                hint = "; heartbeat takes N (seconds, decimals allowed), Nms or Nus, no other units"
            message = f"{name}: bad time [{token}]{hint}"
            if name == "warntime":
                message = f"Warn time [{token}] is invalid.{hint}"
            self.problem(d.line, message, d.raw, code=BAD_TIME)
            return
        if ms < at_least:
            self.problem(d.line, f"Warn time [{token}] is invalid." if name == "warntime"
                         else f"{name}: [{token}] is {format_ms(ms)}; heartbeat needs more than 0", d.raw,
                         code=BAD_TIME)
            return
        self.record(name, ms, token, d)

    def int_option(self, name: str, token: str, d: Directive) -> None:
        value = c_atoi(token)  # heartbeat reads these with atoi: "694x" is 694
        low, high = _INT_RANGES[name]
        if value < low or (high is not None and value > high):
            if name == "udpport":
                message = f"invalid port [{token}] specified."
            elif name == "rtprio":
                message = f"Illegal realtime priority [{token}]"
            elif name == "max_rexmit_delay":
                message = f"Invalid max_rexmit_delay time({token})"
            else:
                limit = f"{low}-{high}" if high is not None else f"{low} or more"
                message = f"{name}: [{token}] is not a number in {limit}"
            self.problem(d.line, message, d.raw, code="hacf-bad-number")
            return
        if c_strtol(token)[1]:
            self.problem(d.line, f"{name}: [{token}] is read as {value}; the rest is ignored", d.raw, "warning", code="hacf-number-tail")
        if name == "udpport" and value > 65535:
            self.problem(d.line, f"udpport {value} is not a UDP port; the plugins use it modulo 65536",
                         d.raw, "warning", code="hacf-port-range")
        self.record(name, value, token, d)

    @staticmethod
    def choice_message(name: str, token: str) -> str:
        if name == "hbgenmethod":
            return f"Illegal hb generation method [{token}]"
        if name == "uuidfrom":
            return f"Invalid uuidfrom directive [{token}]"
        return f"{name}: [{token}] is not one of {', '.join(_CHOICES[name])}"

    def before_pacemaker(self, name: str, d: Directive) -> bool:
        if self.pacemaker_recorded:
            self.problem(d.line, f"If you specify {name}, it must come before the pacemaker directive", d.raw, code="hacf-after-pacemaker")
            return False
        return True

    def too_many(self, d: Directive, message: str) -> None:
        if self.limit_line != d.line:  # once per line, not once per word
            self.limit_line = d.line
            self.problem(d.line, message, d.raw, code="hacf-too-many")

    def option_node(self, token: str, d: Directive) -> None:
        if len(self.cf.nodes) + self.ping_nodes >= MAX_NODES:
            self.too_many(d, f"too many nodes: heartbeat allows {MAX_NODES} (ping nodes included)")
            return
        name = ascii_lower(token)
        for node in self.cf.nodes:
            if node.name == name:
                self.problem(d.line, f"node [{name}] declared again (first on line {node.line}); "
                                     "heartbeat counts it twice", d.raw, "warning", code="hacf-duplicate")
                break
        self.cf.nodes.append(Node(name, token, d.line, d.index))

    def option_watchdog(self, token: str, d: Directive) -> None:
        if self.watchdog_line:
            self.problem(d.line, f"Watchdog device multiply specified. (first on line {self.watchdog_line})", d.raw, code="hacf-duplicate")
            return
        self.watchdog_line = d.line
        self.record("watchdog", token, token, d)

    def option_baud(self, token: str, d: Directive) -> None:
        if self.baud_line:
            self.problem(d.line, f"Baudrate multiply specified. (first on line {self.baud_line})", d.raw, code="hacf-duplicate")
            return
        self.baud_line = d.line
        value = c_atoi(token)
        if value not in BAUD_RATES:
            self.problem(d.line, f"invalid baudrate [{token}] specified.", d.raw, code="hacf-bad-choice")
            return
        self.record("baud", value, token, d)

    def option_logfacility(self, token: str, d: Directive) -> None:
        if token not in FACILITIES:
            self.problem(d.line, f"Log facility({token}) not valid", d.raw, code="hacf-bad-choice")
            return
        self.record("logfacility", token, token, d)

    def option_auto_failback(self, token: str, d: Directive) -> None:
        value = parse_bool(token)
        if value is None and ascii_lower(token) != "legacy":
            self.problem(d.line, f"auto_failback: [{token}] is not on, off or legacy", d.raw, code="hacf-bad-choice")
            return
        self.nice_failback = value is not None
        mode = "legacy" if value is None else ("on" if value else "off")
        self.record("auto_failback", mode, token, d)

    def option_nice_failback(self, token: str, d: Directive) -> None:
        if parse_bool(token) is None:
            self.problem(d.line, f"nice_failback: [{token}] is not a boolean; the directive is obsolete, "
                                 "use auto_failback {on, off, legacy}", d.raw, code="hacf-bad-bool")
            return
        # heartbeat 3.0.6 tests its global state here, not the value: only an earlier
        # auto_failback on/off turns nice_failback into "auto_failback off".
        mode = "off" if self.nice_failback else "legacy"
        self.problem(d.line, f"nice_failback flag is obsolete.. Use auto_failback {{on, off, legacy}} instead. "
                             f"heartbeat applies 'auto_failback {mode}' here", d.raw, "warning", code="hacf-obsolete")
        self.record("nice_failback", parse_bool(token), token, d)
        self.cf.settings["auto_failback"] = Setting("auto_failback", mode, f"nice_failback {token}", d.line, d.index)

    def option_pacemaker(self, token: str, d: Directive) -> None:
        if self.pacemaker_line:
            self.problem(d.line, f"pacemaker/crm directive used multiple times! (first on line "
                                 f"{self.pacemaker_line})", d.raw, code="hacf-duplicate")
            return
        self.pacemaker_line = d.line
        word = ascii_lower(token)
        flag = parse_bool(token)
        if word in PACEMAKER_MODES:
            mode = word
        elif flag is not None:
            mode = "on" if flag else "off"
        else:
            self.problem(d.line, f"{d.name}: [{token}] is not on/off, respawn, minimal, manual, ccm-only "
                                 "or valgrind", d.raw, code="hacf-bad-choice")
            return
        self.pacemaker_recorded = True
        self.record("pacemaker", mode, token, d)
        if mode == "off":
            return
        implied = _PACEMAKER_APIAUTH[:2] if mode in ("minimal", "manual") else _PACEMAKER_APIAUTH
        for client in implied:
            self.claim_apiauth(client, d, f"{d.name} {token}")

    def option_autojoin(self, token: str, d: Directive) -> None:
        word = ascii_lower(token)
        if word not in ("none", "other", "any"):
            self.problem(d.line, f"Invalid autojoin directive [{token}]", d.raw, code="hacf-bad-choice")
            return
        self.record("autojoin", word, token, d)

    def option_env(self, token: str, d: Directive) -> None:
        name, sep, value = token.partition("=")
        if not name or not sep:
            self.problem(d.line, f"env: invalid nvpair({token}); write NAME=value (no commas or blanks)", d.raw, code="hacf-bad-env")
            return
        self.cf.env[name] = value

    # -- whole-line directives --------------------------------------------------------------
    def whole_respawn(self, d: Directive, rest: str, kind: str = "respawn") -> None:
        if not d.args:
            self.problem(d.line, f"{kind} needs a user and a command", d.raw, code="hacf-bad-command")
            return
        user = d.args[0]
        command = rest.strip(C_WHITESPACE)[len(user):].strip(C_WHITESPACE)
        path = _WS_SPLIT.split(command, 1)[0]
        if not command.startswith("/"):
            self.problem(d.line, f"Client child command [{command}] is not full pathname", d.raw, code="hacf-bad-command")
            return
        self.cf.clients.append(ClientChild(kind, user, command, path, d.line, d.index))

    def whole_failfast(self, d: Directive, rest: str) -> None:
        self.whole_respawn(d, rest, "failfast")

    def whole_apiauth(self, d: Directive, rest: str) -> None:
        if not d.args:
            self.problem(d.line, "Invalid apiauth directive []", d.raw, code="hacf-bad-apiauth")
            return
        client, lists = d.args[0], {"uid": None, "gid": None}
        for word in d.args[1:]:
            key = word[:4]
            if key not in ("uid=", "gid="):
                self.problem(d.line, f"Missing uid or gid in apiauth: Invalid apiauth directive [{rest}]", d.raw, code="hacf-bad-apiauth")
                return
            if lists[key[:3]] is not None:
                self.problem(d.line, f"Duplicate {key[:3]} list in apiauth: Invalid apiauth directive [{rest}]",
                             d.raw, code="hacf-bad-apiauth")
                return
            lists[key[:3]] = tuple(x for x in word[4:].split(",") if x)
        if lists["uid"] is None and lists["gid"] is None:
            self.problem(d.line, f"Invalid apiauth directive [{rest}]; give uid= or gid=", d.raw, code="hacf-bad-apiauth")
            return
        if self.claim_apiauth(client, d, "apiauth"):
            self.cf.apiauth.append(ApiAuth(client, lists["uid"] or (), lists["gid"] or (), d.line, d.index))

    def claim_apiauth(self, client: str, d: Directive, origin: str) -> bool:
        earlier = self.api_clients.get(client)
        if earlier is None:
            self.api_clients[client] = (d.line, origin)
            return True
        line, first = earlier
        if first == "apiauth" and origin == "apiauth":
            self.problem(d.line, f"Duplicate apiauth directive for API client {client} (first on line {line})",
                         d.raw, code="hacf-duplicate")
        else:
            # 3.0.x refuses the overlap; 2.1.x registered a different set, so only warn
            self.problem(d.line, f"apiauth {client} is given both by '{first}' (line {line}) and by '{origin}'; "
                                 f"heartbeat 3.0.x refuses it: Duplicate apiauth directive for API client "
                                 f"{client}", d.raw, "warning", code="hacf-duplicate")
        return False

    def whole_stonith(self, d: Directive, rest: str) -> None:
        if not d.args:
            self.problem(d.line, "No Stonith type given", d.raw, code="hacf-bad-stonith")
            return
        config = rest.strip(C_WHITESPACE)[len(d.args[0]):].strip(C_WHITESPACE)
        if not config:
            self.problem(d.line, "Invalid Stonith config file []: stonith needs <type> <configfile>", d.raw, code="hacf-bad-stonith")
            return
        self.cf.stonith.append(StonithDevice(d.args[0], config, d.line, d.index))

    def whole_stonith_host(self, d: Directive, rest: str) -> None:
        words = [w for w in _WS_SPLIT.split(rest.strip(C_WHITESPACE)) if w]
        if not words:
            self.problem(d.line, "No Stonith hostname argument given", d.raw, code="hacf-bad-stonith")
            return
        if len(words) < 2:
            # heartbeat skips lines for other hosts before it looks at the type
            if words[0] == "*":
                self.problem(d.line, "No Stonith type given", d.raw, code="hacf-bad-stonith")
            else:
                self.problem(d.line, f"No Stonith type given (refused on node {words[0]} only)", d.raw, "warning", code="hacf-bad-stonith")
            return
        params = tuple(Secret(w) for w in words[2:])
        self.cf.stonith_hosts.append(StonithHost(ascii_lower(words[0]), words[1], params, d.line, d.index))

    # -- media ---------------------------------------------------------------------------
    def add_medium(self, medium: Medium, d: Directive) -> bool:
        if len(self.cf.media) >= MAX_MEDIA:
            self.too_many(d, f"Too many media specified (> {MAX_MEDIA})")
            return False
        self.cf.media.append(medium)
        return True

    def plugin_port(self, kind: str, d: Directive) -> int:
        """The port a udp plugin uses: fixed by the udpport in effect at its first medium."""
        fixed = self.cf.plugin_ports.get(kind)
        if fixed is None:
            current = self.cf.settings.get("udpport")
            if current is not None:
                fixed = Setting(kind, current.value & 0xFFFF, current.text, current.line, current.index)
            else:
                fixed = Setting(kind, DEFAULT_UDPPORT, str(DEFAULT_UDPPORT))
            self.cf.plugin_ports[kind] = fixed
        return fixed.value

    def token_medium(self, kind: str, token: str, d: Directive, written_as: str = "") -> None:
        medium = Medium(kind, line=d.line, index=d.index, written_as=written_as)
        if kind in ("ping", "ping6"):
            if len(self.cf.nodes) + self.ping_nodes >= MAX_NODES:
                self.too_many(d, f"too many nodes: heartbeat allows {MAX_NODES} (ping nodes included)")
                return
            medium.peer = token
            self.ping_nodes += 1
        else:
            medium.iface = token
        if kind == "bcast":
            medium.port = self.plugin_port("bcast", d)
        self.add_medium(medium, d)

    def extra_words(self, kind: str, d: Directive, used: int) -> None:
        if len(d.args) > used:
            extra = " ".join(d.args[used:])
            self.problem(d.line, f"{kind} uses only its first {used} words; [{extra}] is ignored", d.raw, "warning", code="hacf-extra-words")

    def medium_ucast(self, d: Directive) -> None:
        if not d.args:
            self.problem(d.line, "ucast needs a device and a peer: ucast <dev> <peer-ip-or-host>", d.raw, code="hacf-bad-medium")
            return
        if len(d.args) < 2:
            self.problem(d.line, f"ucast: [{d.args[0]}] missing target IP address/hostname", d.raw, code="hacf-bad-medium")
            return
        self.extra_words("ucast", d, 2)
        port = self.plugin_port("ucast", d)
        self.add_medium(Medium("ucast", iface=d.args[0], peer=d.args[1], port=port, line=d.line, index=d.index), d)

    def medium_ucast6(self, d: Directive) -> None:
        if not d.args:
            self.problem(d.line, "ucast6 statement without device", d.raw, code="hacf-bad-medium")
            return
        dev = d.args[0]
        if len(d.args) < 2:
            self.problem(d.line, f"ucast6 [{dev}] missing ucast6 address", d.raw, code="hacf-bad-medium")
            return
        address = _ipv6(d.args[1].split("%", 1)[0])
        if address is None or address.is_multicast or address.is_unspecified or address.is_loopback:
            self.problem(d.line, f"ucast6 [{dev}] bad addr [{d.args[1]}]", d.raw, code="hacf-bad-medium")
            return
        self.extra_words("ucast6", d, 2)
        port = self.plugin_port("ucast6", d)
        self.add_medium(Medium("ucast6", iface=dev, peer=d.args[1], port=port, line=d.line, index=d.index), d)

    def medium_mcast(self, d: Directive) -> None:
        words = d.args + [""] * 5
        dev, group, port_word, ttl_word, loop_word = words[:5]
        usage = "; mcast needs: <dev> <group> <port> <ttl 0-4> <loop 0|1>"
        if not dev:
            self.problem(d.line, "mcast without arguments" + usage, d.raw, code="hacf-bad-medium")
            return
        # the checks and their order are mcast.c's: the first failure is the one reported
        address = inet_aton(group) if group else None
        port, ttl, loop = c_atoi(port_word) & 0xFFFF, c_atoi(ttl_word) & 0xFF, c_atoi(loop_word) & 0xFF
        failure = ("missing mcast address" if not group
                   else f"bad addr [{group}]" if address is None or not address.is_multicast
                   else "missing port" if not port_word
                   else f"bad port [{port}]" if port <= 0
                   else "missing ttl" if not ttl_word
                   else f"bad ttl [{ttl}]" if ttl > 4
                   else "missing loop" if not loop_word
                   else f"bad loop [{loop}]" if loop > 1
                   else "")
        if failure:
            self.problem(d.line, f"mcast [{dev}] {failure}{usage}", d.raw, code="hacf-bad-medium")
            return
        self.extra_words("mcast", d, 5)
        self.add_medium(Medium("mcast", iface=dev, group=group, port=port, ttl=ttl, loop=loop,
                               line=d.line, index=d.index), d)

    def medium_mcast6(self, d: Directive) -> None:
        words = d.args + [""] * 5
        dev, group, port_word, hops_word, loop_word = words[:5]
        usage = "; mcast6 needs: <dev> <group> <port> <hops 0-4> <loop 0|1>"
        if not dev:
            self.problem(d.line, "mcast6 statement without device" + usage, d.raw, code="hacf-bad-medium")
            return
        hops, loop = c_atoi(hops_word) & 0xFF, c_atoi(loop_word) & 0xFF
        failure = ("missing mcast6 address" if not group
                   else f"bad addr [{group}]" if not _mcast6_ok(group)
                   else "missing port" if not port_word
                   else "missing hops" if not hops_word
                   else f"bad hops [{hops}]" if hops > 4
                   else "missing loop" if not loop_word
                   else f"bad loop [{loop}]" if loop > 1
                   else "")
        if failure:
            self.problem(d.line, f"mcast6 [{dev}] {failure}{usage}", d.raw, code="hacf-bad-medium")
            return
        port = c_atoi(port_word)  # resolved later by getaddrinfo, so a service name works too
        self.extra_words("mcast6", d, 5)
        self.add_medium(Medium("mcast6", iface=dev, group=group, port=port if 0 < port < 65536 else None,
                               ttl=hops, loop=loop, line=d.line, index=d.index), d)

    def medium_ping_group(self, d: Directive) -> None:
        if len(d.args) < 2:
            self.problem(d.line, "ping_group needs a name and at least one host", d.raw, code="hacf-bad-medium")
            return
        self.add_medium(Medium("ping_group", group=d.args[0], hosts=list(d.args[1:]), line=d.line, index=d.index), d)


def _ipv6(text: str) -> Optional[ipaddress.IPv6Address]:
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        return None


def _mcast6_ok(text: str) -> bool:
    """heartbeat's plausibility test: multicast, no odd flags, link/admin/site/org scope, not all zero."""
    address = _ipv6(text)
    if address is None:
        return False
    packed = address.packed
    return (packed[0] == 0xFF and packed[1] & 0xE0 == 0 and packed[1] & 0x0F in (0x2, 0x4, 0x5, 0x8)
            and any(packed[2:]))


def inet_aton(text: str) -> Optional[ipaddress.IPv4Address]:
    """C ``inet_aton``: 1 to 4 parts, each decimal, 0x-hex or 0-octal (``225.1`` is 225.0.0.1).

    >>> inet_aton("225.0.0.1"), inet_aton("0x7f.1"), inet_aton("694"), inet_aton("eth0")
    (IPv4Address('225.0.0.1'), IPv4Address('127.0.0.1'), IPv4Address('0.0.2.182'), None)
    """
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or len(text) > 64:
        return None
    values = []
    for part in parts:
        match = _C_NUMBER.fullmatch(part)
        if match is None:
            return None
        if match.group(1) is not None:
            values.append(int(match.group(1) or "0", 16))
        elif part.startswith("0"):
            values.append(int(part, 8))
        else:
            values.append(int(part))
    last_bits = 8 * (5 - len(values))
    if any(v > 0xFF for v in values[:-1]) or values[-1] >= 1 << last_bits:
        return None
    number = 0
    for value in values[:-1]:
        number = number << 8 | value
    return ipaddress.IPv4Address(number << last_bits | values[-1] if len(values) > 1 else values[-1])
