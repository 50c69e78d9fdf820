"""POST one signed delivery to the address `targets` checked (urllib3, which botocore already
ships: no new dependency). No redirects are followed (a 3xx is a failure: the subscriber fixes
its URL), nothing is retried here (retries go through the queue), and only the first
`RESPONSE_BYTES` of the answer are kept for the delivery log.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from typing import Protocol

import urllib3

from touchline.outgoing_webhooks.targets import Target

RESPONSE_BYTES = 1024
USER_AGENT = "Touchline-Webhooks/1.0 (+https://github.com/touchline)"


@dataclass(frozen=True, slots=True)
class Sent:
    status: int  # 0: no HTTP answer (timeout, refused, TLS)
    error: str
    body: str
    seconds: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Sender(Protocol):
    def post(self, target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Sent: ...


class Urllib3Sender:
    def __init__(self) -> None:
        self._context = ssl.create_default_context()

    def post(self, target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Sent:
        started = time.perf_counter()
        host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
        all_headers = {
            "Host": host_header,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **headers,
        }
        pool: urllib3.HTTPConnectionPool
        limits = urllib3.Timeout(connect=min(timeout, 5.0), read=timeout)
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                target.address,
                target.port,
                timeout=limits,
                retries=False,
                ssl_context=self._context,
                server_hostname=target.host,
                assert_hostname=target.host,
            )
        else:
            pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=limits, retries=False)
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=all_headers,
                redirect=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                excerpt = response.read(RESPONSE_BYTES, decode_content=False)
            finally:
                response.release_conn()
            return Sent(
                response.status, "", excerpt.decode("utf-8", "replace"), time.perf_counter() - started
            )
        except urllib3.exceptions.TimeoutError:
            return Sent(0, f"timed out after {timeout:g} s", "", time.perf_counter() - started)
        except urllib3.exceptions.HTTPError as exc:
            return Sent(0, _reason(exc), "", time.perf_counter() - started)
        finally:
            pool.close()


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    return f"{type(reason).__name__}: {reason}"[:300]
