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
