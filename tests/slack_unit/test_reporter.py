"""A run's steps in its thread, against the fake Slack: the post, and long output as a file."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from habot.runbooks.engine import CommandRecord, StepOutcome
from habot.slack.reporter import ThreadReporter
from tests.fakes.slack_server import FakeSlack


async def test_a_step_is_posted_in_the_thread_and_long_output_uploaded() -> None:
    fake = await FakeSlack().start()
    try:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
        reporter = ThreadReporter(client, "COPS", "1700000001.000100")
        output = "\n".join(f"line {i} of a long pcs output" for i in range(400))
        record = CommandRecord("nodo1", ("pcs", "status", "--full"), 0, 0.4, output)
        await reporter.step_finished(StepOutcome(1, "status", "ok", (record,)))
        (post,) = fake.calls_to("chat.postMessage")
        assert post.params["thread_ts"] == "1700000001.000100"
        assert "nodo1$ pcs status --full" in str(post.params["blocks"])
        assert "more lines" in str(post.params["blocks"])  # trimmed in the message...
        assert fake.calls_to("files.completeUploadExternal")
        assert list(fake.uploads.values()) == [output.encode()]  # ...whole in the file
    finally:
        await fake.stop()


async def test_a_slack_error_does_not_stop_the_run() -> None:
    fake = await FakeSlack().start()
    try:
        fake.fail("chat.postMessage", "channel_not_found")
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
        reporter = ThreadReporter(client, "COPS", "1700000001.000100")
        await reporter.step_finished(StepOutcome(1, "status", "ok"))
        assert len(fake.calls_to("chat.postMessage")) == 1
    finally:
        await fake.stop()
