"""Support bundles: one archive holding every node's data, secrets masked, readable by ``check``.

* :mod:`hadoctor.bundle.collect`: ``hadoctor bundle create`` (a POSIX ``sh`` script per node, run
  here or through the system ``ssh``; the collector parses, trims, masks and packs);
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
