"""Our one adapter over Aliyun's SMS library (alibabacloud-dysmsapi20170525): sends one templated SMS.
Nothing else of ours imports alibabacloud or darabonba; everything leaves here as str or AliyunError.

The library signs each request (ACS3-HMAC-SHA256 in its Authorization header) and is synchronous;
the outbox calls it from its worker threads. A business refusal (a number over the daily limit, a
template not approved) comes back as HTTP 200 with a Code other than "OK", and is raised here too.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

from alibabacloud_dysmsapi20170525 import models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.exceptions import DaraException
from darabonba.runtime import RuntimeOptions

# Codes worth trying again later; every other refusal is final for this message.
TEMPORARY_CODES = frozenset(
    {"isp.SYSTEM_ERROR", "isv.SYSTEM_ERROR", "Throttling", "Throttling.User", "ServiceUnavailable"}
)
LIMIT_CODE = "isv.BUSINESS_LIMIT_CONTROL"  # 50 a day per number, signature and template (docs/channels.md)


class AliyunError(Exception):
    """Aliyun refused or could not be reached. code: Aliyun's Code when it gave one."""

    def __init__(self, message: str, *, temporary: bool, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.temporary, self.code, self.status = temporary, code, status


def domestic_number(e164: str) -> str:
    """Aliyun's form of a mainland number: the 11 digits (+8613900000001 -> 13900000001)."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


class AliyunSmsSender:
    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        endpoint: str = "https://dysmsapi.aliyuncs.com",
        timeout: float = 10.0,
    ):
        parts = urlsplit(endpoint)
        self.sign_name = sign_name
        self._config = lambda: Config(
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            endpoint=parts.netloc,
            protocol=parts.scheme or "https",
        )
        self._runtime = RuntimeOptions(
            read_timeout=int(timeout * 1000), connect_timeout=int(timeout * 1000), autoretry=False
        )
        self._local = threading.local()  # one client per outbox worker thread

    @property
    def _client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = Client(self._config())
        return client

    def send(self, to: str, template_code: str, params: Mapping[str, str], out_id: str) -> str:
        """Returns Aliyun's BizId, which its delivery report names."""
        request = models.SendSmsRequest(
            phone_numbers=domestic_number(to),
            sign_name=self.sign_name,
            template_code=template_code,
            template_param=json.dumps(dict(params), ensure_ascii=False),
            out_id=out_id,
        )
        try:
            body = self._client.send_sms_with_options(request, self._runtime).body
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
        return str(body.biz_id)
