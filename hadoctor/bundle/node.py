"""One node's side of ``hadoctor bundle create``: run the inventory and collect scripts on it, parse, mask and
stage what came back (see :mod:`hadoctor.bundle.collect`)."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, List, Optional, Set, Tuple

from hadoctor.bundle import AUTHKEYS_META, redact
from hadoctor.bundle.logs import ROTATED_SUFFIX, is_syslog_target, keyvalues, log_targets, resolve_bound, trim_log
from hadoctor.bundle.scripts import collect_script, inventory_item, inventory_script
from hadoctor.errors import InputError
from hadoctor.framing import Output, parse_output
from hadoctor.remote import RunResult, Shell, SshShell
from hadoctor.parsers.asterisk import SERVICE_FILES
from hadoctor.datums import (
    ASTERISK_DIR,
    AUTHKEYS_PATH,
    DATUMS,
    HA_DIR,
    HACF_PATH,
    HOSTS_PATH,
    RESOURCE_DIR,
)
from hadoctor.bundle.options import CreateOptions, Progress


@dataclass
class NodeResult:
    name: str
    where: str
    status: str = "ok"              # ok | partial | unreachable | failed
    reason: str = ""
    duration_s: float = 0.0
    items: List[dict] = field(default_factory=list)
    logs: List[dict] = field(default_factory=list)
    clock: dict = field(default_factory=dict)
    window: dict = field(default_factory=dict)
    secrets: Set[str] = field(default_factory=set)   # never written: scrubbed from every member
    stonith: Set[str] = field(default_factory=set)   # stonith_host parameters (scrubbed when password-long)
    names: Set[str] = field(default_factory=set)
    #: masking on the node: how ("sed -E", "sed -r", "none") and what went unmasked (the collector masked it)
    masking: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"where": self.where, "status": self.status, "reason": self.reason or None,
                "duration_s": round(self.duration_s, 3), "clock": self.clock, "window": self.window,
                "masking": self.masking, "items": self.items, "logs": self.logs}




class NodeCollector:
    def __init__(self, name: str, shell: Shell, opts: CreateOptions, staging: Path, salt: bytes,
                 since, until, progress: Progress) -> None:
        self.name, self.shell, self.opts = name, shell, opts
        self.dir = staging / name
        self.salt, self.since, self.until = salt, since, until
        self.progress = progress
        self.result = NodeResult(name, shell.where)
        self.deadline = time.monotonic() + opts.timeout

    def remaining(self) -> float:
        return max(1.0, self.deadline - time.monotonic())

    def run(self) -> NodeResult:
        t0 = time.monotonic()
        try:
            self._run()
        except InputError as err:
            self.result.status, self.result.reason = "failed", str(err)
        finally:
            self.result.duration_s = time.monotonic() - t0
        style = {"ok": "green", "partial": "yellow"}.get(self.result.status, "red")
        self.progress.say(self.name, f"{self.result.status} in {self.result.duration_s:.1f} s"
                          + (f": {self.result.reason}" if self.result.reason else ""), style)
        return self.result

    def _item(self, name: str, file: str, status: str, *, command: str = "", rc=None, duration_s: float = 0.0,
              error: str = "", size: Optional[int] = None) -> dict:
        item = {"name": name, "file": file, "command": command, "status": status, "rc": rc,
                "duration_s": round(duration_s, 3), "error": error or None}
        if size is not None:
            item["bytes"] = size
        self.result.items.append(item)
        return item

    def _run(self) -> None:
        self.progress.say(self.name, f"inventory ({self.shell.where})")
        t_send = time.time()
        inv = self.shell.run(inventory_script(self.opts.root), timeout=self.remaining())
        t_back = time.time()
        if not inv.ok and not inv.stdout:
            remote = isinstance(self.shell, SshShell)
            self.result.status = "unreachable" if remote and (inv.rc == 255 or inv.error or inv.timed_out) \
                else "failed"
            self.result.reason = inv.reason
            if inv.timed_out:
                self.result.reason = f"no answer within --timeout {self.opts.timeout:g} s ({inv.reason})"
            return
        out = parse_output(inv.stdout)
        if "uname" not in out.status:
            self.result.status, self.result.reason = "failed", f"inventory script gave no output ({inv.reason})"
            return
        self.dir.mkdir(parents=True)
        self._inventory(out, inv, (t_send + t_back) / 2)
        del inv, out        # the authkeys bytes go with them
        self._collect()
        if any(i["status"] in ("timeout",) for i in self.result.items) and self.result.status == "ok":
            self.result.status = "partial"

    # -- inventory -------------------------------------------------------------
    def _inventory(self, out: Output, inv: RunResult, collector_epoch: float) -> None:
        from hadoctor.parsers.authkeys import parse_authkeys, parse_stat_line
        from hadoctor.parsers.hacf import parse_hacf

        def get(name: str) -> Tuple[str, bytes]:
            return inventory_item(out, name)

        _status, clock = get("clock")
        lines = clock.decode("utf-8", "replace").splitlines()
        node_now = None
        try:
            epoch = float(lines[0])
            node_now = datetime.strptime(lines[1][:19], "%Y-%m-%d %H:%M:%S")
            self.result.clock = {"epoch": epoch, "local": lines[1].strip(),
                                 "offset_s": round(epoch - collector_epoch, 3),
                                 "offset_uncertainty_s": round(inv.duration_s / 2, 3)}
        except (IndexError, ValueError):
            self.result.clock = {"error": clock.decode("utf-8", "replace")[:200]}
        (self.dir / "date.txt").write_text(json.dumps(self.result.clock) + "\n")
        how = get("masking")[1].decode("utf-8", "replace").strip()
        self.result.masking = {"on_node": how if how in ("sed -E", "sed -r") else "none", "unmasked_on_node": []}
        self.since = resolve_bound(self.since, node_now)
        self.until = resolve_bound(self.until, node_now)
        self.result.window = {"since": self.since.isoformat(sep=" ") if self.since else None,
                              "until": self.until.isoformat(sep=" ") if self.until else None,
                              "time": "the node's local log time"}
        # small text files (ha.cf masked for stonith_host; everything for password-like values)
        hacf = None
        for name, file, masker in (("nodeinfo", "nodeinfo", redact.mask_text), ("ha.cf", "ha.cf", redact.mask_hacf),
                                   ("haresources", "haresources", redact.mask_text),
                                   ("logd.cf", "logd.cf", redact.mask_text),
                                   ("syslog.conf", "syslog-conf.txt", redact.mask_text)):
            status, data = get(name)
            if status == "ok":
                masked, found = masker(data)
                self.result.secrets |= found
                (self.dir / file).write_bytes(masked)
                if name == "ha.cf":
                    self.result.stonith |= found
                    hacf = parse_hacf(data, HACF_PATH)
                    self.result.names |= {n.lower() for n in hacf.node_names}
                self._item(name, file, "ok", command=f"cat {HA_DIR}/{name}" if name != "syslog.conf" else "cat",
                           rc=0, size=len(masked))
            else:
                self._item(name, file, status, command=f"cat {name}",
                           error=data.decode("utf-8", "replace").strip()[:200])
        self.hacf = hacf
        # authkeys: parsed here, in memory; only metadata is written
        status, keydata = get("authkeys")
        if status == "ok":
            mode = owner = group = None
            _scode, stat = get("authkeys.stat")
            try:
                mode, owner, group = parse_stat_line(stat.decode("utf-8", "replace"))
            except ValueError:
                pass
            model = parse_authkeys(keydata, AUTHKEYS_PATH, mode=mode, owner=owner, group=group, salt=self.salt)
            for key in model.keys.values():
                if key.key is not None:
                    self.result.secrets.add(key.key.reveal())
            doc = model.to_dict()
            doc["fingerprint_salt"] = "random per bundle, not stored: fingerprints compare only within this bundle"
            doc["format"] = "hadoctor-authkeys-meta/1"
            (self.dir / AUTHKEYS_META).write_text(json.dumps(doc, indent=1) + "\n")
            self._item("authkeys", AUTHKEYS_META, "ok", command=f"cat {AUTHKEYS_PATH} (metadata only, key dropped)",
                       rc=0)
            del model
        else:
            self._item("authkeys", AUTHKEYS_META, status,
                       error=keydata.decode("utf-8", "replace").strip()[:200])
        del keydata
        self.logd = get("logd.cf")[1] if get("logd.cf")[0] == "ok" else b""
        self.syslog_conf = get("syslog.conf")[1]

    # -- collection ------------------------------------------------------------
    def _collect(self) -> None:
        targets = log_targets(self.hacf, self.logd, self.syslog_conf)
        self.log_why = dict(targets)
        files = [(spec.files[0], spec.live_paths[0]) for spec in DATUMS.values() if spec.bundle_copy]
        files += [(f"{DATUMS['service_configs'].files[0]}{n}", f"{ASTERISK_DIR}/{n}") for n in SERVICE_FILES]
        stamp = None
        if self.since is not None:
            stamp = (self.since - timedelta(minutes=1)).strftime("%Y%m%d%H%M.%S")
        script = collect_script(self.opts.root, stamp=stamp, log_bases=[t[0] for t in targets], files=files,
                                command_timeout=min(self.opts.command_timeout, max(1, int(self.remaining()) - 2)),
                                compress=isinstance(self.shell, SshShell), mysql_defaults=self.opts.mysql_defaults)
        self.progress.say(self.name, f"collecting ({len(targets)} log target(s), commands, files)")
        tmpdir = tempfile.mkdtemp(prefix="hadoctor-collect-")
        try:
            raw = os.path.join(tmpdir, "stream.tar")
            with open(raw, "wb") as out:
                res = self.shell.run(script, timeout=self.remaining(), stdout=out)
            if res.timed_out:
                self.result.status = "partial"
                self.result.reason = f"collection timed out after {res.duration_s:.1f} s (--timeout)"
            elif res.error:
                self.result.status = "partial"
                self.result.reason = res.error
            self._unpack(raw, res)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def _unpack(self, raw: str, res: RunResult) -> None:
        root = self.opts.root.rstrip("/")
        meta = logs = b""
        got = 0
        try:
            with tarfile.open(raw, mode="r|*") as tar:
                for info in tar:
                    if not info.isreg():
                        continue
                    got += 1
                    name = info.name
                    reader = tar.extractfile(info)
                    if name == "meta":
                        meta = reader.read()
                    elif name == "logs":
                        logs = reader.read()
                    elif name.startswith("out/"):
                        self._write_text(name[4:], reader.read(), redact.mask_text)
                    else:
                        self._file_member("/" + name, root, reader, info)
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            if not self.result.reason:
                self.result.status = "partial"
                self.result.reason = f"collection stream ended early ({exc}); {res.reason or 'see items'}"
        if not got and not self.result.reason:
            self.result.status = "failed"
            self.result.reason = f"collection script gave no archive: {res.reason or 'no output'}"
        self._read_meta(meta)
        self._read_logs(logs, root)

    def _write_text(self, file: str, data: bytes, masker: Callable) -> None:
        masked, found = masker(data)
        self.result.secrets |= found
        path = self.dir / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(masked)

    def _file_member(self, path: str, root: str, reader, info: tarfile.TarInfo) -> None:
        original = path[len(root):] if root and path.startswith(root + "/") else path
        if original == HOSTS_PATH:
            self._write_text(DATUMS["hosts"].files[0], reader.read(), redact.mask_text)
            return
        if original.startswith(ASTERISK_DIR + "/"):
            self._write_text("services/" + os.path.basename(original), reader.read(), redact.mask_conf)
            return
        # a log: to a temp file, then trimmed into the node folder
        member = self._log_member_name(original)
        tmp = self.dir / (".raw-" + member)
        with open(tmp, "wb") as out:
            shutil.copyfileobj(reader, out, 1 << 20)
        why = self._why(original)
        entry = {"source": original, "member": member, "why": why, "bytes_read": info.size}
        keep = None
        if is_syslog_target(why):
            entry["filter"] = "cluster records"
            keep = self._cluster_filter()
        try:
            trimmed = trim_log(str(tmp), str(self.dir / member), self.since, self.until, info.mtime, keep)
        except (InputError, OSError, EOFError) as exc:
            entry.update(status="error", error=str(exc))
            (self.dir / member).unlink(missing_ok=True)
        else:
            kept, total = trimmed.kept, trimmed.read
            entry.update(lines_read=total, lines_kept=kept)
            if keep is not None:
                entry["lines_filtered"] = trimmed.filtered
            if kept == 0:
                (self.dir / member).unlink()
                entry["status"] = "no cluster records" if trimmed.filtered else "outside window"
            else:
                entry["status"] = "trimmed" if kept < total else "whole"
                self._mask_log(self.dir / member, info.mtime)
        finally:
            tmp.unlink(missing_ok=True)
        self.result.logs.append(entry)

    def _cluster_filter(self) -> Callable:
        """The record filter for this node's syslog files: heartbeat's tags, plus this node's resource.d
        scripts (resource-scripts.txt, which the stream carries before the logs) and logd.cf's
        ``entity``/``syslogprefix``."""
        from hadoctor.parsers.hblog import is_cluster_record

        extra: Set[str] = set()
        conf = keyvalues(self.logd)
        extra.update(v for k, v in conf.items() if k in ("entity", "syslogprefix"))
        try:
            listing = (self.dir / "resource-scripts.txt").read_text("utf-8", "replace")
        except OSError:
            listing = ""
        for line in listing.splitlines():
            path = line[2:].strip()
            if path.startswith(RESOURCE_DIR + "/"):
                extra.add(os.path.basename(path))
        tags = frozenset(extra)
        return lambda rec: is_cluster_record(rec, tags)

    def _mask_log(self, path: Path, mtime: float) -> None:
        compressed = path.name.endswith(".gz")
        data = gzip.decompress(path.read_bytes()) if compressed else path.read_bytes()
        masked, found = redact.mask_text(data)
        self.result.secrets |= found
        if masked != data:
            path.write_bytes(gzip.compress(masked, 6, mtime=int(mtime)) if compressed else masked)
            os.utime(path, (mtime, mtime))

    def _why(self, original: str) -> str:
        for base, why in self.log_why.items():
            if original == base or re.fullmatch(re.escape(base) + ROTATED_SUFFIX, original):
                return why
        return "log"

    def _log_member_name(self, original: str) -> str:
        base = os.path.basename(original)
        if base.endswith(".bz2"):
            base = base[:-4] + ".gz"
        taken = {e["member"] for e in self.result.logs}
        if base in taken:
            base = original.strip("/").replace("/", "_")
        return base

    def _read_meta(self, meta: bytes) -> None:
        for line in meta.decode("utf-8", "replace").splitlines():
            parts = line.split("\t")
            if len(parts) < 7:
                continue
            name, file, status, rc, dur_ns, err, command = parts[:7]
            out = self.dir / file
            size = out.stat().st_size if out.exists() else None
            if status == "ok" and size == 0 and file in ("ifconfig.txt",):
                out.unlink()
                status, size = "skipped", None
                err = "ip is available"
            elif status != "ok" and out.exists() and size == 0:
                out.unlink()
                size = None
            err = redact.mask_text(err.encode())[0].decode().strip()
            try:
                rc_v: Optional[int] = int(rc)
            except ValueError:
                rc_v = None
            try:
                dur = int(dur_ns) / 1e9
            except ValueError:
                dur = 0.0
            if status == "timeout":
                err = (err + "; " if err else "") + f"killed by timeout after {self.opts.command_timeout} s"
            self._item(name, file, "not available" if status == "na" else status, command=command.strip(),
                       rc=rc_v, duration_s=dur, error=err, size=size)

    def _read_logs(self, logs: bytes, root: str) -> None:
        for line in logs.decode("utf-8", "replace").splitlines():
            kind, _, rest = line.partition("\t")
            if kind in ("file", "nofile"):
                label, _, path = rest.partition("\t")
                if kind == "nofile":
                    self._item(label, label, "missing", command=f"cat {path}", error=f"no such file: {path}")
                else:
                    f = self.dir / label
                    self._item(label, label, "ok" if f.exists() else "error", command=f"cat {path}",
                               size=f.stat().st_size if f.exists() else None)
                continue
            path = rest[len(root):] if root and rest.startswith(root + "/") else rest
            if kind == "unmasked":
                self.result.masking.setdefault("unmasked_on_node", []).append(path)
                continue
            if kind in ("old", "unreadable"):
                self.result.logs.append({"source": path, "member": None, "why": self._why(path),
                                         "status": "outside window" if kind == "old" else "unreadable"})
        present = {e["source"] for e in self.result.logs}
        for base, why in self.log_why.items():
            if not any(s == base or re.fullmatch(re.escape(base) + ROTATED_SUFFIX, s) for s in present):
                self.result.logs.append({"source": base, "member": None, "why": why, "status": "missing"})
        kept = [e for e in self.result.logs if e.get("member")]
        if not kept:
            self._item("log", "log", "missing", error="no heartbeat log with records in the window; tried "
                       + ", ".join(self.log_why))
