"""The guarded image fetcher against real sockets on 127.0.0.1.

`victim` is the loopback service an attacker wants to reach: every SSRF case must leave it with
zero requests. `public` is a stand-in for a public image host. The name STAND_IN passes the address
check and is pinned to a local server, so redirects, limits, pinning and TLS can be tested without
the internet.
"""
import datetime
import http.server
import socket
import ssl
import threading
import time
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from PIL import Image

from catalog.images import safe_fetch
from catalog.images.safe_fetch import FetchRefused, fetch_image, is_public_ip, parse_ip_literal

STAND_IN = "img.test"


class Origin:
    """A threaded HTTP(S) server on 127.0.0.1 that records every request and answers from `routes`.

    `routes` maps a path to a function that writes the whole response through the request handler.
    Unknown paths get a small PNG, so a request that should never have been made would succeed.
    """

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.requests: list[tuple[str, str]] = []  # (path, Host header)
        self.routes = {}
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                origin.requests.append((self.path, self.headers.get("Host", "")))
                origin.routes.get(self.path, send(body=image_bytes("PNG")))(self)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def hits(self) -> list[str]:
        return [path for path, _host in self.requests]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def send(status=200, body=b"", content_type="image/png", headers=(), length=True):
    """A route answering with this status, body and headers (no Content-Length if length=False)."""
    def respond(handler):
        handler.send_response(status)
        if content_type:
            handler.send_header("Content-Type", content_type)
        if length:
            handler.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
    return respond


def redirect(location, status=302):
    return send(status, content_type=None, headers=[("Location", location)])


def dribble(phase):
    """A route sending its headers (phase="headers") or only its body (phase="body") 1 byte per second."""
    head = b"HTTP/1.0 200 OK\r\nContent-Type: image/png\r\nContent-Length: 64\r\n\r\n"
    body = image_bytes("PNG")[:64]

    def respond(handler):
        slow = head + body if phase == "headers" else body
        try:
            if phase == "body":
                handler.wfile.write(head)
            for i in range(len(slow)):
                handler.wfile.write(slow[i:i + 1])
                handler.wfile.flush()
                time.sleep(1)
        except OSError:  # the client hung up, as it should
            pass
    return respond


def image_bytes(fmt="PNG", size=(40, 30), mode="RGB", **save) -> bytes:
    """A real little image made by Pillow."""
    out = BytesIO()
    Image.new(mode, size, (200, 30, 60) if mode == "RGB" else (200, 30, 60, 128)).save(out, fmt, **save)
    return out.getvalue()


def fake_dns(monkeypatch, table: dict[str, list[str]], port: int | None = None) -> list[str]:
    """Make socket.getaddrinfo answer from `table`; returns the names asked for, in order."""
    asked = []

    def getaddrinfo(host, service, *args, **kwargs):
        asked.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port or service, 0, 0)) if ":" in ip
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port or service)) for ip in table[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def fetch(url, **overrides):
    options = {"max_bytes": 1_000_000, "timeout": 3.0, "allowed_hosts": [STAND_IN]} | overrides
    return fetch_image(url, **options)


@pytest.fixture
def victim():
    """The loopback listener an SSRF would hit; tests assert it gets no request."""
    origin = Origin()
    yield origin
    origin.stop()


def pin_stand_in(monkeypatch, origin):
    """Let STAND_IN pass the address check while pointing at `origin` (and only that name)."""
    real_resolve = safe_fetch.resolve

    def resolve(host, port, deadline):
        if host == STAND_IN:
            return [(socket.AF_INET, ("127.0.0.1", origin.port))]
        return real_resolve(host, port, deadline)

    monkeypatch.setattr(safe_fetch, "resolve", resolve)


@pytest.fixture
def public(monkeypatch):
    """A stand-in public image host at http://img.test:<port>/."""
    origin = Origin()
    pin_stand_in(monkeypatch, origin)
    origin.url = f"http://{STAND_IN}:{origin.port}"
    yield origin
    origin.stop()


# --- SSRF: every way of naming an internal address is refused, and nothing reaches it ----------

INTERNAL_HOSTS = [
    "127.0.0.1", "127.1", "2130706433", "0x7f.1", "0x7f000001", "0177.0.0.1", "017700000001",
    "0.0.0.0", "0", "[::1]", "[::]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]",
    "[64:ff9b::127.0.0.1]", "[2002:7f00:1::]", "[fe80::1%25lo]", "169.254.169.254", "[::ffff:169.254.169.254]",
    "10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "224.0.0.1", "240.0.0.1", "[fc00::1]",
    "localhost", "LocalHost.",
]


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_internal_addresses_are_refused_even_when_allowlisted(victim, host):
    # On the allowlist, so that it is the address check that refuses.
    with pytest.raises(FetchRefused, match="not a public address"):
        fetch(f"http://{host}:{victim.port}/secret", allowed_hosts=[host])
    assert victim.hits == []


@pytest.mark.parametrize("addresses", [["127.0.0.1"], ["::1"], ["169.254.169.254"], ["8.8.8.8", "127.0.0.1"],
                                       ["2001:4860:4860::8888", "::ffff:10.0.0.1"]])
def test_a_name_with_any_internal_address_is_refused(monkeypatch, victim, addresses):
    asked = fake_dns(monkeypatch, {"intranet.test": addresses}, port=victim.port)
    with pytest.raises(FetchRefused, match="intranet.test resolves to .* not a public address"):
        fetch(f"http://intranet.test:{victim.port}/secret", allowed_hosts=["intranet.test"])
    assert asked == ["intranet.test"]
    assert victim.hits == []


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/x", "http://localhost:{port}/x",
                                    "http://2130706433:{port}/x", "http://[::ffff:127.0.0.1]:{port}/x"])
def test_a_redirect_to_loopback_is_refused(public, victim, target):
    location = target.format(port=victim.port)
    public.routes["/photo.png"] = redirect(location)
    with pytest.raises(FetchRefused, match="not a public address"):
        fetch(f"{public.url}/photo.png", allowed_hosts=[STAND_IN, urlsplit(location).hostname])
    assert public.hits == ["/photo.png"]
    assert victim.hits == []


def test_a_redirect_to_a_host_off_the_allowlist_is_refused(public, victim):
    public.routes["/photo.png"] = redirect(f"http://127.0.0.1:{victim.port}/x")
    with pytest.raises(FetchRefused, match="127.0.0.1 is not on the image proxy's list of allowed hosts"):
        fetch(f"{public.url}/photo.png")
    assert victim.hits == []


@pytest.mark.parametrize("url", ["ftp://img.test/a.png", "file:///etc/passwd", "gopher://img.test:70/_GET",
                                 "dict://img.test:11211/stat", "javascript:alert(1)", "//img.test/a.png",
                                 "img.test/a.png", "https://user:secret@img.test/a.png",
                                 "http://img.test\\@evil.test/a.png", "http://img.test:99999/a.png", "http:///a.png"])
def test_other_schemes_credentials_and_malformed_urls_are_refused_without_dns(monkeypatch, url):
    asked = fake_dns(monkeypatch, {STAND_IN: ["8.8.8.8"]})
    with pytest.raises(FetchRefused):
        fetch(url)
    assert asked == []


@pytest.mark.parametrize("host", ["evil.test", "cdn.img.test", "img.test.evil.test", "img-test", "8.8.8.8"])
def test_hosts_off_the_allowlist_are_refused_before_any_dns(monkeypatch, host):
    asked = fake_dns(monkeypatch, {host: ["8.8.8.8"]})
    with pytest.raises(FetchRefused, match="not on the image proxy's list of allowed hosts"):
        fetch(f"http://{host}/a.png")  # subdomains of an allowed host do not match either
    assert asked == []


def test_the_allowlist_ignores_case_and_a_trailing_dot(public):
    result = fetch(f"http://IMG.Test.:{public.port}/a.png", allowed_hosts=["img.TEST"])
    assert result.content_type == "image/png"


@pytest.mark.parametrize("literal, expected", [
    ("127.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
    ("0", "0.0.0.0"), ("::ffff:127.0.0.1", "::ffff:7f00:1"), ("img.test", None), ("abc.def", None),
    ("1.2.3.4.5", None)])
def test_ip_literals_are_read_the_way_libc_reads_them(literal, expected):
    parsed = parse_ip_literal(literal)
    assert (str(parsed) if parsed else None) == expected


@pytest.mark.parametrize("address, public_", [
    ("8.8.8.8", True), ("2001:4860:4860::8888", True), ("::ffff:8.8.8.8", False), ("64:ff9b::8.8.8.8", False),
    ("2002:808:808::1", True), ("64:ff9b::10.0.0.1", False), ("64:ff9b:1::a00:1", False), ("2002:a00:1::1", False),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False), ("::8.8.8.8", False), ("ff02::1", False),
    ("255.255.255.255", False), ("192.0.2.1", False), ("198.18.0.1", False)])
def test_public_means_globally_routable_unicast(address, public_):
    import ipaddress
    assert is_public_ip(ipaddress.ip_address(address)) is public_


# --- Pinning and TLS -----------------------------------------------------------------------------


def test_the_connection_goes_to_the_checked_address_without_a_second_lookup(monkeypatch, public, victim):
    # Any lookup now would answer with the victim (DNS rebinding): the fetch must not make one.
    asked = fake_dns(monkeypatch, {STAND_IN: ["127.0.0.1"]}, port=victim.port)
    result = fetch(f"{public.url}/a.png")
    assert result.content_type == "image/png"
    assert asked == [] and victim.hits == []
    assert public.requests == [("/a.png", f"{STAND_IN}:{public.port}")]  # Host names the host, not the IP


@pytest.fixture
def tls_origin(monkeypatch, tmp_path):
    """Start an HTTPS stand-in with a self-signed certificate for `cert_host`; `seen_sni` records SNI."""
    pytest.importorskip("cryptography")
    started = []

    def start(cert_host=STAND_IN, trusted=True):
        cert_pem, key_pem = self_signed(cert_host)
        (tmp_path / "cert.pem").write_bytes(cert_pem)
        (tmp_path / "key.pem").write_bytes(key_pem)
        server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_tls.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
        seen_sni = []
        server_tls.sni_callback = lambda sock, name, context: seen_sni.append(name)
        origin = Origin(tls=server_tls)
        origin.seen_sni = seen_sni
        origin.url = f"https://{STAND_IN}:{origin.port}"
        pin_stand_in(monkeypatch, origin)
        if trusted:
            monkeypatch.setattr(safe_fetch, "tls_context", lambda: ssl.create_default_context(cadata=cert_pem.decode()))
        started.append(origin)
        return origin

    yield start
    for origin in started:
        origin.stop()


def self_signed(hostname: str) -> tuple[bytes, bytes]:
    """A certificate for `hostname`, signed by its own key (PEM cert, PEM key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def test_https_is_pinned_yet_sends_sni_and_checks_the_certificate_for_the_host(tls_origin):
    origin = tls_origin()
    result = fetch(f"{origin.url}/a.png")
    assert result.content_type == "image/png"
    assert origin.seen_sni == [STAND_IN]
    assert origin.requests == [("/a.png", f"{STAND_IN}:{origin.port}")]


def test_https_refuses_an_untrusted_certificate(tls_origin):
    origin = tls_origin(trusted=False)
    with pytest.raises(FetchRefused, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(f"{origin.url}/a.png")
    assert origin.hits == []


def test_https_refuses_a_certificate_for_another_host(tls_origin):
    origin = tls_origin(cert_host="other.test")
    with pytest.raises(FetchRefused, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(f"{origin.url}/a.png")
    assert origin.hits == []


# --- Limits: bytes, time, redirects ---------------------------------------------------------------


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "read-until-close"])
def test_an_oversize_body_is_refused(public, length):
    public.routes["/big.png"] = send(body=image_bytes("PNG") + b"\0" * 5000, length=length)
    with pytest.raises(FetchRefused, match="over the 1000 byte limit"):
        fetch(f"{public.url}/big.png", max_bytes=1000)


def test_a_body_of_exactly_max_bytes_is_accepted(public):
    body = image_bytes("PNG")
    public.routes["/a.png"] = send(body=body, length=False)
    assert fetch(f"{public.url}/a.png", max_bytes=len(body)).content == body


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_server_sending_a_byte_per_second_is_cut_off_at_the_deadline(public, phase):
    public.routes["/slow.png"] = dribble(phase)
    started = time.monotonic()
    with pytest.raises(FetchRefused, match="did not answer within 1.5 seconds"):
        fetch(f"{public.url}/slow.png", timeout=1.5)
    assert 1.4 < time.monotonic() - started < 2.0


def test_a_slow_https_body_is_cut_off_at_the_deadline(tls_origin):
    origin = tls_origin()
    origin.routes["/slow.png"] = dribble("body")
    started = time.monotonic()
    with pytest.raises(FetchRefused, match="did not answer within 1.5 seconds"):
        fetch(f"{origin.url}/slow.png", timeout=1.5)
    assert 1.4 < time.monotonic() - started < 2.0


def test_slow_dns_is_cut_off_at_the_deadline(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: time.sleep(2) or [])
    started = time.monotonic()
    with pytest.raises(FetchRefused, match="did not answer within 0.5 seconds"):
        fetch("http://slow-dns.test/a.png", timeout=0.5, allowed_hosts=["slow-dns.test"])
    assert time.monotonic() - started < 1.0


def test_up_to_three_redirects_are_followed_each_checked_again(public):
    public.routes |= {"/1": redirect("/2", 301), "/2": redirect(f"{public.url}/3", 307),
                      "/3": redirect("/final.png", 308)}
    result = fetch(f"{public.url}/1")
    assert result.final_url == f"{public.url}/final.png"
    assert public.hits == ["/1", "/2", "/3", "/final.png"]


def test_a_fourth_redirect_is_refused(public):
    public.routes |= {f"/{i}": redirect(f"/{i + 1}") for i in range(1, 5)}
    with pytest.raises(FetchRefused, match="more than 3 redirects"):
        fetch(f"{public.url}/1")
    assert public.hits == ["/1", "/2", "/3", "/4"]


@pytest.mark.parametrize("location", ["ftp://img.test/a.png", "file:///etc/passwd"])
def test_a_redirect_to_another_scheme_is_refused(public, location):
    public.routes["/a.png"] = redirect(location)
    with pytest.raises(FetchRefused, match="only http and https"):
        fetch(f"{public.url}/a.png")


# --- Content: type header and magic bytes -----------------------------------------------------------


@pytest.mark.parametrize("fmt, content_type", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("GIF", "image/gif"),
                                               ("WEBP", "image/webp")])
def test_each_accepted_image_type_is_fetched(public, fmt, content_type):
    body = image_bytes(fmt)
    public.routes["/a"] = send(body=body, content_type=f"{content_type}; charset=binary")
    assert fetch(f"{public.url}/a") == (body, content_type, f"{public.url}/a")


@pytest.mark.parametrize("content_type", ["text/html", "image/svg+xml", "application/octet-stream", None])
def test_a_wrong_content_type_is_refused(public, content_type):
    public.routes["/a.png"] = send(body=image_bytes("PNG"), content_type=content_type)
    with pytest.raises(FetchRefused, match="not a JPEG, PNG, WebP or GIF"):
        fetch(f"{public.url}/a.png")


@pytest.mark.parametrize("body", [b"<!doctype html><script>alert(1)</script>", b"", b"%!PS-Adobe-3.0 EPSF-3.0\n",
                                  b"RIFF\0\0\0\0WAVEfmt "])
def test_a_body_that_is_not_an_image_is_refused_by_its_magic_bytes(public, body):
    public.routes["/a.png"] = send(body=body, content_type="image/png")
    with pytest.raises(FetchRefused, match="body sent as image/png is not a JPEG, PNG, WebP or GIF image"):
        fetch(f"{public.url}/a.png")


@pytest.mark.parametrize("status", [404, 500, 204])
def test_a_status_other_than_200_is_refused(public, status):
    public.routes["/a.png"] = send(status, body=b"", content_type="image/png")
    with pytest.raises(FetchRefused, match=f"answered HTTP {status}"):
        fetch(f"{public.url}/a.png")
