"""Every domain's tables, imported so SQLModel.metadata is complete: what Alembic compares against."""

from sqlmodel import SQLModel

from api.accounts import models as accounts_models
from api.assessments import models as assessments_models
from api.assessments import review_models as assessments_review_models
from api.awards import models as awards_models
from api.awards.judging import models as judging_models
from api.catalog import models as catalog_models
from api.certificates import answers as certificates_answers
from api.certificates import models as certificates_models
from api.cohorts import models as cohorts_models
from api.core import pagecache as pagecache_models
from api.core import ratelimit as ratelimit_models
from api.core import viewerversion as viewerversion_models
from api.halloffame import models as halloffame_models
from api.learning import models as learning_models
from api.organisations import apikey_models as organisations_apikey_models
from api.organisations import models as organisations_models
from api.outbox import models as outbox_models
from api.payments import models as payments_models

metadata = SQLModel.metadata

__all__ = [
    "metadata", "accounts_models", "catalog_models", "halloffame_models", "learning_models", "certificates_models",
    "ratelimit_models", "pagecache_models", "viewerversion_models", "payments_models", "outbox_models",
    "assessments_models", "assessments_review_models", "cohorts_models", "certificates_answers", "organisations_models",
    "organisations_apikey_models", "awards_models", "judging_models",
]
