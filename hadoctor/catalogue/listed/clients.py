"""Every ERROR, CRIT and WARN message of ipfail and dopd is in :mod:`hadoctor.catalogue.clients`."""

from __future__ import annotations

MESSAGES: tuple = ()
