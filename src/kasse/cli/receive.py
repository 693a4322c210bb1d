"""``kasse receive``: a webhook receiver for trying things out. It verifies each delivery's Standard
Webhooks signature with the ``standardwebhooks`` package (an implementation independent of Kasse's),
prints it, and can fail the first requests on purpose to show retries."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rich.console import Console
from standardwebhooks import Webhook, WebhookVerificationError

__all__ = ["serve_receiver"]


def _handler(webhook: Webhook, console: Console, fail_first: int) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()
    seen = {"requests": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with lock:
                seen["requests"] += 1
                failing = seen["requests"] <= fail_first
            try:
                event = webhook.verify(body, headers)
            except WebhookVerificationError as exc:
                console.print(f"[red]✗ rejected[/] {headers.get('webhook-id', '?')}: {exc}")
                self._answer(400, b"bad signature")
                return
            status = 500 if failing else 200
            colour = "red" if failing else "green"
            summary = json.dumps(event.get("data", {}).get("object", {}).get("status"))
            console.print(
                f"[{colour}]{status}[/] {event.get('type'):<22} {event.get('id')}  status={summary}  (signature ok)"
            )
            self._answer(status, b"failing on purpose" if failing else b"ok")

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def serve_receiver(*, host: str, port: int, secret: str, fail_first: int, console: Console) -> None:
    server = ThreadingHTTPServer((host, port), _handler(Webhook(secret), console, fail_first))
    console.print(f"Receiving webhooks on http://{host}:{port}/ (any path); failing the first {fail_first}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
