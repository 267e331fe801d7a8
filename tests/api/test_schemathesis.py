"""Schemathesis against the generated OpenAPI description, in-process (WSGI), with a member's and a
coordinator's token: no 5xx, and every answer matches its documented status, content type,
headers and schema; for valid data and for data made to break the description.

Schemathesis' pytest plugin (the lazy `from_fixture` loader) does not run under pytest 9.2 (it
reads `request.node._nodeid`), so each operation's Hypothesis strategy is used directly: the same
generated cases and the same checks. Deterministic (derandomized, no example database) and modest:
EXAMPLES cases per operation and mode (and as many again with real ids in the path), each sent
with both tokens."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from tests.services.groups_helpers import group_offer, schedule, sessions_of

EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture
def tokens(app, world, make_token, make_post):
    """A member (who has an offer and a session to join) and a coordinator, each with a write token."""
    app.config["API_RATE_LIMIT"] = "100000 per minute"  # the run sends hundreds of requests on one token
    make_post(world.outsider, kind="offer", title="Weekend drives")
    (session,) = sessions_of(schedule(world.helper, group_offer(make_post, world.helper), places=2))
    # Real ids for the path parameters, so that generated bodies and queries reach real objects too.
    world.ids = {"post_id": world.need.id, "match_id": world.match.id, "session_id": session.id}
    return [make_token(world.outsider, "write"), make_token(world.coord, "write")]


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    return operations


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_every_operation_answers_within_its_description(app, world, tokens, mode):
    sent = []
    for operation, real in ((o, real) for o in _operations(app) for real in (False, True)):
        names = {p.name for p in operation.path_parameters}
        if real and not names:
            continue
        ids = {name: world.ids[name] for name in names} if real else None

        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=ids))
        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            for token in tokens:
                response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
                sent.append((operation.label, response.status_code))

        check()
    statuses = {status for _label, status in sent}
    assert len({label for label, _status in sent}) >= 14
    assert statuses & {200, 201} and not any(s >= 500 for s in statuses)  # real answers, not only refusals
