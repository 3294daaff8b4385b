"""``hadoctor timeline``: the cluster's history merged from every node's heartbeat log.

events.py (what a log line means), skew.py (clock offsets between nodes), build.py (one
streaming pass per node, merge, ownership/outage/overlap intervals), spill.py (events and
intervals kept in temporary files, sorted on disk: memory does not grow with the log),
pixels.py (spans and markers merged per pixel column); it is shown by :mod:`hadoctor.report.timeline`
(text, JSON ``hadoctor-timeline/1``, SVG, HTML).
"""

from hadoctor.timeline.build import Timeline, build_timeline  # noqa: F401
from hadoctor.timeline.events import Event  # noqa: F401
