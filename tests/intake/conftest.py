# The intake/review stack fixtures live in tests/support/stack.py (registered by the root
# conftest) because review's tests use them too; these names stay importable from here.
from tests.support.stack import Server, drain, form

__all__ = ["Server", "drain", "form"]
