"""What Aliyun's SMS and voice libraries share, for their two adapters (aliyun_sms.py, aliyun_voice.py):
a signed client per thread, one call with its errors turned into AliyunError, and the number format.

Both libraries (alibabacloud-dysmsapi20170525, alibabacloud-dyvmsapi20170525) sign each request
(ACS3-HMAC-SHA256 in its Authorization header) and are synchronous; the outbox calls them from its
worker threads, one client each. A business refusal (a number over its limit, a template not
approved) comes back as HTTP 200 with a Code other than "OK", and is raised here too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from alibabacloud_tea_openapi.utils_models import Config
from darabonba.exceptions import DaraException
from darabonba.runtime import RuntimeOptions

# Codes worth trying again later; every other refusal is final for this message.
TEMPORARY_CODES = frozenset(
    {"isp.SYSTEM_ERROR", "isv.SYSTEM_ERROR", "Throttling", "Throttling.User", "ServiceUnavailable"}
)
# Over a limit for this number (SMS: 50 a day per signature and template; voice: 1 a minute, 5 an
# hour, 20 a day per callee and template): another provider or channel may still reach them.
LIMIT_CODE = "isv.BUSINESS_LIMIT_CONTROL"

C = TypeVar("C")


class AliyunError(Exception):
    """Aliyun refused or could not be reached. code: Aliyun's Code when it gave one."""

    def __init__(self, message: str, *, temporary: bool, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.temporary, self.code, self.status = temporary, code, status


def domestic_number(e164: str) -> str:
    """Aliyun's form of a mainland number: the digits after +86 (+8613900000001 -> 13900000001)."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


class Clients(Generic[C]):
    """One library client per thread, and its calls with their errors as AliyunError."""

    def __init__(self, make: Callable[[Config], C], key_id: str, secret: str, endpoint: str, timeout: float):
        parts = urlsplit(endpoint)
        self._config = lambda: Config(
            access_key_id=key_id, access_key_secret=secret, endpoint=parts.netloc, protocol=parts.scheme or "https"
        )
        self._make = make
        self.runtime = RuntimeOptions(
            read_timeout=int(timeout * 1000), connect_timeout=int(timeout * 1000), autoretry=False
        )
        self._local = threading.local()

    @property
    def client(self) -> C:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._make(self._config())
        return client

    def call(self, request: Callable[[C, RuntimeOptions], Any]) -> Any:
        """The response body of `request(client, runtime)`; AliyunError unless its Code is OK."""
        try:
            body = request(self.client, self.runtime).body
        except DaraException as exc:
            status = getattr(exc, "statusCode", None)
            temporary = status is None or status >= 500 or status == 429 or exc.code in TEMPORARY_CODES
            raise AliyunError(
                f"aliyun {status}: {exc.code}: {exc.message}", temporary=temporary, code=exc.code, status=status
            ) from None
        except Exception as exc:  # the library's transport errors are not one type
            raise AliyunError(f"aliyun unreachable: {type(exc).__name__}: {exc}", temporary=True) from None
        if body.code != "OK":
            raise AliyunError(
                f"aliyun refused: {body.code}: {body.message}",
                temporary=body.code in TEMPORARY_CODES,
                code=body.code,
                status=200,
            )
        return body
