from tests.review.workflow.conftest import workflow_seeded, world

__all__ = ["workflow_seeded", "world"]
