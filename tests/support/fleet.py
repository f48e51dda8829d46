"""A fleet simulator's devices registered: one community, one building, a resident per device."""

from __future__ import annotations

from sqlalchemy import insert

from core.schema import Building, Community, Device, Resident, Responder


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
