"""Load: simulated members ask the real bot (bot.app.build_bot) over the fake Discord server
(tests/fakediscord) and every question is matched to its replies.

    .venv/bin/python bench/load.py                     # warm-up + two rounds of 2,000 in 60 s
    .venv/bin/python bench/load.py --questions 200 --seconds 10 --rounds 1
    .venv/bin/python bench/load.py --shard-processes 2 # the bot as two `quotebot run` shards
    .venv/bin/python bench/load.py --passages 1000000 --workdir /tmp/load1m  # the 1M index too

50 members in 5 guilds (10 each) ask by slash command, prefix command, mention and DM, mixed;
guild 5 has a strict cooldown (2 questions per 10 s), so the run sees answers, abstentions and
cooldown notes. Guild 5 asks only by slash command: a member over the limit in a text channel
gets one note per window and then silence by design, which cannot be told apart from a lost
reply. Every other question must get exactly one reply message (answers fit one message: the
corpus has no quote long enough to be split). After each round the fake server's records are
released and RSS is read: exit status 1 if a question was lost or doubled, or if memory grew by
more than --max-growth bytes a question between the last two rounds.

With --passages N the bot also has a collection of bench/synth.py's N synthetic passages (one
index with the documents above), and half the questions are 3-8 words drawn from one of its
sentences. --workdir keeps the corpus and the saved index for the next run (a 1M-passage
build takes about 30 s; a reused one loads in about 2 s).

The bot runs in a process of its own (this script with --serve-bot), as it runs against the
real Discord, and the fake server and the members in this one: the loop lag reported is the
bot's alone, with the fake's own beside it. --fake-in-process runs the bot on the fake's event
loop instead (the older way: its lag then includes the fake's work, an upper bound). With
--shard-processes N the bot runs instead as N `quotebot run --shard-count N --shard-ids i`
processes, one gateway shard each, with the guilds spread over the shards (guild g on shard
g % N); RSS is then the processes' summed, read without a collection (reported, not judged),
and their cooldowns carry over between rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import json
import logging
import os
import random
import re
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))  # for bench.synth (bench/ itself would shadow xapian)

from e2e.harness import make_project  # noqa: E402
from fakediscord import FakeDiscord  # noqa: E402

from bench.synth import write_corpus  # noqa: E402
from bot import messages  # noqa: E402
from bot.app import build_bot  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.library import library_from_settings  # noqa: E402

log = logging.getLogger("bench.load")

# Bytes a question that the bot's memory may grow by between two equal rounds once its bounded
# caches are full (see bench/README.md for what RSS noise this allows).
MAX_GROWTH = 200.0

GUILDS, MEMBERS_PER_GUILD = 5, 10
WAYS = ("slash", "prefix", "mention", "dm")
QUESTIONS = [
    "Who captured Siversk?", "What did Gerasimov tell Putin?",
    "When does the lantern parade start?",
    "Who announced the withdrawal from Siversk?", "What did the Cossacks claim?",
    "What is a hovercraft?", "what is it?", "Where is the harbour gate?",
    "Who keeps the zephyrium ledger?", "When do the stalls close?",
]
SYNTH_QUESTIONS = 200  # drawn from the synthetic corpus's sentences, as many as QUESTIONS' repeats


@dataclass
class Asked:
    qid: int
    way: str
    guild: int | None
    sent_at: float = 0.0
    target: object = None  # the user Message or the Interaction


@dataclass
class Result:
    questions: int
    seconds: float
    replies: Counter = field(default_factory=Counter)  # kind -> count
    lost: list[int] = field(default_factory=list)
    doubled: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    http_errors: int = 0
    worst_lag: float = 0.0  # the bot's event loop (with the fake's work when they share it)
    fake_lag: float = float("nan")  # the fake server's loop, when the bot runs elsewhere
    rss_after: float = 0.0  # MiB, once the fake server's records of the round are released
    rss_files: float = 0.0  # MiB of rss_after that are files' pages (mapped index, libraries)
    bot_heap: float = float("nan")  # MiB allocated by bot/ or discord.py code (--trace-memory)
    warmup: bool = False


def bot_yaml(synth: str | None = None) -> str:
    extra = f"  synth: {{folders: [{synth}], visibility: public, dms: true}}\n" if synth else ""
    return """\
collections:
  public: {folders: [docs/public], visibility: public, dms: true}
""" + extra + """\
defaults:
  prefix: "!"
  channels: all
  collections: all
  moderator_roles: []
  cooldown: {rate: 100, per: 1}
  top_k: 2
dms:
  enabled: true
  cooldown: {rate: 100, per: 1}
index_dir: .cache
"""


def make_world(server: FakeDiscord, root: Path, shards: int = 0, passages: int = 0):
    """`shards`: spread the guilds over that many gateway shards (0: wherever their ids fall);
    `passages`: a collection of that many synthetic passages too, written in root (kept there
    with the saved index for the next run; the rest of root is made anew)."""
    guilds, channels, members = [], [], []
    for g in range(GUILDS):
        guild = server.add_guild(f"G{g + 1}", shard=(g % shards, shards) if shards else None)
        channel = server.add_text_channel(guild, "general")
        guilds.append(guild)
        channels.append(channel)
        for m in range(MEMBERS_PER_GUILD):
            user = server.add_user(f"m{g}_{m}")
            server.add_member(guild, user)
            # A prefix command's answer is not a reply to the question, so each member asks
            # by prefix in a desk of their own, one question at a time, to tell answers apart.
            desk = server.add_text_channel(guild, f"desk-{m}")
            members.append((g, user, desk))
    for stale in ("docs", "config", ".quotebot-state"):
        shutil.rmtree(root / stale, ignore_errors=True)
    make_project(root)
    (root / "docs" / "public" / "long.txt").unlink()  # every answer fits one message
    synth = f"synth{passages}" if passages else None
    if synth:
        write_corpus(root / synth, passages)
    config = root / "config"
    (config / "guilds").mkdir(parents=True, exist_ok=True)
    (config / "bot.yaml").write_text(bot_yaml(synth), encoding="utf-8")
    (config / "guilds" / f"{guilds[-1].id}.yaml").write_text(
        "cooldown: {rate: 2, per: 10}\n", encoding="utf-8")
    return guilds, channels, members


def synth_questions(folder: Path, count: int, seed: int = 2) -> list[str]:
    """Questions as a member asks about a passage: 3-8 of one sentence's words, in random
    order (so a word comes as often as the corpus uses it)."""
    rng = random.Random(seed)
    files = sorted(folder.glob("*.txt"))
    out = []
    while len(out) < count:
        sentences = rng.choice(files).read_text(encoding="utf-8").split(". ")
        words = re.findall(r"\w+", rng.choice(sentences))
        out.append(" ".join(rng.sample(words, min(rng.randint(3, 8), len(words)))) + "?")
    return out


def kind_of(content: str) -> str:
    if content.startswith("From *"):
        return "answer"
    if content.startswith("Slow down"):
        return "cooldown"
    no_terms = messages.ABSTAIN["no_terms"]
    if content == messages.abstention("no_match") or content.startswith(no_terms):
        return "abstention"
    return "other"


async def one_round(server, bot_user_id, guilds, channels, members, total, seconds, rng,
                    asked_all: Callable[[], Awaitable[None]], questions: list[str]) -> Result:
    result = Result(total, seconds)
    asked: list[Asked] = []
    errors = len(server.http_errors)
    mark = len(server.sent)

    locks: dict[int, asyncio.Lock] = {}

    async def ask(item: Asked, user, g: int, desk) -> None:
        question = rng.choice(questions)
        if item.way == "slash":
            where = (None, server.dm_channel(user)) if item.guild is None else (
                guilds[g], channels[g])
            item.target = await server.slash(*where, user, "ask", {"question": question})
            item.sent_at = item.target.dispatched_at
        else:
            text = {"prefix": f"!ask {question}", "mention": f"<@{bot_user_id}> {question}",
                    "dm": question}[item.way]
            if item.way == "prefix":
                async with locks.setdefault(user.id, asyncio.Lock()):
                    item.sent_at = server.now()
                    item.target = await server.user_says(desk, user, text)
                    with contextlib.suppress(TimeoutError):  # counted as lost below
                        await server.wait_until(
                            lambda: server.records(channel=desk, after=item.target), 10)
                return
            channel = server.dm_channel(user) if item.way == "dm" else channels[g]
            item.sent_at = server.now()
            item.target = await server.user_says(channel, user, text)

    started = time.monotonic()
    tasks = []
    for qid in range(total):
        g, user, desk = rng.choice(members)
        way = "slash" if g == GUILDS - 1 else rng.choice(WAYS)
        item = Asked(qid, way, None if way == "dm" or (way == "slash" and rng.random() < 0.1)
                     else guilds[g].id)
        asked.append(item)
        delay = started + qid * seconds / total - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(ask(item, user, g, desk)))
    await asyncio.gather(*tasks)
    await asyncio.sleep(0.5)
    await asked_all()  # loop lag is measured while members ask, not while this script counts

    by_interaction: dict[int, dict[int, object]] = {}

    def replies_to(item: Asked) -> list:
        return list(by_interaction.get(item.target.id, {}).values())

    by_ref: dict[str, list] = {}
    prefix = {a.target.id: a for a in asked if a.way == "prefix"}

    def index() -> None:
        """Replies by the id of the question they answer; in a desk, the latest question."""
        by_ref.clear()
        by_interaction.clear()
        for rec in server.sent[mark:]:  # the last state of each message of each interaction
            if rec.interaction is not None and rec.op != "delete" and rec.content:
                by_interaction.setdefault(rec.interaction.id, {})[rec.message_id] = rec
        latest: dict[int, int] = {}  # desk -> id of its latest question so far
        events = sorted([(a.target.id, "q", a) for a in prefix.values()]
                        + [(r.message_id, "r", r) for r in server.records(op="create",
                                                                           after=mark)],
                        key=lambda e: e[0])  # snowflakes are ordered by time
        for _, what, obj in events:
            if what == "q":
                latest[obj.target.channel_id] = obj.target.id
                continue
            ref = str(obj.message.reply_to.id) if obj.message.reply_to else None
            if ref is None and obj.channel_id in latest:
                ref = str(latest[obj.channel_id])
            if ref:
                by_ref.setdefault(ref, []).append(obj)

    def got(item: Asked) -> list:
        return replies_to(item) if item.way == "slash" else by_ref.get(str(item.target.id), [])

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        index()
        if all(got(a) for a in asked):
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # anything doubled arrives now
    index()
    for item in asked:
        recs = got(item)
        if not recs:
            result.lost.append(item.qid)
            log.debug("lost %s %s %r", item.way, item.guild, getattr(item.target, "content", None))
            continue
        if len(recs) > 1:
            result.doubled.append(item.qid)
        result.replies[kind_of(recs[0].content)] += 1
        result.latencies.append(min(r.at for r in recs) - item.sent_at)
    result.seconds = time.monotonic() - started
    result.http_errors = len(server.http_errors) - errors
    return result


def release(server: FakeDiscord) -> None:
    """Forget what the fake server recorded of a finished round (every request, message write,
    stored message, interaction, logged gateway frame and the frames buffered for a RESUME), so
    the memory measured after it is the bot's and not the fake's. The world (guilds, channels,
    members) stays."""
    for records in (server.sent, server.requests, server.gateway.log):
        records.clear()
    for session in server.gateway.sessions.values():
        session.backlog.clear()  # frames kept for a RESUME; the bot has them all by now
    server.messages.clear()
    server.interactions.clear()
    server.interactions_by_token.clear()


_libc = ctypes.CDLL(ctypes.util.find_library("c") or None)


def rss_of(*processes: psutil.Process) -> tuple[float, float]:
    """(RSS, of it the pages of files: memory-mapped ones like the saved index, and the
    libraries' code), MiB, summed over processes."""
    infos = [p.memory_info() for p in processes]
    return sum(i.rss for i in infos) / 2**20, sum(i.shared for i in infos) / 2**20


def settle_rss() -> tuple[float, float]:
    """rss_of this process after a full collection, with free heap pages handed back to the
    system (glibc's malloc_trim), so freed memory does not count as held."""
    gc.collect()
    with contextlib.suppress(AttributeError):
        _libc.malloc_trim(0)
    return rss_of(psutil.Process())


# What a round needs from the bot however it runs: begin measuring its loop's lag; once the
# members have asked, the worst lag, s (None when not measured); once the fake's records are
# released, start the next round equal and read the memory: RSS and its files' part, MiB, and
# the bot/ + discord.py heap, MiB (NaN unless tracing).
Memory = tuple[float, float, float]
Bot = tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[float | None]],
            Callable[[], Awaitable[Memory]]]


STEPS = ("begin", "lag", "end")


class LagMeter:
    """The worst lag of the running event loop between start() and stop()."""

    def __init__(self) -> None:
        self.worst, self._stop, self._task = 0.0, asyncio.Event(), None

    def start(self) -> None:
        self.worst, self._stop = 0.0, asyncio.Event()
        self._task = asyncio.create_task(self._tick())

    async def stop(self) -> float:
        self._stop.set()
        await self._task
        return self.worst

    async def _tick(self, every: float = 0.02) -> None:
        """How late a short sleep wakes up."""
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            before = loop.time()
            await asyncio.sleep(every)
            self.worst = max(self.worst, loop.time() - before - every)


@contextlib.asynccontextmanager
async def bot_here(env: dict[str, str], root: Path) -> AsyncIterator[tuple[object, Bot]]:
    """The bot on this process's event loop, connected to the fake server that env names;
    yields it and the round's two steps: its loop's lag is measured between them, its
    cooldowns reset and its memory read after a collection."""
    settings = load_settings(root / "config")
    library = await asyncio.to_thread(library_from_settings, settings)
    bot = build_bot(settings, library, env=env, guild_ready_timeout=0.1)
    task = asyncio.create_task(bot.start(env["DISCORD_TOKEN"]))
    lag = LagMeter()

    async def begin() -> None:
        lag.start()

    async def end() -> Memory:
        bot.state.cooldowns = type(bot.state.cooldowns)()  # rounds start equal
        heap = bot_heap() if tracemalloc.is_tracing() else float("nan")
        return (*settle_rss(), heap)

    try:
        await asyncio.wait_for(bot.wait_until_ready(), 60)
        yield bot, (begin, lag.stop, end)
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)


@contextlib.asynccontextmanager
async def bot_in_process(server: FakeDiscord, root: Path) -> AsyncIterator[Bot]:
    """The bot on the fake server's own event loop (--fake-in-process): its lag then includes
    the fake's work and its RSS the fake's fixed world."""
    async with bot_here(server.env(), root) as (_, steps):
        yield steps


async def serve_bot(root: Path) -> None:
    """The bot process of bot_process: answers `ready` once connected, then each line of
    stdin, a Bot step's name, with a JSON line of what it returns; stops at end of input."""
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    async with bot_here(dict(os.environ), root) as (_, steps):
        print("ready", flush=True)
        named = dict(zip(STEPS, steps, strict=True))
        while line := (await commands.readline()).strip():
            print(json.dumps(await named[line.decode()]()), flush=True)


@contextlib.asynccontextmanager
async def bot_process(server: FakeDiscord, root: Path) -> AsyncIterator[Bot]:
    """The bot alone in a process of its own (this script with --serve-bot), as it runs
    against the real Discord: the loop lag it reports is its own."""
    env = {**os.environ, **server.env(), "PYTHONPATH": str(ROOT)}
    args = ["--trace-memory"] if tracemalloc.is_tracing() else []
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve-bot", str(root), *args, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert proc.stdin and proc.stdout

    def step(name: str) -> Callable[[], Awaitable]:
        async def ask() -> object:
            proc.stdin.write(name.encode() + b"\n")  # type: ignore[union-attr]
            await proc.stdin.drain()  # type: ignore[union-attr]
            answer = json.loads(await proc.stdout.readline())  # type: ignore[union-attr]
            return tuple(answer) if isinstance(answer, list) else answer
        return ask

    try:
        ready = await asyncio.wait_for(proc.stdout.readline(), 120)
        if ready.strip() != b"ready":
            raise RuntimeError(f"the bot process did not start (exit {await proc.wait()})")
        yield tuple(step(name) for name in STEPS)  # type: ignore[misc]
    finally:
        if proc.returncode is None:
            proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@contextlib.asynccontextmanager
async def shard_processes(server: FakeDiscord, root: Path, count: int) -> AsyncIterator[Bot]:
    """`quotebot run --shard-count count --shard-ids i` for every i, as an operator runs them;
    started one after the other, so that the first builds the index the others load."""
    quotebot = Path(sys.executable).with_name("quotebot")
    env = {**os.environ, **server.env()}
    procs = []

    def connected(shard: int) -> bool:
        return any(s.shard == (shard, count) for s in server.gateway.connected_sessions)

    async def begin() -> None:
        pass

    async def lag() -> None:  # not measured: this script's own is reported
        return None

    async def end() -> Memory:
        return (*rss_of(*(psutil.Process(p.pid) for p in procs)), float("nan"))

    try:
        for shard in range(count):
            procs.append(await asyncio.create_subprocess_exec(
                quotebot, "run", "--config", str(root / "config"), "--log-level", "WARNING",
                "--shard-count", str(count), "--shard-ids", str(shard), env=env))
            await server.wait_until(lambda shard=shard: connected(shard), 60,
                                    what=f"shard {shard}'s process")
        yield begin, lag, end
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs:
            await asyncio.wait_for(proc.wait(), 20)


async def run(total: int = 2000, seconds: float = 60.0, rounds: int = 2, seed: int = 1,
              root: Path | None = None, warmup: int = 0, shards: int = 0,
              passages: int = 0, fake_in_process: bool = False) -> list[Result]:
    """Start the fake server here and the bot in a process of its own (or on this event loop
    with fake_in_process, or as `shards` shard processes), run `warmup` + `rounds` equal
    rounds, return their results (warm-up rounds marked). Between rounds the fake server's
    records are released. `passages`: see make_world."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = root or Path(tmp)
        server = FakeDiscord(heartbeat_interval=41250)
        await server.start()
        guilds, channels, members = make_world(server, root, shards, passages)
        questions = QUESTIONS
        if passages:  # half the questions about the synthetic passages
            questions = (QUESTIONS * (SYNTH_QUESTIONS // len(QUESTIONS))
                         + synth_questions(root / f"synth{passages}", SYNTH_QUESTIONS))
        bot = (shard_processes(server, root, shards) if shards else
               bot_in_process(server, root) if fake_in_process else bot_process(server, root))
        results = []
        try:
            async with bot as (begin, lag, end):
                for n in range(warmup + rounds):
                    here, lags = LagMeter(), []

                    async def asked_all(here=here, lags=lags) -> None:
                        lags[:] = [await lag(), await here.stop()]

                    here.start()
                    await begin()
                    result = await one_round(server, server.bot_user.id, guilds, channels,
                                             members, total, seconds, rng, asked_all, questions)
                    release(server)
                    result.warmup = n < warmup
                    bot_lag, here_lag = lags
                    result.worst_lag = here_lag if bot_lag is None else bot_lag
                    if bot_lag is not None and not fake_in_process:
                        result.fake_lag = here_lag
                    result.rss_after, result.rss_files, result.bot_heap = await end()
                    results.append(result)
        finally:
            await server.close()
    return results


def bot_heap() -> float:
    """MiB still held by memory that bot/ or discord.py code allocated (by the line that
    made it). RSS alone cannot tell whether the bot grows: the fake server in the same process
    keeps every message it recorded."""
    keep = [tracemalloc.Filter(True, f"*/{d}/*") for d in ("bot", "discord")]
    snapshot = tracemalloc.take_snapshot().filter_traces(keep)
    return sum(stat.size for stat in snapshot.statistics("filename")) / 2**20


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def memory_growth(results: list[Result]) -> tuple[str, float, float] | None:
    """(what was measured, MiB grown, bytes per question) between the last two measured
    rounds: the traced bot heap when tracing, else RSS once the fake's records are released."""
    measured = [r for r in results if not r.warmup]
    if len(measured) < 2:
        return None
    a, b = measured[-2:]
    if tracemalloc.is_tracing():
        what, grown = "bot/ + discord.py heap", b.bot_heap - a.bot_heap
    else:
        what, grown = "RSS", b.rss_after - a.rss_after
    return what, grown, grown * 2**20 / b.questions


def report(results: list[Result], max_growth: float = float("inf"), shards: int = 0,
           fake_in_process: bool = False) -> str:
    lines = [f"quotebot load: fake Discord server in this process, the bot as {shards} gateway "
             "shard processes" if shards else
             "quotebot load: fake Discord server and bot in one process, one event loop"
             if fake_in_process else
             "quotebot load: fake Discord server in this process, the bot in its own"]
    whose = (f" of the {shards} bot processes" if shards else
             "" if fake_in_process else " of the bot process")
    for n, r in enumerate(results, 1):
        total = sum(r.replies.values())
        name = f"warm-up {n}" if r.warmup else f"round {n}"
        memory = (f"RSS{whose} after the round: {r.rss_after:.1f} MiB "
                  f"({r.rss_files:.1f} of files)")
        if tracemalloc.is_tracing():
            memory += f", bot/ + discord.py heap {r.bot_heap:.2f} MiB"
        lines += [
            f"{name}: {r.questions:,} questions in {r.seconds:.1f} s -> {total:,} replied "
            f"({total / r.seconds:.1f} replies/s); lost {len(r.lost)}, doubled {len(r.doubled)}, "
            f"HTTP errors {r.http_errors}",
            "  replies: " + ", ".join(f"{k} {v:,}" for k, v in sorted(r.replies.items())),
            f"  question->reply latency: p50 {percentile(r.latencies, 50) * 1000:.0f} ms, "
            f"p95 {percentile(r.latencies, 95) * 1000:.0f} ms, "
            f"p99 {percentile(r.latencies, 99) * 1000:.0f} ms, "
            f"max {max(r.latencies, default=0) * 1000:.0f} ms, "
            f"mean {statistics.fmean(r.latencies or [0]) * 1000:.0f} ms",
            f"  {'the bot' if r.fake_lag == r.fake_lag else 'event'} loop's worst lag: "
            f"{r.worst_lag * 1000:.0f} ms"
            + (f" (the fake's: {r.fake_lag * 1000:.0f} ms)" if r.fake_lag == r.fake_lag else "")
            + f"; {memory} (fake server's records released)",
        ]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append(f"peak RSS{'' if fake_in_process else ' of this script (the fake server)'}: "
                 f"{peak:.1f} MiB")
    if (growth := memory_growth(results)) is not None:
        what, grown, per_question = growth
        verdict = "bounded" if per_question <= max_growth else (
            f"GROWS, over the bound of {max_growth:.0f} bytes a question")
        if shards:  # their heaps are read as they are, without a collection or malloc_trim
            verdict = "not judged: the bot processes' RSS is read unsettled"
        lines.append(f"memory: round {len(results) - 1} -> round {len(results)} "
                     f"{grown:+.2f} MiB {what}, {per_question:+.0f} bytes a question ({verdict})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000, help="per round (default 2000)")
    parser.add_argument("--seconds", type=float, default=60.0, help="per round (default 60)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="equal measured rounds after the warm-up (default 2)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="rounds first run to fill the bounded caches (default 1)")
    parser.add_argument("--max-growth", type=float, default=MAX_GROWTH, metavar="BYTES",
                        help="fail when memory grows more than this per question between the "
                        f"last two rounds (default {MAX_GROWTH})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shard-processes", type=int, default=0, metavar="N",
                        help="run the bot as N `quotebot run` processes, one gateway shard "
                        "each (default: the bot in this process, unsharded)")
    parser.add_argument("--passages", type=int, default=0, metavar="N",
                        help="also a collection of N synthetic passages (bench/synth.py), "
                        "asked about half the time (default 0: the seed documents only)")
    parser.add_argument("--workdir", type=Path, default=None, metavar="DIR",
                        help="the project folder, kept: its synthetic corpus and saved index "
                        "are reused by the next run (default: a temporary folder)")
    parser.add_argument("--fake-in-process", action="store_true",
                        help="run the bot on this script's event loop, beside the fake server, "
                        "as before 6 December 2026 (default: the bot in a process of its own)")
    parser.add_argument("--trace-memory", action="store_true",
                        help="trace allocations to tell the bot's memory from the fake's")
    parser.add_argument("--serve-bot", type=Path, metavar="ROOT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.trace_memory:
        tracemalloc.start(1)
    if args.serve_bot:  # the bot process of bot_process
        logging.basicConfig(level=logging.WARNING)
        asyncio.run(serve_bot(args.serve_bot))
        return 0
    logging.basicConfig(level=logging.WARNING)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    results = asyncio.run(run(args.questions, args.seconds, args.rounds, args.seed,
                              root=args.workdir and args.workdir.resolve(), warmup=args.warmup,
                              shards=args.shard_processes, passages=args.passages,
                              fake_in_process=args.fake_in_process))
    print(report(results, args.max_growth, args.shard_processes, args.fake_in_process))
    growth = memory_growth(results)
    bad = any(r.lost or r.doubled for r in results) or (
        growth is not None and growth[2] > args.max_growth and not args.shard_processes)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
