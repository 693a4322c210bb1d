"""The webhook target policy and the one URL check, as pure functions (no database, no network): which
addresses, names and URLs Kasse may send a browser or a notification to (issue 10, defects 1 and 5)."""

from __future__ import annotations

import socket
from ipaddress import ip_address

import pytest

from kasse.domain.errors import InvalidRequest
from kasse.domain.targets import IPAddress, TargetPolicy, address_refusal, literal_address, refusal
from kasse.domain.urls import http_url_problem, safe_http_url
from kasse.engine.targets import TargetGuard, TargetRefused, TargetUnresolved

ANY, PUBLIC = TargetPolicy.parse("any"), TargetPolicy.parse("public")
LISTED = TargetPolicy.parse("127.0.0.1, 10.0.0.0/8, shop.internal")
POLICIES = [ANY, PUBLIC, LISTED]

NEVER = [
    "169.254.169.254", "169.254.170.2", "169.254.0.1", "fe80::1", "fe80::1%eth0", "fd00:ec2::254",
    "100.100.100.200", "192.0.0.192", "168.63.129.16", "0.0.0.0", "0.1.2.3", "::", "224.0.0.1", "239.255.255.250",
    "ff02::1", "255.255.255.255", "::ffff:169.254.169.254", "::ffff:0.0.0.0", "64:ff9b::a9fe:a9fe",
    "2002:a9fe:a9fe::1", "::ffff:100.100.100.200",
]  # fmt: skip
LOCAL = ["127.0.0.1", "127.8.9.10", "::1", "10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.1.20", "fc00::1",
         "fd12:3456::1", "100.64.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"]  # fmt: skip
PUBLIC_ADDRESSES = ["8.8.8.8", "93.184.216.34", "2001:4860:4860::8888", "2a00:1450:4001:80b::200e"]


@pytest.mark.parametrize("policy", POLICIES, ids=["any", "public", "list"])
@pytest.mark.parametrize("address", NEVER)
def test_link_local_metadata_unspecified_and_multicast_are_refused_under_every_policy(
    address: str, policy: TargetPolicy
) -> None:
    why = address_refusal(ip_address(address), policy)
    assert why is not None and "always refused" in why
    assert address_refusal(ip_address(address), policy, listed_host=True) == why  # a listed name cannot lift it


@pytest.mark.parametrize("address", LOCAL + PUBLIC_ADDRESSES)
def test_loopback_and_private_addresses_are_allowed_by_default(address: str) -> None:
    assert address_refusal(ip_address(address), ANY) is None


@pytest.mark.parametrize("address", LOCAL)
def test_public_refuses_loopback_and_private_addresses(address: str) -> None:
    why = address_refusal(ip_address(address), PUBLIC)
    assert why is not None and "not a public address" in why


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_and_allow_lists_admit_public_addresses(address: str) -> None:
    assert address_refusal(ip_address(address), PUBLIC) is None
    assert address_refusal(ip_address(address), LISTED) is None


def test_an_allow_list_admits_its_networks_and_what_its_names_resolve_to() -> None:
    assert [address_refusal(ip_address(a), LISTED) is None for a in ["127.0.0.1", "10.9.8.7", "::ffff:10.0.0.1"]] == [
        True, True, True,
    ]  # fmt: skip
    assert address_refusal(ip_address("127.0.0.2"), LISTED) is not None
    assert address_refusal(ip_address("192.168.1.1"), LISTED) is not None
    assert refusal("shop.internal", [ip_address("192.168.7.7")], LISTED) is None
    assert refusal("SHOP.internal.", [ip_address("192.168.7.7")], LISTED) is None
    assert refusal("other.internal", [ip_address("192.168.7.7")], LISTED) is not None
    assert refusal("shop.internal", [ip_address("169.254.169.254")], LISTED) is not None


def test_every_resolved_address_must_pass() -> None:
    assert refusal("shop.test", [ip_address("127.0.0.1"), ip_address("169.254.169.254")], ANY) is not None
    assert refusal("shop.test", [ip_address("8.8.8.8"), ip_address("10.0.0.1")], PUBLIC) is not None


@pytest.mark.parametrize(
    "name", ["metadata.google.internal", "METADATA.google.internal.", "metadata", "instance-data.ec2.internal",
             "metadata.goog", "x.metadata.google.internal"],
)  # fmt: skip
def test_metadata_service_names_are_refused_whatever_they_resolve_to(name: str) -> None:
    for policy in POLICIES:
        assert refusal(name, [ip_address("8.8.8.8")], policy) is not None


@pytest.mark.parametrize(
    "host", ["2852039166", "0xa9fea9fe", "0xa9.0xfe.0xa9.0xfe", "0251.0376.0251.0376", "169.254.43518",
             "0xa9.0376.43518", "127.1", "0x7f.1", "017700000001", "10.1", "1.2.3.4", "08.1.2.3", "0x", "1.2.3.4.5",
             "256.1.1.1", "shop.test"],
)  # fmt: skip
def test_odd_ipv4_spellings_are_read_as_the_system_resolver_reads_them(host: str) -> None:
    try:
        expected: str | None = socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        expected = None
    found = literal_address(host)
    assert (None if found is None else str(found)) == expected


def test_literal_hosts_in_urls_are_bracketed_or_odd() -> None:
    assert literal_address("[::ffff:169.254.169.254]") == ip_address("::ffff:169.254.169.254")
    assert refusal("2852039166", [ip_address("169.254.169.254")], ANY) is not None


@pytest.mark.parametrize(
    ("text", "mode"), [(None, "any"), ("", "any"), ("any", "any"), (" Public ", "public"), ("127.0.0.1", "list")]
)
def test_the_setting_is_read(text: str | None, mode: str) -> None:
    assert TargetPolicy.parse(text).mode == mode


@pytest.mark.parametrize("text", ["169.254.169.254", "10.0.0.0/8,::", "shop test", "10.0.0.0/33", "a..b"])
def test_a_setting_that_cannot_be_honoured_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="KASSE_WEBHOOK_TARGETS"):
        TargetPolicy.parse(text)


# --- the guard: the policy applied to URLs, with a fake DNS ------------------------------------------


def fake_dns(answers: dict[str, list[str]]) -> TargetGuard:
    def resolve(host: str, port: int) -> list[IPAddress]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ip_address(a) for a in answers[host]]

    return TargetGuard(ANY, resolver=resolve)


def test_the_guard_resolves_checks_and_hands_out_the_checked_addresses() -> None:
    guard = fake_dns({"shop.test": ["127.0.0.1", "::1"], "evil.test": ["127.0.0.1", "169.254.169.254"]})
    target = guard.resolve("https://shop.test:8443/hook")
    assert (target.host, target.port, [str(a) for a in target.addresses], target.literal) == (
        "shop.test", 8443, ["127.0.0.1", "::1"], False,
    )  # fmt: skip
    assert guard.resolve("http://127.0.0.1/hook").literal is True
    with pytest.raises(TargetRefused, match=r"169\.254\.169\.254 is a cloud metadata address"):
        guard.resolve("http://evil.test/hook")
    with pytest.raises(TargetRefused, match="link-local"):
        guard.resolve("http://[fe80::1]:80/")
    with pytest.raises(TargetUnresolved):
        guard.resolve("http://nowhere.test/")


def test_registration_lets_an_unresolvable_name_through_only_where_the_policy_is_any() -> None:
    guard = fake_dns({})
    assert guard.vet("http://later.test/hook", param="url") == "http://later.test/hook"
    guard.policy = PUBLIC
    with pytest.raises(InvalidRequest, match=r"could not resolve later\.test") as caught:
        guard.vet("http://later.test/hook", param="url")
    assert (caught.value.code, caught.value.param) == ("url_refused", "url")
    guard.policy = TargetPolicy.parse("later.test")
    assert guard.vet("http://later.test/hook", param="url") == "http://later.test/hook"


# --- the one URL check --------------------------------------------------------------------------------

GOOD_URLS = ["http://127.0.0.1:8000/r?x=1", "https://shop.example/return?order=42#top", "HTTPS://SHOP.EXAMPLE/",
             "http://[::1]:8080/", "https://user:pw@shop.example/hook", "http://shop/a%20b?q=%E2%82%AC"]  # fmt: skip
BAD_URLS = [
    "javascript:alert(1)", "JavaScript://shop.example/%0aalert(1)", "data:text/html,<script>x</script>",
    "mailto:a@example.com", "ftp://shop.example/", "//shop.example/r", "/relative", "http://", "http:///path",
    "https://shop.example/r\r\nSet-Cookie: a=b", "https://shop.example/\nx", "https://shop.example/a b",
    "https://shop.example/\tx", "https://shop.example/\x00", "https://shop.example/\x7f", "https://shöp.example/",
    "https://shop.example/\u2028", "https://shop.example\\@evil.example/", 'https://shop.example/"><x', "http://[zz]/",
    "http://shop.example:99999/", "http://shop.example:port/",
]  # fmt: skip


@pytest.mark.parametrize("url", GOOD_URLS)
def test_absolute_http_urls_with_a_host_pass(url: str) -> None:
    assert http_url_problem(url) is None and safe_http_url(url) == url


@pytest.mark.parametrize("url", BAD_URLS)
def test_other_schemes_relative_urls_and_control_characters_are_refused(url: str) -> None:
    assert http_url_problem(url) is not None and safe_http_url(url) is None


def test_a_url_is_at_most_2048_characters_when_given_but_a_stored_one_grown_by_parameters_still_redirects() -> None:
    long = "https://shop.example/" + "a" * 2048
    assert http_url_problem(long) == "must be at most 2048 characters"
    assert safe_http_url(long) == long
