"""Every documented operation, fuzzed from /api/v1/openapi.json as a marketer and as a partner.

schemathesis generates requests from the published spec and calls the app in-process (WSGI, no
server), valid and invalid ones; each answer must be no server error and match its documented
schema, content type and Allow header.
Bounded on purpose (a few deterministic examples per operation), so the suite stays quick.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_schema_conformance,
)

from tcma.services.accounts.auth import issue_token
from tests.support.factories import make_partner, make_taxonomy, make_user

EXAMPLES_PER_OPERATION = 4
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance,
          allow_header_conformance]
FUZZ = settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


def _callers(users) -> list[dict[str, str]]:
    """Fresh tokens for each operation: a fuzzed DELETE /auth/tokens/{id} may revoke earlier ones."""
    return [{"Authorization": f"Bearer {issue_token(user.id, 'fuzz')[0]}"} for user in users]


def _fuzz(operation, callers: list[dict[str, str]]) -> None:
    """A few valid and invalid requests for `operation`, each sent as every caller."""

    @FUZZ
    @given(case=st.one_of(*(operation.as_strategy(mode) for mode in GenerationMode)))
    def call_as_each_caller(case):
        for headers in callers:
            case.validate_response(case.call(headers=headers), checks=CHECKS)

    call_as_each_caller()


def test_every_operation_answers_as_documented_for_a_marketer_and_a_partner(app):
    partner = make_partner(make_taxonomy(), with_logo=False)
    users = [make_user("marketer")[0], make_user("partner", partner)[0]]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40

    for operation in operations:
        try:
            _fuzz(operation, _callers(users))
        except (Exception, FailureGroup) as exc:  # gather every operation's failures, then fail once
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
