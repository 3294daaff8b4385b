"""What the loader takes from a bundle's manifest.json and authkeys.json (kept apart from the loader so
``check FOLDER`` never imports it)."""

from __future__ import annotations

from typing import Dict, List

from hadoctor.bundle import AUTHKEYS_META_SHAPE
from hadoctor.jsondoc import load
from hadoctor.parsers.authkeys import AuthKey, Authkeys
from hadoctor.parsers.base import Problem, to_int
from hadoctor.datums import ABSENT, ASTERISK_DIR, AUTHKEYS_PATH, DATUMS, FAILED, bundle_files


def authkeys_from_meta(data: bytes, path: str = "authkeys.json") -> Authkeys:
    """Rebuild the authkeys model (without keys) from a bundle's authkeys.json; InputError when malformed."""
    doc = load(data, path, AUTHKEYS_META_SHAPE, "the bundle's authkeys.json is damaged; collect the bundle again")
    mode = doc.get("mode")
    model = Authkeys(doc.get("path") or AUTHKEYS_PATH,
                     auth_lines=[(a["index"], a["line"]) for a in doc.get("auth_lines", [])],
                     active_index=doc.get("active_index"),
                     mode=to_int(mode, 8) if mode is not None else None,
                     owner=doc.get("owner"), group=doc.get("group"))
    for k in doc.get("keys", []):
        model.keys[k["index"]] = AuthKey(k["index"], k["method"], None, k["line"], k.get("fingerprint"))
    for p in doc.get("problems", []):
        model.problems.append(Problem(p.get("file", model.path), p.get("line", 0), p["message"],
                                      p.get("text") or "", p.get("severity", "error"),
                                      p.get("code") or "bundle-uncoded"))
    return model


def _item_reason(node: str, item: dict) -> str:
    command = item.get("command") or ""
    what = command if command and len(command) <= 40 else item.get("name")
    status = item.get("status")
    if status == "timeout":
        text = f"timed out ({item.get('error') or 'killed'})"
    elif status == "not available":
        text = item.get("error") or "tool not available"
    elif status == "missing":
        text = item.get("error") or "file not present"
    else:
        text = f"exit {item.get('rc')}" + (f": {item['error']}" if item.get("error") else "")
    return f"bundle item {item.get('name')!r} ({what}) on {node}: {text}"


def apply_manifest(cluster, manifest: dict, folders: Dict[str, str]) -> None:
    """Turn the manifest's reasons into cluster notes and into the missing-data reasons rules skip with."""
    nodes = manifest.get("nodes") or {}
    collected = set(folders.values())
    for name, entry in nodes.items():
        status = entry.get("status")
        if name not in collected:
            cluster.notes.append(f"bundle: node {name} was not collected ({status}): {entry.get('reason') or '?'}; "
                                 "rules comparing the nodes see only " + (", ".join(sorted(collected)) or "nothing"))
        elif status != "ok":
            cluster.notes.append(f"bundle: node {name} is incomplete ({status}): {entry.get('reason') or '?'}")
    for node in cluster.nodes:
        entry = nodes.get(folders.get(node.name, node.name)) or {}
        items = entry.get("items") or []
        by_file: Dict[str, dict] = {}
        for item in items:
            by_file.setdefault(item.get("file") or "", item)
        for datum in DATUMS:
            files = bundle_files(datum)
            current = node.data.get(datum)
            if current is None or current.present or current.kind != ABSENT:
                continue  # present, or unreadable here: the folder's own reason stands
            tried_items = [by_file[f] for f in files if f in by_file and by_file[f].get("status") not in ("ok", "skipped")]
            reasons = [_item_reason(node.name, item) for item in tried_items]
            kind = FAILED if any(i.get("status") in ("error", "timeout") for i in tried_items) else ABSENT
            said = [DATUMS[datum].failure(str(i.get("error") or ""), node.name) for i in tried_items]
            if said and all(s is not None and s[0] for s in said):  # the software is not on this node
                reasons, kind = list(dict.fromkeys(s[1] for s in said)), ABSENT
            if datum == "service_configs":
                tried = [i for i in items if str(i.get("file", "")).startswith("services/")]
                if tried and all(i.get("status") == "missing" for i in tried):
                    reasons = [f"bundle on {node.name}: no Asterisk/MOR files in {ASTERISK_DIR}"]
            if datum == "log":
                tried = [f"{e.get('source')}: {e.get('status')}" for e in entry.get("logs") or []]
                if tried:
                    reasons = [f"bundle on {node.name}: no heartbeat log in the window "
                               f"({(entry.get('window') or {}).get('since')} .. "
                               f"{(entry.get('window') or {}).get('until') or 'collection'}); " + "; ".join(tried)]
            if reasons:
                node.mark_missing(datum, "; ".join(reasons), current.source, kind)
        failed: List[str] = [f"{i.get('name')} ({i.get('status')})" for i in items
                             if i.get("status") in ("timeout", "error") and i.get("file") not in _fed()]
        if failed:
            node.notes.append("bundle items that failed: " + ", ".join(failed))
        clock = entry.get("clock") or {}
        if "offset_s" in clock:
            node.notes.append(f"bundle: clock {clock['offset_s']:+.1f} s from the collector's "
                              f"(± {clock.get('offset_uncertainty_s', 0):.1f} s) at collection")


def _fed() -> set:
    return {f for datum in DATUMS for f in bundle_files(datum)}
