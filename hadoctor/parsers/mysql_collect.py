"""What the MySQL collection's sh (:mod:`hadoctor.datums`) writes that the MySQL parsers read back: one place
for both sides, in a module cheap enough for the registry to import at start-up (the parsers are not)."""

#: the collector's error output on a node without a mysql or mariadb client
NO_CLIENT = "no mysql or mariadb client on PATH"
#: what the error log's ``### PATH`` line adds: the node's offset from UTC when it collected (``date +%z``)
NODE_TIME = "node time UTC"
