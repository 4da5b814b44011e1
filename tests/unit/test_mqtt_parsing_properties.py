"""Command parsers, property-based: any bytes only ever raise CommandError; round trips."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_voice.mqtt.commands import (
    Command,
    CommandError,
    ConfigRollback,
    ConfigSet,
    ConversationStart,
    ConversationStop,
    ErrorCode,
    FunctionCallResult,
    ModelSelectionSet,
    ModelSet,
    ToolDeclaration,
    ToolRemoval,
    VoiceSet,
    dumps,
)
from edge_voice.mqtt.parsing import (
    extract_transaction,
    parse_arbitration,
    parse_command,
    parse_ha_status,
)
from edge_voice.mqtt.topics import Route
from tests.unit.test_mqtt_parsing import ALL_ROUTES, CATALOG, K

# -- properties ----------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
routes = st.sampled_from(ALL_ROUTES)
payload_bytes = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=100).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(
        st.sampled_from(
            [
                "model",
                "voice",
                "model_selection",
                "target",
                "call_id",
                "output",
                "error",
                "transaction",
                "description",
                "parameters",
                "openai",
                "voice",
                "budget",
            ]
        ),
        json_values,
        max_size=4,
    ).map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(route=routes, payload=payload_bytes, use_catalog=st.booleans())
def test_any_bytes_raise_only_command_error(
    route: Route, payload: bytes, use_catalog: bool
) -> None:
    try:
        parse_command(route, payload, catalog=CATALOG if use_catalog else None)
    except CommandError as exc:
        assert exc.message and isinstance(exc.code, ErrorCode)
    extract_transaction(payload)
    parse_ha_status(payload)
    with contextlib.suppress(CommandError):
        parse_arbitration(payload)


@settings(max_examples=300)
@given(
    route=routes,
    body=st.dictionaries(st.text(max_size=12), json_values, max_size=5),
    tx=json_values,
)
def test_transaction_is_echoed(route: Route, body: dict[str, Any], tx: Any) -> None:
    payload = json.dumps({**body, "transaction": tx}).encode()
    assert extract_transaction(payload) == tx
    try:
        command = parse_command(route, payload, catalog=CATALOG)
    except CommandError as exc:
        assert exc.transaction == tx
    else:
        assert command.transaction == tx


names = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
transactions = st.none() | json_values
commands = st.one_of(
    st.builds(
        ModelSet,
        model=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,40}", fullmatch=True),
        transaction=transactions,
    ),
    st.builds(
        ModelSelectionSet,
        model_selection=st.sampled_from(["auto", "new", "legacy"]),
        transaction=transactions,
    ),
    st.builds(VoiceSet, voice=names, transaction=transactions),
    st.builds(
        ConfigSet,
        changes=st.dictionaries(
            st.sampled_from(["voice", "budget", "conversation", "wakeword", "tools", "log_level"]),
            json_values,
            min_size=1,
        ),
        transaction=transactions,
    ),
    st.builds(
        ConfigRollback, target=st.sampled_from(["last_good", "legacy"]), transaction=transactions
    ),
    st.builds(
        FunctionCallResult,
        call_id=st.text(min_size=1, max_size=40),
        output=st.text(max_size=40),
        transaction=transactions,
    ),
    st.builds(
        FunctionCallResult,
        call_id=st.text(min_size=1, max_size=40),
        error=st.text(min_size=1, max_size=40),
        transaction=transactions,
    ),
    st.builds(ConversationStart, transaction=transactions),
    st.builds(ConversationStop, transaction=transactions),
    st.builds(
        ToolDeclaration,
        name=names,
        scope=st.sampled_from(["device", "shared"]),
        description=st.text(max_size=40),
        parameters=st.dictionaries(st.text(max_size=8), json_values, max_size=3).map(
            lambda props: {"type": "object", "properties": props}
        ),
        transaction=transactions,
    ),
    st.builds(ToolRemoval, name=names, scope=st.sampled_from(["device", "shared"])),
)


@settings(max_examples=400)
@given(command=commands)
def test_commands_round_trip(command: Command) -> None:
    if isinstance(command, ToolDeclaration | ToolRemoval):
        route = Route(K.SHARED_TOOL if command.scope == "shared" else K.TOOL, command.name)
    else:
        route = Route(command.kind)
    assert parse_command(route, command.to_payload(), max_bytes=10**7) == command


#: Text with lone surrogates: valid in a JSON string (`"\\ud800"`), impossible in UTF-8.
surrogate_text = st.text(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.characters(), max_size=8
)


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.text(max_size=8), surrogate_text | json_values | st.lists(surrogate_text), max_size=4
    )
)
def test_any_payload_encodes_to_utf8_json(data: dict[str, Any]) -> None:
    # A client's transaction with a lone surrogate is echoed: the answer must still encode.
    encoded = dumps(data)
    assert json.loads(encoded.decode("utf-8")) == data
