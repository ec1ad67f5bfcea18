"""ACME renewals that fail on the target until DNS points at it (HTTP-01), from certbot's
and acme.sh's renewal configs (tests/fixtures/plan/renewals)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from evacuate.inventory.model_apps import Certificate
from evacuate.plan.renewals import renewal_paths, renewal_warnings, renewals

FIXTURES = Path(__file__).parents[2] / "fixtures/plan/renewals"
NOW = datetime(2026, 12, 3, tzinfo=UTC)


def texts() -> dict[str, str]:
    found = {f"/etc/letsencrypt/renewal/{name}": (FIXTURES / name).read_text()
             for name in ("shop.example.org.conf", "mail.example.org.conf",
                          "api.example.org.conf")}
    found["/root/.acme.sh/blog.example.org/blog.example.org.conf"] = \
        (FIXTURES / "acme.sh-blog.example.org.conf").read_text()
    return found


def test_renewal_configs_are_found_among_the_snapshots_paths():
    paths = ["/etc/letsencrypt/renewal/shop.example.org.conf",
             "/etc/letsencrypt/renewal-hooks/deploy/reload.sh",
             "/etc/letsencrypt/live/shop.example.org/cert.pem",
             "/root/.acme.sh/blog.example.org/blog.example.org.conf",
             "/root/.acme.sh/account.conf", "/home/ann/.acme.sh/x.org/x.org.conf"]
    assert renewal_paths(paths) == {paths[0], paths[3], paths[5]}


def test_each_client_and_challenge_is_read():
    found = {r.name: r for r in renewals(texts())}
    assert {(n, r.client, r.method, r.challenge) for n, r in found.items()} == {
        ("shop.example.org", "certbot", "webroot", "http-01"),
        ("mail.example.org", "certbot", "standalone", "http-01"),
        ("api.example.org", "certbot", "dns-cloudflare", "dns-01"),
        ("blog.example.org", "acme.sh", "webroot", "http-01")}
    assert found["shop.example.org"].names == ("shop.example.org", "www.shop.example.org")
    assert found["blog.example.org"].names == ("blog.example.org", "www.blog.example.org")


def test_http01_renewals_are_warned_with_the_certificates_expiry():
    cert = Certificate("/etc/letsencrypt/live/shop.example.org/cert.pem",
                       sans=("DNS:shop.example.org",), not_after="2026-12-20T00:00:00Z")
    warnings = renewal_warnings(texts(), [cert], NOW)
    assert len(warnings) == 3  # not the DNS-01 one
    shop = next(w for w in warnings if w.startswith("certificate shop."))
    assert shop == (
        "certificate shop.example.org (/etc/letsencrypt/renewal/shop.example.org.conf): "
        "certbot renews it over HTTP-01 (webroot), which fails on the target until DNS for "
        "shop.example.org, www.shop.example.org points at it; it expires 2026-12-20 (17 days)")
    assert not any("api.example.org" in w for w in warnings)
