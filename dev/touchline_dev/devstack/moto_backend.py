"""moto as an in-process server on a free loopback port, and boto3 clients pointed at it.

The server thread shares moto's in-memory backends with the rest of the process; `reset` wipes
them, so a process that starts a second private server (tests, a CLI command) begins empty.
"""

from __future__ import annotations

import logging
import urllib.request
from typing import Any

from .environment import FAKE_CREDENTIALS
from .intrinsics import REGION


class MotoServer:
    """A started `ThreadedMotoServer`; `url` is its endpoint (`http://127.0.0.1:<port>`)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request moto serves at INFO; the handlers' logs matter more.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._server.start()
        bound_host, bound_port = self._server.get_host_and_port()
        self.url = f"http://{bound_host}:{bound_port}"

    def reset(self) -> None:
        """Drop every resource in moto's (process-wide) backends."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        self._server.stop()


def aws_client(service_name: str, endpoint_url: str, region: str = REGION) -> Any:
    """A boto3 client on `endpoint_url` with fake credentials, whatever the environment says."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(  # type: ignore[call-overload]
        service_name,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=32),
    )
