"""One local stack of the real template.yaml per test module, and the environment an operator function gets
(both fixtures in tests/operator_env.py)."""

from tests.operator_env import operator, stack  # noqa: F401 - fixtures
