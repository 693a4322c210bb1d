"""Sending to the addresses the target policy checked, never to a fresh DNS answer (DNS rebinding):
the request goes to the checked IP address, with the URL's own ``Host`` header and, for https, its
host name as TLS server name (httpcore's ``sni_hostname`` extension), so the certificate is still
verified against the name. Addresses are tried in the resolver's order, as a plain connect would."""

from __future__ import annotations

import httpx

from kasse.engine.targets import Target

__all__ = ["send_pinned"]


def send_pinned(
    client: httpx.Client, target: Target, method: str, url: str, *, content: bytes | None, headers: dict[str, str],
    timeout: float,
) -> httpx.Response:  # fmt: skip
    if target.literal:
        return client.request(method, url, content=content, headers=headers, timeout=timeout)
    original = httpx.URL(url)
    pinned_headers = {**headers, "Host": original.netloc.decode("ascii")}
    extensions = {"sni_hostname": target.host} if original.scheme == "https" else {}
    refused: httpx.ConnectError | None = None
    for address in target.addresses:
        try:
            return client.request(
                method, original.copy_with(host=str(address)), content=content, headers=pinned_headers,
                timeout=timeout, extensions=extensions,
            )  # fmt: skip
        except httpx.ConnectError as exc:
            refused = exc
    if refused is None:
        raise httpx.ConnectError(f"{target.host} has no address")
    raise refused
