"""The payment provider chosen by settings: Stripe when CADRE_STRIPE_SECRET_KEY is set, else offline."""

from __future__ import annotations

from api.core.config import get_settings
from api.payments.providers.base import PaymentProvider, ProviderError

__all__ = ["PaymentProvider", "ProviderError", "get_provider"]


def get_provider() -> PaymentProvider:
    settings = get_settings()
    if settings.payments_provider == "stripe":
        from api.payments.providers.stripe import StripeProvider

        return StripeProvider(settings.stripe_secret_key, settings.stripe_api_base or None)
    from api.payments.providers.offline import OfflineProvider

    return OfflineProvider()
