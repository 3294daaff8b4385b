"""The plan of one rotation, a frozen value: made new (:meth:`Plan.make`) or read back from the
journal an interrupted run left on the nodes (:meth:`Plan.from_journal`).

It holds what every step after the plan needs: the run's id and fingerprint salt, the new key, each
node's authkeys file for each stage, and the journal every node carries while the run is active.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from hadoctor.datums import AUTHKEYS_PATH
from hadoctor.fix import keyfile, nodescript
from hadoctor.fix.inspect import NodeState
from hadoctor.fix.keyfile import NewKey
from hadoctor.inputs import under_root
from hadoctor.secrets import Secret, fingerprint

JOURNAL_SCHEMA = "hadoctor-fix-journal/1"


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_fp(salt: bytes, method: str, key: Optional[Secret]) -> str:
    """A keyed fingerprint of a key: lets the journal and the report tell keys apart, never show one."""
    return fingerprint(f"{method}:{key.reveal() if key is not None else ''}", salt)


def journal_doc(run: Mapping, node: str, state: str, backup: str) -> str:
    doc = dict(run)
    doc.update({"node": node, "state": state, "backup": backup, "updated": now_iso()})
    return json.dumps(doc, sort_keys=True)


@dataclass(frozen=True)
class Plan:
    run_id: str
    salt: bytes
    procedure: Optional[str]
    journal_base: Mapping[str, object]          # the journal's fields common to every node and state
    new: Optional[NewKey] = None                # None: a recovery that found no node listing the new key
    files: Mapping[str, Mapping[str, bytes]] = None   # node -> stage -> the authkeys file's bytes
    old_index: Optional[int] = None

    def journal(self, node: str, state: str, backup: str) -> str:
        return journal_doc(self.journal_base, node, state, backup)

    @classmethod
    def make(cls, infos: Mapping[str, NodeState], nodes: Sequence[str], procedure: str) -> "Plan":
        """A new key (an index no node uses), each node's file for each stage, the journal."""
        used = set()
        for info in infos.values():
            used |= set(info.parsed.keys) if info.parsed is not None else set()
        salt = os.urandom(16)
        old_indexes = {i.old_key.index for i in infos.values() if i.old_key is not None}
        new = NewKey.generate(used=used | old_indexes)
        run_id = uuid.uuid4().hex[:12]
        files = {name: {stage: keyfile.build(info.old_key, new, stage, f"run {run_id}") for stage in keyfile.STAGES}
                 for name, info in infos.items()}
        old = next(iter(infos.values())).old_key
        base = {
            "schema": JOURNAL_SCHEMA, "run": run_id, "started": now_iso(),
            "from_host": os.uname().nodename, "nodes": list(nodes), "procedure": procedure,
            "salt": salt.hex(),
            "old": {"index": old.index, "fp": key_fp(salt, old.method, old.key)},
            "new": {"index": new.index, "fp": key_fp(salt, new.method, new.secret)},
        }
        return cls(run_id, salt, procedure, base, new, files, sorted(old_indexes)[0] if old_indexes else None)

    @classmethod
    def from_journal(cls, doc: Mapping, infos: Mapping[str, NodeState]) -> Tuple["Plan", Dict[str, str]]:
        """The interrupted run's plan, and where each node stands: ``new`` (signs with the run's new
        key), ``old`` (still the old one), ``other`` or ``unreadable``. The new key is taken from any
        node that lists it (matched by the journal's fingerprint); the files are rebuilt from it."""
        base = {k: v for k, v in doc.items() if k not in ("node", "state", "backup", "updated")}
        run_id = doc.get("run")
        salt = bytes.fromhex(doc["salt"])
        new_fp, old_fp = doc["new"]["fp"], doc["old"]["fp"]
        new_index = int(doc["new"]["index"])
        states: Dict[str, str] = {}
        new_secret = None
        for name, info in infos.items():
            parsed = info.parsed
            if parsed is None or parsed.active is None:
                states[name] = "unreadable"
                continue
            for key in parsed.keys.values():
                if key.index == new_index and key_fp(salt, key.method, key.key) == new_fp:
                    new_secret = key.key
            fp = key_fp(salt, parsed.active.method, parsed.active.key)
            states[name] = "new" if fp == new_fp else "old" if fp == old_fp else "other"
        new = files = None
        if new_secret is not None and all(s in ("new", "old") for s in states.values()):
            new = NewKey(new_index, "sha1", new_secret)
            files = {name: {stage: keyfile.build(_old_key_for(info, new_index), new, stage, f"run {run_id}")
                            for stage in keyfile.STAGES}
                     for name, info in infos.items()}
        return cls(run_id, salt, doc.get("procedure"), base, new, files or {}), states


def _old_key_for(info: NodeState, new_index: int):
    parsed = info.parsed
    if parsed.active is not None and parsed.active.index != new_index:
        return parsed.active
    for key in parsed.keys.values():
        if key.index != new_index:
            return key
    # already final on this node: any placeholder old key is fine, only "final" is used there
    from hadoctor.parsers.authkeys import AuthKey

    return AuthKey((new_index + 1) % 16, "crc", None, 0)


def describe(plan: Plan, infos: Mapping[str, NodeState], nodes: Sequence[str], local: Optional[str],
             procedure_reason: str, root: str) -> Tuple[List[str], Dict[str, List[str]]]:
    """The plan for people (lines) and each node's authkeys diff with the keys masked."""
    diff = {name: keyfile.masked_diff(info.authkeys, plan.files[name]["final"],
                                      under_root(root, AUTHKEYS_PATH), plan.salt)
            for name, info in infos.items()}
    switch = ("switch every node at once (netstring wire: a receiver verifies with its own ACTIVE key, so "
              "the nodes must flip together, well under warntime)" if plan.procedure == "netstring"
              else "switch node by node (classic wire: every listed key verifies)")
    new = plan.new
    lines = [
        f"nodes: {', '.join(nodes)} (this host: {local or 'not a member'}); procedure: {plan.procedure} "
        f"({procedure_reason})",
        f"new key: index {new.index}, sha1, {keyfile.KEY_BYTES} random bytes (hex), from the OS's "
        "secure random source",
        f"1. backup authkeys on every node: {AUTHKEYS_PATH}.hadoctor-YYYYmmddTHHMMSS[.n] (0600, kept); "
        f"journal /var/lib/heartbeat/{nodescript.JOURNAL_NAME} (0600)",
        f"2. stage: auth {plan.old_index} (still signing with the old key) + key {new.index} listed; "
        "heartbeat -r on every node",
        f"3. {switch}: auth {new.index}, both keys listed; heartbeat -r",
        "4. verify: the peers' heartbeats carry the new key and verify with it (packet capture here), no "
        "authentication failure after the switch, no node declared dead, every node active (cl_status)",
        f"5. final file: auth {new.index} and the new key only; heartbeat -r",
        "on any failure: every node back to its backup (validated reload, all nodes together)",
    ]
    return lines, diff
