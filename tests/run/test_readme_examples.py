"""The README's `phananh …` shell examples run as written on the demo data.

Every command in a fenced `sh`/`bash` block of README.md that starts with `phananh` (or `uv run phananh`)
is run through the real command line (`api.run.cli.main`) against a database holding what `make run`
loads: migrations and the demo steps. The long-running ones (`serve`, `worker`, `dev`) are only parsed.
A placeholder for what exists only at run time (`KEY_ID`: the id `apikeys create` printed just before)
is filled from the output of the commands before it.
Then the people the examples created are checked to see what the README says they see.
"""

from __future__ import annotations

import asyncio
import re
import shlex
from pathlib import Path

import httpx
import pytest

from api.run import cli
from api.staff.cli import DEMO_ADMIN
from tests.conftest import WARDS, in_ci
from tests.factories import resident

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
LONG_RUNNING = {"serve", "worker", "dev"}
# placeholder → where an earlier command's output gives its value
PLACEHOLDERS = {"KEY_ID": re.compile(r"issued key (\S+) for")}
FENCE = re.compile(r"^```(\w*)\s*$")


def shell_examples(text: str) -> list[list[str]]:
    """The `phananh` commands of the README's shell blocks, as argv lists (`uv run` dropped)."""
    commands: list[list[str]] = []
    lang: str | None = None
    pending = ""
    for line in text.splitlines():
        fence = FENCE.match(line.strip())
        if fence:
            lang = None if lang is not None else fence[1]
            continue
        if lang not in ("sh", "bash", "shell"):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        argv = shlex.split(pending, comments=True)
        pending = ""
        if argv[:2] == ["uv", "run"]:
            argv = argv[2:]
        if argv and argv[0] == "phananh":
            commands.append(argv[1:])
    return commands


def test_the_examples_are_found() -> None:
    commands = shell_examples(README.read_text(encoding="utf-8"))
    verbs = {c[0] for c in commands}
    assert {"users", "areas", "migrate", "serve", "worker"} <= verbs, verbs
    assert sum(c[:2] == ["users", "create"] for c in commands) >= 4


def test_a_continued_line_and_a_comment() -> None:
    text = "```sh\nuv run phananh areas import x.geojson \\\n    --code-field code   # note\ncurl x\n```\n"
    assert shell_examples(text) == [["areas", "import", "x.geojson", "--code-field", "code"]]
    assert shell_examples("```\nphananh migrate\n```\n") == []  # not a shell block


def _shared(argv: list[str]) -> list[str] | None:
    """The argv with `../shared/…` paths found (None: the data is not on this machine)."""
    out = []
    for arg in argv:
        if arg.startswith("../shared/"):
            path = (ROOT / arg).resolve()
            if not path.exists():
                path = WARDS / Path(arg).name
            if not path.exists():
                if in_ci():
                    pytest.fail(f"{arg} not found; under CI the shared data must be there", pytrace=False)
                return None
            arg = str(path)
        out.append(arg)
    return out


async def test_readme_examples_run_on_the_demo_data(
    fresh_db: str,
    fresh_client: httpx.AsyncClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PHANANH_DATABASE_URL", fresh_db)
    monkeypatch.setenv("PHANANH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PHANANH_JWT_SECRET", "readme-secret-" + "z" * 32)
    monkeypatch.chdir(ROOT)
    settings = cli.load_settings()
    for step in cli.DEMO_LOADERS:
        await step(settings, fresh_db)
    first = capsys.readouterr().out
    password = re.search(rf"username {DEMO_ADMIN}, password (\S+) \(shown this once\)", first)
    assert password, first
    for step in cli.DEMO_LOADERS:  # again, as at the next start: idempotent, and the password is not shown
        await step(settings, fresh_db)
    assert password[1] not in capsys.readouterr().out

    skipped = []
    said = ""  # everything the commands printed so far
    for argv in shell_examples(README.read_text(encoding="utf-8")):
        for name, pattern in PLACEHOLDERS.items():
            if name in argv:
                value = pattern.search(said)
                assert value, f"{name} in `phananh {shlex.join(argv)}`, but no command before printed it"
                argv = [value[1] if a == name else a for a in argv]
        if argv[0] in LONG_RUNNING:
            cli.build_parser().parse_args(argv)  # the flags as written exist (SystemExit otherwise)
            continue
        found = _shared(argv)
        if found is None:
            skipped.append(argv)
            continue
        code = await asyncio.to_thread(cli.main, found)
        out = capsys.readouterr()
        said += out.out
        assert code == 0, f"phananh {shlex.join(argv)} → exit {code}\n{out.out}\n{out.err}"
        assert "Traceback" not in out.err
    assert len(skipped) <= 2, skipped

    async def sign_in(username: str, pw: str) -> dict[str, str]:
        r = await fresh_client.post("/v1/auth/login", json={"username": username, "password": pw})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    await sign_in(DEMO_ADMIN, password[1])
    # the power company's officer of the README sees the power outage in Bến Thành, not the flood beside it
    _, me = await resident(fresh_client)
    spot = {"lat": 10.7725, "lng": 106.6981, "description": "Mất điện cả khu phố"}
    for category in ("mat-dien", "ngap-nuoc"):
        r = await fresh_client.post("/v1/reports", json={**spot, "category": category}, headers=me)
        assert r.status_code == 201, r.text
        assert r.json()["ward"]["code"] == "26743"
    dien = await sign_in("dien", "evn passphrase")
    queue = (await fresh_client.get("/v1/officer/queue", headers=dien)).json()["items"]
    assert [i["category"] for i in queue] == ["mat-dien"]
    lan = await sign_in("lan", "lan passphrase")
    queue = (await fresh_client.get("/v1/officer/queue", headers=lan)).json()["items"]
    assert sorted(i["category"] for i in queue) == ["mat-dien", "ngap-nuoc"]


async def test_a_user_error_is_one_line_and_exit_2(
    fresh_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PHANANH_DATABASE_URL", fresh_db)
    monkeypatch.setenv("PHANANH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PHANANH_JWT_SECRET", "readme-secret-" + "z" * 32)
    argv = ["users", "create", "--username", "thu-1", "--password", "long enough", "--role", "officer"]
    for extra in (["--area", "760"], ["--agency", "EVN-HCM"]):
        assert await asyncio.to_thread(cli.main, [*argv, *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert extra[1] in err
