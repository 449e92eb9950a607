"""Health of the payment configuration: for each configured provider, its credentials (a token
or a read call against its API base: "<provider> key"), its webhook secret ("… hook"), and
the return URLs ("… urls")."""

from __future__ import annotations

from urllib.parse import urlsplit

from modelsnest.errors import ModelsnestError
from modelsnest.payments.checkout import return_urls
from modelsnest.payments.context import Context
from modelsnest.payments.types import PaymentCheck


def _return_urls(ctx: Context, provider: str) -> PaymentCheck:
    name = f"{provider} urls"
    base = ctx.config.public_url
    if not base:
        if ctx.config.production:
            return PaymentCheck(
                "FAIL", name, "MODELSNEST_PUBLIC_URL is not set: return URLs would follow each request's Host"
            )
        return PaymentCheck(
            "ok", name, "MODELSNEST_PUBLIC_URL is not set: return URLs use each request's address"
        )
    url, _ = return_urls(base, provider, "pay_example", "token")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        return PaymentCheck("FAIL", name, f"MODELSNEST_PUBLIC_URL does not make a valid URL: {url}")
    if parts.scheme != "https" and (provider == "coinbase" or ctx.config.production):
        return PaymentCheck(
            "FAIL", name, f"{url.split('?')[0]} is not https ({provider} needs https in production)"
        )
    return PaymentCheck("ok", name, url.split("?")[0])


async def payment_checks(ctx: Context) -> list[PaymentCheck]:
    if not ctx.providers:
        return [
            PaymentCheck(
                "--", "payments", "not configured (Stripe, PayPal, Coinbase): credits only by `credits grant`"
            )
        ]
    checks: list[PaymentCheck] = []
    for name, provider in ctx.providers.items():
        try:
            for check in await provider.checks():
                short = "key" if check.name == "credentials" else "hook"
                checks.append(PaymentCheck("ok" if check.ok else "FAIL", f"{name} {short}", check.detail))
        except ModelsnestError as exc:
            checks.append(PaymentCheck("FAIL", f"{name} key", exc.message))
        checks.append(_return_urls(ctx, name))
    return checks
