"""drbddisk logs nothing of its own: every drbddisk message is in :mod:`hadoctor.catalogue.drbd`."""

from __future__ import annotations

MESSAGES: tuple = ()
