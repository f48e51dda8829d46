"""Many simulated pagers at once (up to about 50,000), for load tests, benchmarks and the demo.

    python simulators/fleet.py --url mqtt://127.0.0.1:1883 --count 2000 --heartbeat 60 \
        --press-rate 5 --duration 120 --connect-rate 500
    python simulators/fleet.py --count 200 --heartbeat 2 --stop-heartbeats 3 --duration 30

Each device is its own MQTT connection, with its own client id, user name and `offline` will,
as real pagers are. Paho clients are not given a thread each: a few worker threads each drive
a shard of clients through one selector (paho's external-loop API: loop_read, loop_write,
loop_misc and the socket register/unregister callbacks), so a client costs one socket and
about 4 KB. Every client is touched only by its own worker thread.

Every event is resent with the pager's backoff until the system answers `received` or
`rejected`. Progress goes to stderr once a second; a JSON summary goes to stdout at the end.
The run is bounded: --duration of traffic, then at most --drain seconds for unsettled events,
then a clean DISCONNECT of every device (the retained status stays `online`, as with the pager).

Limits beyond the fd limit (raised here to the hard limit): one client IP can open about 28,000
connections to one broker port (net.ipv4.ip_local_port_range), and the broker needs its own fds.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import itertools
import json
import logging
import math
import os
import random
import resource
import selectors
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

import paho.mqtt.client as mqtt

try:
    from simulators.pager import (
        ONLINE,
        SETTLING_STATES,
        BrokerAddress,
        Outgoing,
        Topics,
        check_device_id,
        event_payload,
        new_client,
        new_event_id,
        parse_broker_url,
        parse_feedback,
        resend_delay,
        topics_for,
    )
except ImportError:  # run as a script: simulators/ itself is on sys.path
    from pager import (  # type: ignore[no-redef]
        ONLINE,
        SETTLING_STATES,
        BrokerAddress,
        Outgoing,
        Topics,
        check_device_id,
        event_payload,
        new_client,
        new_event_id,
        parse_broker_url,
        parse_feedback,
        resend_delay,
        topics_for,
    )

log = logging.getLogger("simulators.fleet")

TICK = 0.1  # longest a worker sleeps in select, so it notices phase changes quickly
CONNECTS_PER_TICK = 200  # without a ramp, connect in batches so sockets keep being served
MISC_INTERVAL = 1.0  # how often each client's keepalive bookkeeping runs
RECONNECT_INITIAL, RECONNECT_MAX = 1.0, 30.0
CLOSE_GRACE = 5.0  # seconds for the DISCONNECT packets to go out at the end


@dataclass(frozen=True)
class FleetOptions:
    url: str
    count: int
    prefix: str = "pgr-"
    root: str = "jinqiao"
    heartbeat: float | None = None  # seconds between heartbeats of one device; None: no heartbeats
    press_rate: float = 0.0  # alarms per second across the fleet (a Poisson process)
    duration: float = 10.0  # seconds of traffic, the connection ramp included
    connect_rate: float | None = None  # new connections per second; None: as fast as possible
    stop_heartbeats: int = 0  # this many devices fall silent after their first heartbeat
    protocol: int = 5
    password: str | None = None  # one password for every device (or in the URL)
    workers: int = 4
    resend_initial: float = 1.0
    resend_max: float = 30.0
    drain: float = 10.0  # after the traffic, seconds to wait for unsettled events
    keepalive: int = 60
    seed: int | None = None
    progress: bool = True
    # Local addresses to spread the devices over. One address reaches one broker port through
    # about 28,000 ephemeral ports; for more on loopback, add 127.0.0.2, 127.0.0.3, ...
    source_addresses: tuple[str, ...] = ()

    def validate(self) -> FleetOptions:
        if not 1 <= self.count <= 1_000_000:
            raise ValueError("count must be at least 1")
        check_device_id(f"{self.prefix}{self.count:05d}")
        if self.heartbeat is not None and self.heartbeat <= 0:
            raise ValueError("heartbeat must be positive")
        if self.stop_heartbeats and self.heartbeat is None:
            raise ValueError("stop_heartbeats needs heartbeat")
        if not 0 <= self.stop_heartbeats <= self.count:
            raise ValueError("stop_heartbeats must be between 0 and count")
        if self.press_rate < 0 or self.duration < 0 or self.drain < 0 or self.workers < 1:
            raise ValueError("press_rate, duration and drain must not be negative; workers at least 1")
        if self.connect_rate is not None and self.connect_rate <= 0:
            raise ValueError("connect_rate must be positive")
        if self.protocol not in (3, 5):
            raise ValueError("protocol must be 3 or 5")
        for url in self.url.split(","):
            parse_broker_url(url)
        return self


def device_ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:05d}" for n in range(1, count + 1)]


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def raise_fd_limit(needed: int) -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit when `needed` descriptors would not fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if needed > soft and soft != resource.RLIM_INFINITY:
        target = hard if hard != resource.RLIM_INFINITY else max(needed, soft)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft != resource.RLIM_INFINITY and needed > soft:
        log.warning("fleet.fd_limit_low needed=%d limit=%d", needed, soft)
    return soft


# ---------------------------------------------------------------- state of one worker


@dataclass(eq=False)
class _Device:
    id: str
    topics: Topics
    silent: bool  # stops heartbeating after its first heartbeat (--stop-heartbeats)
    source: str = ""  # local address to connect from ("": the kernel's choice)
    client: mqtt.Client | None = None
    started: bool = False  # connect() was called once; later attempts are reconnect()
    broker: int = 0  # with several brokers: the one it is on, or tries next
    connected: bool = False
    ever_connected: bool = False
    heartbeats_started: bool = False
    reconnect_attempts: int = 0
    reconnect_scheduled: bool = False
    refused: bool = False  # the broker refused the last CONNECT
    pending: dict[str, Outgoing] = field(default_factory=dict)


@dataclass
class _Stats:
    """Counters of one worker, written only by that worker; the main thread sums them."""

    sent: Counter = field(default_factory=Counter)  # distinct events by type
    publishes: int = 0
    resends: int = 0
    received: int = 0
    rejected: int = 0
    other_feedback: int = 0  # acknowledged, resolved, cancelled, a second `received`: nothing left to settle
    pending: int = 0
    connected: int = 0
    ever_connected: int = 0
    connect_errors: int = 0  # the TCP connection or the MQTT handshake failed
    refused: int = 0  # the broker refused the CONNECT
    disconnects: int = 0
    press_latencies: list[float] = field(default_factory=list)

    @staticmethod
    def total(parts: list[_Stats]) -> _Stats:
        out = _Stats()
        for part in parts:
            out.sent.update(dict(part.sent))  # dict() and list() copy atomically while the worker writes
            out.press_latencies.extend(list(part.press_latencies))
            for name in (
                "publishes",
                "resends",
                "received",
                "rejected",
                "other_feedback",
                "pending",
                "connected",
                "ever_connected",
                "connect_errors",
                "refused",
                "disconnects",
            ):
                setattr(out, name, getattr(out, name) + getattr(part, name))
        return out


class _LiveSet:
    """Devices that may be pressed: O(1) add, remove and random choice, for 50,000 devices."""

    def __init__(self) -> None:
        self._items: list[_Device] = []
        self._index: dict[_Device, int] = {}

    def add(self, device: _Device) -> None:
        if device not in self._index:
            self._index[device] = len(self._items)
            self._items.append(device)

    def discard(self, device: _Device) -> None:
        i = self._index.pop(device, None)
        if i is None:
            return
        last = self._items.pop()
        if last is not device:  # move the last one into the hole
            self._items[i] = last
            self._index[last] = i

    def choice(self, rng: random.Random) -> _Device | None:
        return rng.choice(self._items) if self._items else None


class _Control:
    """Phase flags the main thread sets and the workers read."""

    def __init__(self) -> None:
        self.generating = True  # heartbeats and presses are being produced
        self.closing = threading.Event()


class _Worker(threading.Thread):
    """Drives one shard of devices: connections, timers and sockets, all in this thread."""

    def __init__(self, index: int, devices: list[_Device], options: FleetOptions, control: _Control) -> None:
        super().__init__(name=f"fleet-worker-{index}", daemon=True)
        self.options = options
        self.control = control
        self.stats = _Stats()
        # several brokers (comma separated): each device starts on one, and moves to the next when it
        # loses it or cannot reach it, as a pager configured with both does
        self._addresses: list[BrokerAddress] = [parse_broker_url(u) for u in options.url.split(",")]
        self._address = self._addresses[0]
        self._password = options.password if options.password is not None else self._address.password
        self._devices = devices
        for device in devices:  # made up front, so the main thread can freeze them out of the GC's sight
            device.client = self._new_client(device)
        self._to_connect = list(reversed(devices))  # popped from the end, so in id order
        self._live = _LiveSet()  # connected and not silent: where presses happen
        self._rng = random.Random(None if options.seed is None else options.seed * 1000 + index)
        self._selector = selectors.DefaultSelector()
        self._timers: list[tuple[float, int, Callable[[_Device, str], None], _Device, str]] = []
        self._seq = itertools.count()
        share = max(1, options.workers)
        self._connect_interval = share / options.connect_rate if options.connect_rate else 0.0
        self._press_rate = options.press_rate / share
        now = time.monotonic()
        self._next_connect = now
        self._next_press = now + self._press_gap()
        self._next_misc = now + MISC_INTERVAL

    # ---- the loop

    def run(self) -> None:
        try:
            while not self.control.closing.is_set():
                now = time.monotonic()
                self._connect_due(now)
                self._fire_timers(now)
                self._press_due(now)
                self._misc_due(now)
                self._serve_sockets(self._sleep_time(time.monotonic()))
        except Exception:
            log.exception("fleet.worker_crashed worker=%s", self.name)
        finally:
            self._close_all()

    def _sleep_time(self, now: float) -> float:
        wake = now + TICK
        if self._timers:
            wake = min(wake, self._timers[0][0])
        if self._to_connect:
            wake = min(wake, self._next_connect)
        if self._press_rate and self.control.generating:
            wake = min(wake, self._next_press)
        return max(0.0, wake - now)

    def _serve_sockets(self, timeout: float) -> None:
        for key, mask in self._selector.select(timeout):
            client: mqtt.Client = key.data.client
            # A paho callback that raised must not stop the other devices of this shard.
            try:
                if mask & selectors.EVENT_READ:
                    client.loop_read()
                if mask & selectors.EVENT_WRITE:
                    client.loop_write()
            except Exception:
                log.exception("fleet.client_error device=%s", key.data.id)

    def _after(self, delay: float, action: Callable[[_Device, str], None], device: _Device, arg: str = "") -> None:
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._seq), action, device, arg))

    def _fire_timers(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            _, _, action, device, arg = heapq.heappop(self._timers)
            action(device, arg)

    def _misc_due(self, now: float) -> None:
        if now < self._next_misc:
            return
        self._next_misc = now + MISC_INTERVAL
        for key in list(self._selector.get_map().values()):
            key.data.client.loop_misc()  # sends PINGREQ when due, drops a dead connection

    # ---- connections

    def _connect_due(self, now: float) -> None:
        budget = CONNECTS_PER_TICK
        while self._to_connect and now >= self._next_connect and budget > 0:
            self._connect(self._to_connect.pop(), "")
            budget -= 1
            if self._connect_interval:
                self._next_connect += self._connect_interval

    def _connect(self, device: _Device, _: str = "") -> None:
        device.reconnect_scheduled = False
        if self.control.closing.is_set():
            return
        assert device.client is not None
        try:
            if not device.started or len(self._addresses) > 1:
                device.started = True
                address = self._addresses[device.broker % len(self._addresses)]
                device.client.connect(address.host, address.port, self.options.keepalive, bind_address=device.source)
            else:
                device.client.reconnect()
        except OSError as exc:
            self.stats.connect_errors += 1
            log.debug("fleet.connect_failed device=%s error=%s", device.id, exc)
            self._schedule_reconnect(device)

    def _new_client(self, device: _Device) -> mqtt.Client:
        client = new_client(
            device.id,
            self._address,
            device.topics,
            protocol=self.options.protocol,
            password=self._password,
            wait_for_tcp=False,
        )
        client.user_data_set(device)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_socket_register_write
        client.on_socket_unregister_write = self._on_socket_unregister_write
        return client

    def _schedule_reconnect(self, device: _Device) -> None:
        if device.reconnect_scheduled or self.control.closing.is_set():
            return
        device.reconnect_scheduled = True
        device.broker += 1  # the next broker, when there are several
        delay = resend_delay(device.reconnect_attempts, RECONNECT_INITIAL, RECONNECT_MAX, self._rng.random())
        device.reconnect_attempts += 1
        self._after(delay, self._connect, device)

    # ---- events

    def _send(self, device: _Device, event_type: str, **fields: Any) -> None:
        event_id = new_event_id()
        out = Outgoing(event_id, event_type, event_payload(event_id, event_type, fields), created=time.monotonic())
        device.pending[event_id] = out
        self.stats.sent[event_type] += 1
        self.stats.pending += 1
        self._transmit(device, out)

    def _transmit(self, device: _Device, out: Outgoing) -> None:
        if device.connected and device.client is not None:
            device.client.publish(device.topics.event, out.payload, qos=1, retain=False)
            out.sends += 1
            self.stats.publishes += 1
            if out.sends > 1:
                self.stats.resends += 1
        delay = resend_delay(out.attempts, self.options.resend_initial, self.options.resend_max, self._rng.random())
        out.attempts += 1
        self._after(delay, self._resend, device, out.event_id)

    def _resend(self, device: _Device, event_id: str) -> None:
        out = device.pending.get(event_id)
        if out is not None:  # otherwise settled meanwhile; its timer is simply dropped
            self._transmit(device, out)

    def _heartbeat(self, device: _Device, _: str = "") -> None:
        if not self.control.generating or self.control.closing.is_set():
            return
        if device.connected:
            self._send(device, "heartbeat", battery=self._battery())
        if not device.silent and self.options.heartbeat:
            self._after(self.options.heartbeat, self._heartbeat, device)

    def _start_heartbeats(self, device: _Device) -> None:
        if device.heartbeats_started or not self.options.heartbeat:
            return
        device.heartbeats_started = True
        if device.silent:
            self._heartbeat(device)  # one heartbeat right away, then silence
        else:  # staggered, so the fleet's heartbeats do not arrive in one burst
            self._after(self._rng.uniform(0, self.options.heartbeat), self._heartbeat, device)

    def _press_due(self, now: float) -> None:
        if not self._press_rate:
            return
        while now >= self._next_press:
            self._next_press += self._press_gap()
            device = self._live.choice(self._rng) if self.control.generating else None
            if device is not None:
                self._send(device, "alarm", battery=self._battery())

    def _press_gap(self) -> float:
        return self._rng.expovariate(self._press_rate) if self._press_rate else float("inf")

    def _battery(self) -> int:
        return self._rng.randint(20, 100)

    # ---- paho callbacks (always in this worker's thread, from loop_read/loop_write/connect)

    def _on_connect(self, client: mqtt.Client, device: _Device, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            self.stats.refused += 1
            device.refused = True
            log.debug("fleet.connect_refused device=%s reason=%s", device.id, reason_code)
            return  # the broker closes the socket; _on_disconnect schedules the retry
        client.publish(device.topics.status, ONLINE, qos=1, retain=True)
        client.subscribe(device.topics.feedback, qos=1)
        device.connected = True
        device.reconnect_attempts = 0
        self.stats.connected += 1
        if not device.ever_connected:
            device.ever_connected = True
            self.stats.ever_connected += 1
        if not device.silent:
            self._live.add(device)
        self._start_heartbeats(device)
        for out in device.pending.values():  # a reconnected device sends what is unsettled at once
            self._after(0.0, self._resend, device, out.event_id)

    def _on_disconnect(
        self, client: mqtt.Client, device: _Device, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        if device.connected:
            device.connected = False
            self.stats.connected -= 1
            self.stats.disconnects += 1
            self._live.discard(device)
        elif device.refused:
            device.refused = False  # counted in _on_connect already
        else:
            self.stats.connect_errors += 1  # the TCP connect or the MQTT handshake failed
        self._schedule_reconnect(device)

    def _on_message(self, client: mqtt.Client, device: _Device, message: mqtt.MQTTMessage) -> None:
        body = parse_feedback(message.payload)
        if body is None:
            log.warning("fleet.feedback_invalid device=%s payload=%r", device.id, message.payload[:200])
            return
        out = device.pending.get(body["ref"])
        if out is None or body["state"] not in SETTLING_STATES:
            self.stats.other_feedback += 1
            return
        del device.pending[body["ref"]]
        self.stats.pending -= 1
        if body["state"] == "received":
            self.stats.received += 1
            if out.type == "alarm":
                self.stats.press_latencies.append(time.monotonic() - out.created)
        else:
            self.stats.rejected += 1

    def _on_socket_open(self, client: mqtt.Client, device: _Device, sock: Any) -> None:
        self._selector.register(sock, selectors.EVENT_READ, device)

    def _on_socket_close(self, client: mqtt.Client, device: _Device, sock: Any) -> None:
        try:
            self._selector.unregister(sock)
        except (KeyError, ValueError):
            pass

    def _on_socket_register_write(self, client: mqtt.Client, device: _Device, sock: Any) -> None:
        self._selector.modify(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, device)

    def _on_socket_unregister_write(self, client: mqtt.Client, device: _Device, sock: Any) -> None:
        try:
            self._selector.modify(sock, selectors.EVENT_READ, device)
        except (KeyError, ValueError):
            pass  # paho unregisters on close too, after the socket may have left the selector

    # ---- the end

    def _close_all(self) -> None:
        """DISCONNECT every device cleanly, give the packets a few seconds, then close what is left."""
        for device in self._devices:
            if device.client is not None and device.client.socket() is not None:
                device.client.disconnect()
        deadline = time.monotonic() + CLOSE_GRACE
        while self._selector.get_map() and time.monotonic() < deadline:
            self._serve_sockets(TICK)
        for key in list(self._selector.get_map().values()):
            self._selector.unregister(key.fileobj)
            key.fileobj.close()  # type: ignore[union-attr]  # we registered sockets only
        self._selector.close()


# ---------------------------------------------------------------- the fleet


class Fleet:
    """N simulated pagers. `Fleet(url, count, heartbeat=..., press_rate=..., duration=...).run()`
    blocks for about duration (+ drain) seconds and returns the summary dict."""

    def __init__(self, url: str, count: int, *, progress_stream: TextIO | None = None, **options: Any) -> None:
        self.options = FleetOptions(url=url, count=count, **options).validate()
        self._progress_stream = progress_stream or sys.stderr
        rng = random.Random(self.options.seed)
        ids = device_ids(self.options.prefix, count)
        self.silent_devices: list[str] = sorted(rng.sample(ids, self.options.stop_heartbeats))
        silent = set(self.silent_devices)
        sources = self.options.source_addresses or ("",)
        self._devices = [
            _Device(d, topics_for(self.options.root, d), silent=d in silent, source=sources[n % len(sources)], broker=n)
            for n, d in enumerate(ids)
        ]
        self._stop = threading.Event()

    def stop(self) -> None:
        """End the traffic now (from another thread): run() drains, says goodbye and returns."""
        self._stop.set()

    def run(self) -> dict[str, Any]:
        opts = self.options
        raise_fd_limit(opts.count + 256)
        if self.silent_devices:
            print(
                f"fleet: heartbeats stop after the first one for: {' '.join(self.silent_devices)}",
                file=self._progress_stream,
                flush=True,
            )
        control = _Control()
        workers = self._make_workers(control)
        # Tens of thousands of long-lived clients would make every full collection walk them all
        # (pauses of a third of a second at 18,000); frozen, the GC skips them.
        gc.collect()
        gc.freeze()
        for worker in workers:
            worker.start()
        started = time.monotonic()
        snapshot = _Stats()
        try:
            self._watch(workers, started, until=started + opts.duration, stop_when_settled=False)
            control.generating = False
            self._watch(workers, started, until=time.monotonic() + opts.drain, stop_when_settled=True)
        except KeyboardInterrupt:
            print("fleet: interrupted", file=self._progress_stream)
        finally:
            snapshot = _Stats.total([w.stats for w in workers])  # before the goodbyes lower `connected`
            control.closing.set()
            for worker in workers:
                worker.join(CLOSE_GRACE + 5)
            gc.unfreeze()
        return self._summary(snapshot, time.monotonic() - started)

    def _make_workers(self, control: _Control) -> list[_Worker]:
        count = min(self.options.workers, len(self._devices))
        options = replace(self.options, workers=count)
        return [_Worker(i, self._devices[i::count], options, control) for i in range(count)]

    def _watch(self, workers: list[_Worker], started: float, until: float, stop_when_settled: bool) -> None:
        """Print progress once a second until `until` (or until nothing is pending, when draining)."""
        next_report = time.monotonic() + 1.0
        while (now := time.monotonic()) < until and not (self._stop.is_set() and not stop_when_settled):
            stats = _Stats.total([w.stats for w in workers])
            if stop_when_settled and stats.pending == 0:
                return
            if now >= next_report:
                next_report += 1.0
                self._report(stats, now - started)
            time.sleep(min(0.05, max(0.0, until - now)))

    def _report(self, stats: _Stats, elapsed: float) -> None:
        if not self.options.progress:
            return
        lat = sorted(stats.press_latencies)
        print(
            f"[{elapsed:5.0f}s] connected {stats.connected}/{self.options.count}  sent {sum(stats.sent.values())}"
            f"  received {stats.received}  pending {stats.pending}  resends {stats.resends}"
            f"  press→received p50 {_ms(percentile(lat, 50))} p99 {_ms(percentile(lat, 99))}",
            file=self._progress_stream,
            flush=True,
        )

    def _summary(self, stats: _Stats, elapsed: float) -> dict[str, Any]:
        lat = sorted(stats.press_latencies)
        return {
            "devices": self.options.count,
            "connected": stats.connected,
            "ever_connected": stats.ever_connected,
            "connect_errors": stats.connect_errors,
            "refused": stats.refused,
            "disconnects": stats.disconnects,
            "sent": dict(sorted(stats.sent.items())),
            "events": sum(stats.sent.values()),
            "received": stats.received,
            "rejected": stats.rejected,
            "pending": stats.pending,
            "publishes": stats.publishes,
            "resends": stats.resends,
            "other_feedback": stats.other_feedback,
            "press_latency_ms": {
                "count": len(lat),
                "p50": _round_ms(percentile(lat, 50)),
                "p99": _round_ms(percentile(lat, 99)),
                "max": _round_ms(lat[-1] if lat else None),
            },
            "stopped_heartbeats": self.silent_devices,
            "elapsed_s": round(elapsed, 2),
        }


def _round_ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}ms"


# ---------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Many simulated Jinqiao pagers, each on its own MQTT connection.")
    p.add_argument("--url", default=os.environ.get("JINQIAO_MQTT_URL") or "mqtt://127.0.0.1:1883")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--prefix", default="pgr-", help="device ids are {prefix}{n:05d}, n from 1")
    p.add_argument("--root", default=os.environ.get("JINQIAO_MQTT_ROOT") or "jinqiao")
    p.add_argument("--password", default=None, help="one password for every device")
    p.add_argument("--heartbeat", type=float, default=None, metavar="SECONDS")
    p.add_argument("--press-rate", type=float, default=0.0, metavar="PER_SECOND")
    p.add_argument("--duration", type=float, default=10.0, metavar="SECONDS")
    p.add_argument("--connect-rate", type=float, default=None, metavar="PER_SECOND")
    p.add_argument("--stop-heartbeats", type=int, default=0, metavar="K")
    p.add_argument("--mqtt", type=int, choices=(3, 5), default=5, help="3 means MQTT 3.1.1")
    p.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    p.add_argument("--resend-initial", type=float, default=1.0)
    p.add_argument("--resend-max", type=float, default=30.0)
    p.add_argument("--drain", type=float, default=10.0, metavar="SECONDS")
    p.add_argument("--keepalive", type=int, default=60)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--bind", default="", metavar="ADDR,ADDR", help="local addresses to spread connections over")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    try:
        fleet = Fleet(
            args.url,
            args.count,
            prefix=args.prefix,
            root=args.root,
            password=args.password,
            heartbeat=args.heartbeat,
            press_rate=args.press_rate,
            duration=args.duration,
            connect_rate=args.connect_rate,
            stop_heartbeats=args.stop_heartbeats,
            protocol=args.mqtt,
            workers=args.workers,
            resend_initial=args.resend_initial,
            resend_max=args.resend_max,
            drain=args.drain,
            keepalive=args.keepalive,
            seed=args.seed,
            progress=not args.quiet,
            source_addresses=tuple(a for a in args.bind.split(",") if a),
        )
    except ValueError as exc:
        print(f"fleet: {exc}", file=sys.stderr)
        return 2
    summary = fleet.run()
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0 if summary["pending"] == 0 and summary["connected"] == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
