"""A property-based run over the OpenAPI schema (schemathesis) with an admin token: whatever the
generated input, the API answers with a clear status, never a 500. A few examples per operation
keep it to seconds. (Driven by hand: schemathesis' pytest plugin does not run under pytest 9.)"""

from __future__ import annotations

import collections

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from tests.support.web import Served, bearer, make_users, open_alert, web_system

EXAMPLES = 8


@pytest.fixture
def api(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    tokens = make_users(dispatcher.alerts.sessions, ["admin"])
    open_alert(dispatcher)
    server = Served(app).start()
    yield server, tokens["admin"], app
    server.stop()


@pytest.mark.slow  # no clock in it: the shifted-clock runs of scripts/test.sh leave it to the first
def test_no_input_makes_a_server_error(api):
    server, token, app = api
    schema = schemathesis.openapi.from_dict(app.openapi())
    errors, tried, statuses = [], [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/stream":  # an endless response; tested in test_board_stream
            continue
        tried.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def call(case):
            response = case.call(base_url=server.url, headers=bearer(token), timeout=20)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                errors.append(
                    f"{case.method} {case.formatted_path} {case.body!r:.200}: {response.status_code} "
                    f"{response.text[:200]}"
                )

        call()
    assert len(tried) > 30 and len(statuses) > 3 * len(tried)
    print("statuses:", sorted(collections.Counter(statuses).items()))
    assert errors == []
