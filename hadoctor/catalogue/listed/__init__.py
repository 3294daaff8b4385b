"""The catalogue's listed messages (see :mod:`hadoctor.catalogue`)."""
