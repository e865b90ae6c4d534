"""The payment provider chosen by settings: Stripe when CADRE_STRIPE_SECRET_KEY is set, else offline."""

from __future__ import annotations

from functools import lru_cache

from api.core.config import get_settings
from api.payments.providers.base import PaymentProvider, ProviderError

__all__ = ["PaymentProvider", "ProviderError", "get_provider"]


def get_provider() -> PaymentProvider:
    settings = get_settings()
    if settings.payments_provider == "stripe":
        return _stripe(settings.stripe_secret_key, settings.stripe_api_base or None)
    from api.payments.providers.offline import OfflineProvider

    return OfflineProvider()


@lru_cache(maxsize=4)
def _stripe(api_key: str, api_base: str | None) -> PaymentProvider:
    """One client (and its connection pool) per key and address, shared by every request."""
    from api.payments.providers.stripe import StripeProvider

    return StripeProvider(api_key, api_base)
