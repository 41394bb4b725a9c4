"""The URI and address policy: which hosts and addresses an image may come from."""

from __future__ import annotations

import socket

import pytest

from schemas.policy import HostRefused, ValidationPolicy, address_reason, embedded_ipv4

NON_PUBLIC = [
    "127.0.0.1", "10.0.0.5", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "255.255.255.255",
    "100.64.0.1",  # shared address space (CGNAT)
    "192.0.0.1", "198.18.0.1", "240.0.0.1", "224.0.0.1", "233.252.0.1",
    "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "ff02::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254",  # IPv4-mapped
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "2002:7f00:1::1", "2002:a00:1::", "2002:a9fe:a9fe::1",  # 6to4 of 127.0.0.1, 10.0.0.1, 169.254.169.254
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::6440:1",  # NAT64 of loopback, metadata, CGNAT
    "64:ff9b:1::808:808",  # local-use NAT64 prefix
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:93.184.216.34",
          "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
          "64:ff9b::5db8:d822"]  # NAT64 of 93.184.216.34


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert address_reason(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert address_reason(address) is None


def test_embedded_ipv4_addresses_are_found() -> None:
    import ipaddress

    def found(address: str) -> list[str]:
        return [str(v4) for v4 in embedded_ipv4(ipaddress.IPv6Address(address))]

    assert found("::ffff:10.0.0.1") == ["10.0.0.1"]
    assert found("2002:7f00:1::1") == ["127.0.0.1"]
    assert found("64:ff9b::a9fe:a9fe") == ["169.254.169.254"]
    assert found("2001:0:4136:e378:8000:63bf:3fff:fdd2") == ["65.54.227.120", "192.0.2.45"]  # server, client
    assert found("2606:4700::1111") == []


@pytest.mark.parametrize("uri", [
    "http://localhost./x.png", "http://LOCALHOST./x.png", "http://foo.localhost./x.png", "http://localhost../x.png",
    "http://metadata.google.internal./x.png",
    "http://100.64.0.1/x.png", "http://[2002:7f00:1::1]/x.png", "http://[64:ff9b::a9fe:a9fe]/x.png",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x.png",
    "http://2130706433/x.png", "http://0x7f.1/x.png", "http://127.1/x.png", "http://0/x.png",  # legacy IPv4 forms
])
def test_check_uri_refuses_local_names_and_non_public_literals(uri: str) -> None:
    assert ValidationPolicy().check_uri(uri)


@pytest.mark.parametrize("uri", ["https://cdn.example.com/x.png", "https://cdn.example.com./x.png",
                                 "https://93.184.216.34/x.png", "https://[2606:4700::1111]/x.png",
                                 "https://cafe.de/x.png", "https://1e100.net/x.png"])
def test_check_uri_allows_public_hosts(uri: str) -> None:
    assert ValidationPolicy().check_uri(uri) is None


def test_the_allow_list_ignores_the_trailing_dot() -> None:
    policy = ValidationPolicy(allowed_uri_hosts=frozenset({"*.example.com"}))
    assert policy.check_uri("https://cdn.example.com./x.png") is None
    assert policy.check_uri("https://evil.test./x.png")


def fake_resolver(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, host)
        return [info for address in answers[host] for info in real(address, port, *args, **kwargs)]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_allowed_addresses_checks_every_address(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_resolver(monkeypatch, {"cdn.example": ["93.184.216.34", "2606:4700::1111"],
                                "mixed.example": ["93.184.216.34", "100.64.0.9"],
                                "local.example": ["127.0.0.1"]})
    policy = ValidationPolicy()
    assert policy.allowed_addresses("cdn.example") == ("93.184.216.34", "2606:4700::1111")
    with pytest.raises(HostRefused, match="100.64.0.9"):
        policy.allowed_addresses("mixed.example")
    with pytest.raises(HostRefused, match="does not resolve"):
        policy.allowed_addresses("nowhere.example")
    with pytest.raises(HostRefused, match="local name"):
        policy.allowed_addresses("localhost.")
    assert ValidationPolicy(allow_private_hosts=True).allowed_addresses("local.example") == ("127.0.0.1",)


def test_check_uri_with_resolution_refuses_names_of_non_public_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_resolver(monkeypatch, {"cgnat.example": ["100.64.0.9"], "cdn.example": ["93.184.216.34"]})
    policy = ValidationPolicy(resolve_hostnames=True)
    assert "100.64.0.9" in policy.check_uri("https://cgnat.example/x.png")
    assert policy.check_uri("https://cdn.example/x.png") is None
    assert ValidationPolicy().check_uri("https://cgnat.example/x.png") is None  # no resolution at validation
