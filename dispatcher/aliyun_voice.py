"""Our one adapter over Aliyun's voice library (alibabacloud-dyvmsapi20170525): places one call.

Two kinds of call, by what the account has been granted (docs/channels.md):
- `IvrCall` speaks a TTS template and listens for a key: each key of the menu plays its own
  template (1: "confirmed, please go"; 2: "passed on") and Aliyun pushes the key back as `dtmf`
  in its VoiceCallReport and VoiceReport (dispatcher/aliyun_webhooks.py);
- `SingleCallByTts` only speaks the template: the page is read out, and the person answers by SMS.
Either way the call's id (CallId) is what its reports name, and our notification id goes as OutId.
Nothing else of ours imports these models; everything leaves here as str or AliyunError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from alibabacloud_dyvmsapi20170525 import models
from alibabacloud_dyvmsapi20170525.client import Client

from dispatcher.aliyun_api import Clients, domestic_number

KEY_WAIT_MS = 10_000  # how long the IVR listens for a key after the page (Aliyun's Timeout)
PLAY_TIMES = 2  # the page is read twice (1 to 3)


class AliyunVoiceSender:
    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        show_number: str,
        endpoint: str = "https://dyvmsapi.aliyuncs.com",
        timeout: float = 10.0,
    ):
        self.show_number = show_number  # the number Aliyun rents us, shown to the callee
        self._clients = Clients(Client, access_key_id, access_key_secret, endpoint, timeout)

    def ivr_call(self, to: str, code: str, params: Mapping[str, str], menu: Mapping[str, str], out_id: str) -> str:
        """Speak template `code` with `params`, then listen: `menu` maps a key to the template it plays."""
        request = models.IvrCallRequest(
            called_number=domestic_number(to),
            called_show_number=self.show_number,
            start_code=code,
            start_tts_params=json.dumps(dict(params), ensure_ascii=False),
            menu_key_map=[models.IvrCallRequestMenuKeyMap(key=k, code=c) for k, c in menu.items()],
            play_times=PLAY_TIMES,
            timeout=KEY_WAIT_MS,
            out_id=out_id,
        )
        body = self._clients.call(lambda client, runtime: client.ivr_call_with_options(request, runtime))
        return str(body.call_id)

    def tts_call(self, to: str, code: str, params: Mapping[str, str], out_id: str) -> str:
        """Speak template `code` with `params`; no key is listened for."""
        request = models.SingleCallByTtsRequest(
            called_number=domestic_number(to),
            called_show_number=self.show_number,
            tts_code=code,
            tts_param=json.dumps(dict(params), ensure_ascii=False),
            play_times=PLAY_TIMES,
            out_id=out_id,
        )
        body = self._clients.call(lambda client, runtime: client.single_call_by_tts_with_options(request, runtime))
        return str(body.call_id)
