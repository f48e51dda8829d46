"""Prometheus metrics. Counters are process-wide by nature (one registry per process), so they live here."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_ACCEPTED = Counter("jinqiao_gateway_events_accepted_total", "Device events stored or found already stored", ["type"])
REJECTIONS = Counter("jinqiao_gateway_rejections_total", "Device input refused, by reason", ["reason"])
PRESENCE = Counter("jinqiao_gateway_presence_total", "Status messages recorded", ["status"])
BATCH_SIZE = Histogram("jinqiao_gateway_batch_size", "Messages per database commit", buckets=(1, 2, 5, 10, 50, 100, 500, 1000))
STORE_FAILURES = Counter("jinqiao_gateway_store_failures_total", "Batches that failed to commit and were retried")
MQTT_CONNECTED = Gauge("jinqiao_gateway_mqtt_connected", "1 while the gateway is connected to the broker")

# --- the dispatcher ---------------------------------------------------------------------------
PASSES_RUN = Counter("jinqiao_dispatcher_passes_total", "Dispatcher passes run, by pass", ["pass_name"])
PASS_ERRORS = Counter("jinqiao_dispatcher_pass_errors_total", "Dispatcher passes that raised, by pass", ["pass_name"])
