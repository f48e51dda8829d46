"""Our one adapter over Aliyun's SMS library (alibabacloud-dysmsapi20170525): sends one templated SMS.
Nothing else of ours imports its models; everything leaves here as str or AliyunError (aliyun_api.py
has the client, the signing and the errors it shares with the voice adapter)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from alibabacloud_dysmsapi20170525 import models
from alibabacloud_dysmsapi20170525.client import Client

from dispatcher.aliyun_api import LIMIT_CODE, TEMPORARY_CODES, AliyunError, Clients, domestic_number

__all__ = ["LIMIT_CODE", "TEMPORARY_CODES", "AliyunError", "AliyunSmsSender", "domestic_number"]


class AliyunSmsSender:
    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        endpoint: str = "https://dysmsapi.aliyuncs.com",
        timeout: float = 10.0,
    ):
        self.sign_name = sign_name
        self._clients = Clients(Client, access_key_id, access_key_secret, endpoint, timeout)

    def send(self, to: str, template_code: str, params: Mapping[str, str], out_id: str) -> str:
        """Returns Aliyun's BizId, which its delivery report names."""
        request = models.SendSmsRequest(
            phone_numbers=domestic_number(to),
            sign_name=self.sign_name,
            template_code=template_code,
            template_param=json.dumps(dict(params), ensure_ascii=False),
            out_id=out_id,
        )
        body = self._clients.call(lambda client, runtime: client.send_sms_with_options(request, runtime))
        return str(body.biz_id)
