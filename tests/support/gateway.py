"""The real gateway on a test broker, and a row counter, for the gateway tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select

from gateway.service import Gateway


@contextmanager
def running_gateway(engine, broker_url: str, client_id: str) -> Iterator[Gateway]:
    gw = Gateway(engine, broker_url, "jinqiao", client_id)
    gw.start()
    assert gw.link.wait_connected(10)
    try:
        yield gw
    finally:
        gw.stop()


def count(engine, model, *where) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model).where(*where))
