"""A fleet simulator's devices registered (one community, one building, a resident per device), and
the burst the failover tests put through them."""

from __future__ import annotations

import threading

from sqlalchemy import insert

from core.schema import Building, Community, Device, Resident, Responder
from simulators.fleet import Fleet


def register_fleet(engine, sessions, ids: list[str], heartbeat_s: int | None = None) -> list[str]:
    with sessions.begin() as s:
        s.add(Responder(id="med", name="王芳", phone="+8613900000004"))
        s.flush()
        s.add(Community(id="c", name="社区", mediator_id="med"))
        s.flush()
        s.add(Building(id="b", community_id="c", name="1幢"))
    with engine.begin() as conn:
        conn.execute(insert(Resident), [{"id": f"r-{d}", "name": d, "building_id": "b"} for d in ids])
        conn.execute(insert(Device), [{"id": d, "resident_id": f"r-{d}", "heartbeat_s": heartbeat_s} for d in ids])
    return ids


def burst_in_background(url: str, count: int, prefix: str, seed: int) -> tuple[threading.Thread, dict]:
    """Ten seconds of heartbeats every second and 30 presses a second from `count` devices, resending
    fast until told and draining until settled, in a thread; its summary lands in the dict."""
    fleet = Fleet(
        url,
        count,
        prefix=prefix,
        heartbeat=1,
        press_rate=30,
        duration=10,
        resend_initial=0.3,
        drain=90,
        progress=False,
        seed=seed,
    )
    summary: dict = {}
    runner = threading.Thread(target=lambda: summary.update(fleet.run()), daemon=True)
    runner.start()
    return runner, summary
