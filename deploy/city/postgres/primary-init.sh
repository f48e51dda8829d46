#!/bin/sh
# Run once by the postgres image when db1's data directory is new: let the standby (db2) stream
# from it, and make every commit wait for the standby to have it (docs/deployment.md).
set -e
echo "host replication postgres all scram-sha-256" >> "$PGDATA/pg_hba.conf"
cat >> "$PGDATA/postgresql.conf" <<CONF
wal_level = replica
max_wal_senders = 10
synchronous_standby_names = 'standby'
synchronous_commit = on
CONF
