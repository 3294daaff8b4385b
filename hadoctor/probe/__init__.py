"""Active probes: ask the network itself (``hadoctor probe ...``), as opposed to reading artefacts.

Probes send packets, so they live apart from the parsers and rules (which never do I/O)
and are imported only by the commands that run them. :mod:`hadoctor.probe.vip` asks who
holds each virtual IP; :mod:`hadoctor.probe.frames` builds and parses the packets;
:mod:`hadoctor.probe.netns` makes sockets inside a named network namespace.
"""
