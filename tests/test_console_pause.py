"""A paused run at the console asks at the prompt: `continue` goes on, anything else aborts,
and no answer within the step's timeout aborts too."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from habot.console import repl
from habot.console.repl import ConsoleReporter
from habot.runbooks.plan import PlannedStep

STEP = PlannedStep("patch", "pause", "any", 0.2, text="patch nodo1 now")


async def test_the_prompt_answers_a_pause() -> None:
    asked: list[str] = []
    written: list[str] = []

    def answering(reply: str):  # type: ignore[no-untyped-def]
        async def ask(prompt: str) -> str:
            asked.append(prompt)
            return reply

        return ask

    assert await ConsoleReporter(written.append, answering("continue\n")).pause(2, STEP) == (
        True,
        "continued by the console",
    )
    assert "2. patch nodo1 now" in asked[0]
    assert await ConsoleReporter(written.append, answering("no\n")).pause(2, STEP) == (
        False,
        "aborted by the console",
    )

    async def silent(prompt: str) -> str:
        await asyncio.sleep(5)
        return "continue"

    assert await ConsoleReporter(written.append, silent).pause(2, STEP) == (
        False,
        "no answer within 0.2 s: aborted",
    )
    assert await ConsoleReporter(written.append).pause(2, STEP) == (
        False,
        "nobody can answer a pause here",
    )


async def test_a_pause_that_times_out_loses_no_line_typed_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The read a timed-out pause gave up on does not swallow the next line: it goes to the
    prompt."""
    read_end, write_end = os.pipe()
    stdin = os.fdopen(read_end, "r")
    monkeypatch.setattr(sys, "stdin", stdin)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await repl.read_line()  # the pause asked; nobody answered
    os.write(write_end, b"/ha status\n")
    async with asyncio.timeout(5):
        assert await repl.read_line() == "/ha status\n"
    os.close(write_end)
    async with asyncio.timeout(5):
        assert await repl.read_line() == ""  # the end of input, said
    stdin.close()  # its reader has ended with the input
