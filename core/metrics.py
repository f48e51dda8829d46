"""Prometheus metrics. Counters are process-wide by nature (one registry per process), so they live here."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_ACCEPTED = Counter(
    "jinqiao_gateway_events_accepted_total", "Device events stored or found already stored", ["type"]
)
REJECTIONS = Counter("jinqiao_gateway_rejections_total", "Device input refused, by reason", ["reason"])
PRESENCE = Counter("jinqiao_gateway_presence_total", "Status messages recorded", ["status"])
BATCH_SIZE = Histogram(
    "jinqiao_gateway_batch_size", "Messages per database commit", buckets=(1, 2, 5, 10, 50, 100, 500, 1000)
)
STORE_FAILURES = Counter("jinqiao_gateway_store_failures_total", "Batches that failed to commit and were retried")
MQTT_CONNECTED = Gauge("jinqiao_gateway_mqtt_connected", "1 while the gateway is connected to the broker")

# --- the dispatcher ---------------------------------------------------------------------------
PASSES_RUN = Counter("jinqiao_dispatcher_passes_total", "Dispatcher passes run, by pass", ["pass_name"])
PASS_ERRORS = Counter("jinqiao_dispatcher_pass_errors_total", "Dispatcher passes that raised, by pass", ["pass_name"])
DUE_STEPS = Gauge("jinqiao_dispatcher_due_steps", "Escalation steps due (next_action_at passed) and not yet taken")
OLDEST_DUE_AGE = Gauge(
    "jinqiao_dispatcher_oldest_due_step_age_seconds", "How long the oldest due step has waited (0: none)"
)
OUTBOX_DEPTH = Gauge("jinqiao_dispatcher_outbox_depth", "Notifications waiting in the outbox, by state", ["state"])
SENDS = Counter(
    "jinqiao_dispatcher_sends_total",
    "Attempts to send a notification, by channel and outcome (sent, retry, failed)",
    ["channel", "outcome"],
)
PROVIDER_LATENCY = Histogram(
    "jinqiao_dispatcher_provider_latency_seconds",
    "Time the provider took to take a send",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
