"""WeCom's callback encryption (企业微信 回调 加解密方案), pure: the signature over token, timestamp,
nonce and the encrypted message, and AES-256-CBC with the app's EncodingAESKey.

WeCom signs each callback as SHA1 of the four strings sorted and joined (`msg_signature` in the
query) and sends the message encrypted: base64 of AES-256-CBC (key: the 43-character EncodingAESKey
decoded from base64 with one "=", IV: the key's first 16 bytes, PKCS#7 padding to 32 bytes) over
16 random bytes, the message's length (4 bytes, big-endian), the message, and the corp id.
`open_message` refuses a bad signature, a corrupt body and another corp's message alike.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16


class CallbackRefused(Exception):
    """Not a message of ours from WeCom: the text says why (for the log, not for the caller)."""


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:
        raise ValueError("the EncodingAESKey must be 43 characters of base64 (32 bytes)")
    return key


def seal(key: bytes, message: str, corp_id: str, random16: bytes | None = None) -> str:
    """The encrypted form WeCom sends (and the fake WeCom makes)."""
    body = message.encode()
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + corp_id.encode()
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def open_message(key: bytes, token: str, corp_id: str, timestamp: str, nonce: str, sig: str, encrypted: str) -> str:
    """The message of a signed, encrypted callback; CallbackRefused for anything else."""
    if not hmac.compare_digest(signature(token, timestamp, nonce, encrypted), sig or ""):
        raise CallbackRefused("bad msg_signature")
    try:
        raw = base64.b64decode(encrypted, validate=True)
        if not raw or len(raw) % 16:
            raise ValueError("not whole AES blocks")
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        plain = decryptor.update(raw) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK:
            raise ValueError("bad padding")
        plain = plain[:-pad]
        (length,) = struct.unpack(">I", plain[16:20])
        message, receiver = plain[20 : 20 + length], plain[20 + length :]
        text = message.decode()
    except (ValueError, struct.error, UnicodeDecodeError) as exc:
        raise CallbackRefused(f"cannot decrypt: {exc}") from None
    if receiver.decode(errors="replace") != corp_id:
        raise CallbackRefused("the message is for another corp")
    return text
