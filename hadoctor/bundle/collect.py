"""``hadoctor bundle create``: collect every node into one archive that ``check`` reads offline.

Per node, two POSIX ``sh`` scripts (:mod:`hadoctor.bundle.scripts`) run through :mod:`hadoctor.remote`
(this host: ``sh -s``; other nodes: the system ``ssh``), the scripts on stdin, never in argv:

1. *inventory* (output kept in memory, never written anywhere): ``uname -n``, nodeinfo, the clock,
   ha.cf, haresources, logd.cf, the syslog configuration, authkeys and its mode. The collector
   parses them with hadoctor's own parsers: authkeys becomes metadata (``authkeys.json``: mode,
   owner, group, auth lines, per entry index, method and a keyed fingerprint under a random
   per-bundle salt that is never stored); ha.cf says which logs to take.
2. *collect* (a tar stream into a private temporary file here): every command (``ip a``, ``ip -j a``
   or ``ifconfig -a``, routes, packages, boot enablement, firewall, ``cl_status``, resource
   scripts...) with its exit code, duration and ``timeout`` where the node has it; /etc/hosts, the
   Asterisk/MOR files; the logs ha.cf names (logfile, debugfile, logd.cf's, or the syslog files for
   the facility) with their rotated and compressed siblings last written after ``--since``.

The remote side stays dumb (sh, coreutils, find, tar, optional gzip and timeout): log trimming to
``--since/--until`` happens here (:mod:`hadoctor.bundle.logs`), with hadoctor's own log-time parsing (:mod:`hadoctor.parsers.hblog`),
on each node's own local log time. Syslog files (taken for ``logfacility``) are shared with every other
program: only the cluster's records stay (:func:`hadoctor.parsers.hblog.is_cluster_record`); heartbeat's
own logfile/debugfile are trimmed by time only. Every text file is masked (:mod:`hadoctor.bundle.redact`); then
every known secret is scrubbed from every member (:mod:`hadoctor.bundle.pack`). An unreachable node, a failed or timed-out item is
recorded in manifest.json with the reason; collection goes on. Nodes are collected in parallel and
each within ``--timeout`` seconds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional, Sequence, Set, Tuple

from hadoctor import __version__
from hadoctor.bundle import FORMAT, redact
from hadoctor.bundle.pack import hostlike, pack, scrub_tree
from hadoctor.errors import InputError, UsageError
from hadoctor.remote import NodePlan, Shell, host_plan, local_node_name
from hadoctor.datums import HACF_PATH
from hadoctor.timebounds import parse_bound
from hadoctor.bundle.node import NodeCollector
from hadoctor.bundle.options import CreateOptions, Progress

DEFAULT_WINDOW = timedelta(hours=72)
#: stonith_host parameters are masked in ha.cf; those this long (passwords, not logins like admin/root) that
#: are no host name or address are also scrubbed from every other member
STONITH_SCRUB = 8


# --------------------------------------------------------------------------- the whole bundle

def create(opts: CreateOptions, progress: Optional[Progress] = None,
           shells: Optional[Sequence[Shell]] = None) -> Tuple[str, dict]:
    """Collect and write the bundle; returns (path, manifest). ``shells``: reach exactly these nodes
    this way (e.g. an Ansible connection) instead of this host + ssh."""
    progress = progress or Progress()
    since_b = parse_bound(opts.since, "--since") if opts.since else DEFAULT_WINDOW
    until_b = parse_bound(opts.until, "--until")
    if isinstance(since_b, datetime) and isinstance(until_b, datetime) and until_b < since_b:
        raise UsageError("--until is before --since", "swap them")
    if opts.timeout <= 0:
        raise UsageError("--timeout must be positive", "give seconds, e.g. --timeout 120")
    if not os.path.isdir(opts.root):
        raise InputError(opts.root, "no such folder", "give --root an existing folder (or leave it out)")
    if shells:
        plan = NodePlan(None, tuple(sh.node for sh in shells), local_node_name(opts.root))
    else:
        plan = host_plan(opts.nodes, opts.root)
    if not plan.nodes:
        raise UsageError(f"no node to collect: this host has no {HACF_PATH} node list",
                         "name the nodes: --node NODE1 --node NODE2")
    if opts.root not in ("/", "") and plan.remote and not opts.nodes:
        pass
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    output = opts.output or f"hadoctor-bundle-{plan.nodes[0]}-{stamp}.tar.gz"
    if os.path.exists(output):
        raise UsageError(f"{output} exists", "choose another -o FILE (a bundle is never overwritten)")
    out_dir = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(out_dir) or not os.access(out_dir, os.W_OK):
        raise InputError(output, "the folder does not exist or is not writable", "choose another -o FILE")
    map_file = None
    if opts.obfuscate:
        map_file = opts.map_file or re.sub(r"(\.tar\.gz|\.tgz)?$", "", output, count=1) + ".map.json"
        if os.path.exists(map_file):
            raise UsageError(f"{map_file} exists", "choose another --map-file")
    elif opts.map_file:
        raise UsageError("--map-file needs --obfuscate", "add --obfuscate, or drop --map-file")

    salt = os.urandom(32)          # authkeys fingerprints: compare within this bundle only; never stored
    started = datetime.now(timezone.utc)
    t0 = time.monotonic()
    shells = list(shells) if shells else plan.shells(opts.ssh)
    staging = Path(tempfile.mkdtemp(prefix="hadoctor-bundle-build-"))
    try:
        collectors = [NodeCollector(shell.node, shell, opts, staging, salt, since_b, until_b, progress)
                      for shell in shells]
        with ThreadPoolExecutor(max_workers=min(8, len(collectors))) as pool:
            results = list(pool.map(lambda c: c.run(), collectors))
        secrets: Set[str] = set()
        names: Set[str] = set()
        for r in results:
            secrets |= r.secrets
            names |= r.names
        stonith: Set[str] = set()
        for r in results:
            stonith |= r.stonith
        scrub = redact.scrub_set([s for s in secrets - stonith]
                                 + [s for s in stonith if len(s) >= STONITH_SCRUB
                                    and not hostlike(s, names | set(plan.nodes))])
        manifest = {
            "format": FORMAT,
            "hadoctor_version": __version__,
            "created": started.isoformat(timespec="seconds"),
            "collection_s": None,
            "collected_on": plan.host if plan.local else f"{plan.host} (not a member)",
            "options": {"nodes": list(plan.nodes), "since": opts.since or "72h", "until": opts.until,
                        "timeout_s": opts.timeout, "command_timeout_s": opts.command_timeout,
                        "obfuscated": bool(opts.obfuscate)},
            "redaction": {
                "authkeys": "metadata only (authkeys.json); keys never collected into any file; fingerprints are "
                            "keyed with a random per-bundle salt that was discarded",
                "masked": "stonith_host parameters; password-like values (secret, md5secret, password, passwd, "
                          "pwd, db_pass, token, *key in service configs)",
                "scrubbed_occurrences": 0,
            },
            "nodes": {r.name: r.to_dict() for r in results},
        }
        total_scrubbed = scrub_tree(staging, [s for s in scrub])
        manifest["redaction"]["scrubbed_occurrences"] = total_scrubbed
        map_doc = None
        if opts.obfuscate:
            progress.say("bundle", "obfuscating addresses and host names")
            from hadoctor.bundle.obfuscate import obfuscate_tree

            manifest, map_doc = obfuscate_tree(staging, manifest, plan.nodes)
        manifest["collection_s"] = round(time.monotonic() - t0, 3)
        top = f"hadoctor-bundle-{stamp}"
        pack(staging, manifest, output, top)
        if map_doc is not None:
            fd = os.open(map_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(map_doc, f, indent=1)
                f.write("\n")
            manifest["_map_file"] = map_file
        return output, manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)
