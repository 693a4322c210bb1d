"""The one check of a URL a shop gives Kasse to send a browser or a notification to (return, cancel and
notification URLs, webhook endpoints), shared by every dialect; each dialect answers a refusal in its
own error shape.

Accepted: an absolute ``http`` or ``https`` URL with a host, in printable ASCII without whitespace. The
browser is sent to these with a ``Location`` header and links on the hosted pages, so ``javascript:``,
``data:`` or a CR/LF (header injection) must never get that far; non-ASCII is refused rather than
guessed at (RFC 3986 URIs are ASCII: percent-encode the path, punycode the host).
"""

from __future__ import annotations

from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

__all__ = ["MAX_URL_LENGTH", "http_url_problem", "require_http_url", "safe_http_url"]

MAX_URL_LENGTH = 2048
# Not allowed anywhere in a URI (RFC 3986 §2), and read differently by browsers and servers: a backslash
# is a slash to a browser, quotes and angle brackets end an attribute.
_FORBIDDEN = frozenset('\\"<>')


def http_url_problem(url: str, *, max_length: int = MAX_URL_LENGTH) -> str | None:
    """What is wrong with ``url`` in a few words, or None if it is an acceptable http(s) URL."""
    if len(url) > max_length:
        return f"must be at most {max_length} characters"
    if not url.isascii() or any(not c.isprintable() or c.isspace() or c in _FORBIDDEN for c in url):
        return "must not contain whitespace, control or non-ASCII characters (percent-encode them)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in 0..65535
    except ValueError:
        return "must be a well-formed absolute http or https URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "must be an absolute http or https URL"
    if not parts.hostname:
        return "must be an absolute http or https URL with a host"
    return None


def require_http_url(url: str) -> str:
    """``url`` itself, or a ValueError saying what is wrong (for validators of wire models)."""
    problem = http_url_problem(url)
    if problem is not None:
        raise ValueError(f"not a valid URL: it {problem}")
    return url


def safe_http_url(url: str | None) -> str | None:
    """``url`` if it passes the check, else None: for URLs stored before the check existed, read back
    right before a browser is sent to them."""
    # No length limit here: the dialect's own query parameters may have made a stored URL longer.
    if url is None or http_url_problem(url, max_length=1 << 20) is not None:
        return None
    return url


def with_query_param(url: str, name: str, value: str) -> str:
    """Set ``name`` in the query, keeping every other parameter byte for byte (re-encoding the whole
    query could break a shop that signs its own return URLs) and the fragment."""
    parts = urlsplit(url)
    kept = [p for p in parts.query.split("&") if p and unquote_plus(p.split("=", 1)[0]) != name]
    kept.append(f"{quote(name, safe='')}={quote(value, safe='')}")
    return urlunsplit(parts._replace(query="&".join(kept)))
