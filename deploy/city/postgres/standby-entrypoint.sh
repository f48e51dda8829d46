#!/bin/sh
# db2: on first start, copy db1 and follow it (pg_basebackup -R); afterwards, just start. Promote it
# with `docker compose exec db2 pg_ctl promote -D /var/lib/postgresql/data` when db1 is gone for good.
set -e
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_basebackup -h db1 -U postgres -D "$PGDATA" -R -X stream; do sleep 1; done
  chmod 700 "$PGDATA"
fi
exec postgres -c cluster_name=standby -c hot_standby=on
