"""Support bundles: one archive holding every node's data, secrets masked, readable by ``check``.

* :mod:`hadoctor.bundle.collect`: ``hadoctor bundle create`` (runs the node scripts here or through the
  system ``ssh``; parses, masks and stages each node's files);
* :mod:`hadoctor.bundle.scripts`: the POSIX ``sh`` each node runs (framed with :mod:`hadoctor.framing`);
* :mod:`hadoctor.bundle.nodemask`: masking credentials on the node, before anything leaves it;
* :mod:`hadoctor.bundle.logs`: which logs to take from a node, trimmed to ``--since/--until``;
* :mod:`hadoctor.bundle.pack`: scrubbing every known secret from every member, packing the archive;
* :mod:`hadoctor.bundle.redact`: what is masked in every collected text file;
* :mod:`hadoctor.bundle.obfuscate`: ``--obfuscate`` (addresses and host names, subnets kept);
* :mod:`hadoctor.bundle.archive`: reading a bundle safely (``check BUNDLE``);
* :mod:`hadoctor.bundle.verify`: ``hadoctor bundle verify`` (scan every byte for leaks).

See docs/bundle.md for the layout, the manifest and the exit codes.
"""

#: ``format`` field of manifest.json
FORMAT = "hadoctor-bundle/1"
MANIFEST = "manifest.json"
#: the authkeys metadata file in a node folder (the key itself never enters a bundle)
AUTHKEYS_META = "authkeys.json"

from hadoctor.jsondoc import ListOf, MapOf, Obj  # noqa: E402 - small, no further imports

_OPT_STR, _OPT_INT, _OPT_NUM = (str, None), (int, None), (float, None)
#: What a reader may rely on in manifest.json (see docs/bundle.md); checked before any use.
MANIFEST_SHAPE = Obj({
    "format": str,
    "nodes": MapOf(Obj({
        "where": _OPT_STR, "status": _OPT_STR, "reason": _OPT_STR, "duration_s": _OPT_NUM,
        "clock": Obj({"offset_s": float, "offset_uncertainty_s": float, "error": str}),
        "window": Obj({"since": _OPT_STR, "until": _OPT_STR}),
        "items": ListOf(Obj({"name": _OPT_STR, "file": _OPT_STR, "command": _OPT_STR, "status": _OPT_STR,
                             "rc": _OPT_INT, "error": _OPT_STR, "duration_s": _OPT_NUM})),
        "logs": ListOf(Obj({"source": _OPT_STR, "member": _OPT_STR, "why": _OPT_STR, "status": _OPT_STR})),
    })),
}, required=("format", "nodes"))

_PROBLEM = Obj({"file": str, "line": int, "message": str, "text": _OPT_STR, "severity": str, "code": _OPT_STR},
               required=("message",))
#: authkeys.json: the authkeys model without its keys (hadoctor.parsers.authkeys.Authkeys.to_dict).
AUTHKEYS_META_SHAPE = Obj({
    "path": _OPT_STR, "active_index": _OPT_INT, "mode": _OPT_STR, "owner": _OPT_STR, "group": _OPT_STR,
    "auth_lines": ListOf(Obj({"index": int, "line": int}, required=("index", "line"))),
    "keys": ListOf(Obj({"index": int, "method": str, "line": int, "fingerprint": _OPT_STR},
                       required=("index", "method", "line"))),
    "problems": ListOf(_PROBLEM),
})
