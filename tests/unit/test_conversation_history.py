"""Replay items per protocol: what a new session is given after a drop."""

from __future__ import annotations

from edge_voice.conversation.history import ConversationHistory


def sample() -> ConversationHistory:
    history = ConversationHistory()
    history.add_user("turn on the kitchen light")
    history.add_function_call("call_1", "set_light", '{"room":"kitchen"}')
    history.add_function_output("call_1", '{"ok":true}')
    history.add_assistant("The kitchen light is on.")
    history.add_function_call("call_2", "get_time", "{}")  # never answered
    history.add_user("   ")  # nothing said: not kept
    return history


def test_ga_replay() -> None:
    assert sample().replay_items("ga") == [
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "turn on the kitchen light"}],
        },
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "set_light",
            "arguments": '{"room":"kitchen"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": '{"ok":true}'},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "The kitchen light is on."}],
        },
    ]


def test_beta_replay_uses_the_beta_content_type() -> None:
    items = sample().replay_items("beta")
    assert items[-1]["content"] == [{"type": "text", "text": "The kitchen light is on."}]
    assert len(items) == 4


def test_history_is_bounded_and_clearable() -> None:
    history = ConversationHistory(max_items=3)
    for n in range(10):
        history.add_user(f"message {n}")
    assert [i["content"][0]["text"] for i in history.replay_items("ga")] == [
        "message 7",
        "message 8",
        "message 9",
    ]
    history.clear()
    assert history.replay_items("ga") == []


def test_an_output_whose_call_fell_out_of_the_bound_is_not_replayed() -> None:
    # The soak's `invalid_value`: a warm session's history is full, the oldest call was
    # dropped but its output kept; the server refuses an output whose call it was not given
    # ("Tool call ID ... not found in conversation").
    history = ConversationHistory(max_items=4)
    history.add_user("turn on the kitchen light")
    history.add_function_call("call_1", "set_light", '{"room":"kitchen"}')
    history.add_function_output("call_1", '{"ok":true}')
    history.add_assistant("The kitchen light is on.")
    history.add_user("and the hall")
    history.add_user("please")  # the bound (4) keeps the output, not its call
    items = history.replay_items("ga")
    assert [i["type"] for i in items] == ["message", "message", "message"], items
    given: set[str] = set()
    for item in items:
        if item["type"] == "function_call":
            given.add(item["call_id"])
        assert item["type"] != "function_call_output" or item["call_id"] in given, items
