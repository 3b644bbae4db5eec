import services.review.accounts.models  # registers review.officers on Base.metadata
import services.review.audit.models  # registers review.audit_log on Base.metadata
import services.review.console.models  # registers review.text_signatures
import services.review.retention.models  # registers review.campaign_retention
import services.review.workflow.models  # noqa: F401  # registers the workflow's tables
from services.review.models import SCHEMA, Base
from shared.migrations import run_env

run_env(Base.metadata, SCHEMA)
