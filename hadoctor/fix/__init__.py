"""Repairs that change a cluster: ``hadoctor fix --authkeys`` (:mod:`hadoctor.fix.rotate`)."""
