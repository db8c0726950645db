"""`quotebot ask | sources | text | eval | run | gaps | xapian-shards | check-config`:
arguments in, core calls, text out."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot import messages
from bot.config.botyaml import DEFAULT_INDEX_DIR
from bot.core.documents import DEFAULT_MAX_BYTES, document_text
from bot.core.model import TOP_K_RANGE, Answer, RetrievalSettings
from bot.errors import ConfigError, QuotebotError, UsageError
from bot.library import Library, build_library, library_from_settings
from bot.terminal import format_answer, json_line, named, shown

if TYPE_CHECKING:
    from bot.config import Shards

log = logging.getLogger(__name__)

EXIT_USAGE = 2
DEFAULT_CONFIG = Path("config")


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so every bad argument
    becomes one line and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        where = " ".join(["quotebot", *self.prog.split()[1:]])  # `quotebot xapian-shards build`
        raise UsageError(messages.SEE_HELP.format(message=message, command=where))


def _path(text: str) -> Path:
    """A path argument; an empty one ("" from an unset shell variable) would be the current
    folder, read or written without a word."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path: give a folder")
    return Path(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="quotebot", description=__doc__)
    common = _Parser(add_help=False)
    common.add_argument("--config", type=_path, default=None,
                        help="folder with bot.yaml and guilds/ (default: ./config)")
    common.add_argument("--log-level", type=str.upper,
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging level (default: INFO for run, WARNING otherwise)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    corpus = _Parser(add_help=False, parents=[common])
    corpus.add_argument("--corpus", type=_path, action="append", metavar="DIR",
                        help="a folder of documents (repeatable); overrides the config")
    corpus.add_argument("--index-dir", type=_path, metavar="PATH",
                        help="where the index is saved and reused (default: the config's "
                             f"index_dir, else ./{DEFAULT_INDEX_DIR})")

    ask = sub.add_parser("ask", parents=[corpus], help="answer a question with quotes")
    ask.add_argument("question", help='the question, or "-" to read one question a line')
    ask.add_argument("--json", action="store_true", help="print JSON (JSON Lines with -)")
    ask.add_argument("--top-k", type=_top_k, metavar="N",
                     help=f"quotes per answer ({TOP_K_RANGE[0]} to {TOP_K_RANGE[1]})")

    sub.add_parser("sources", parents=[corpus], help="list the documents and their labels")

    text = sub.add_parser("text", parents=[corpus],
                          help="print a document's quotable text exactly, as offsets index it")
    text.add_argument("document", help="a file, or a document as `quotebot sources` names it")

    ev = sub.add_parser("eval", parents=[common], help="retrieval benchmark on SQuAD v1.1 dev")
    ev.add_argument("--squad", type=Path, required=True, metavar="PATH",
                    help="path to dev-v1.1.json")
    ev.add_argument("--no-baseline", action="store_true",
                    help="skip the baselines (bm25 sentence, naive)")
    ev.add_argument("--labels", choices=["title", "filename", "both"], default="both",
                    help="documents labelled by their SQuAD titles, by neutral file names "
                         "(as with no metadata), or each in turn (default: both)")
    ev.add_argument("--top-k", type=_top_k, metavar="N",
                    help="quotes a reply shows, as `ask --top-k` (default: the configured "
                         "top_k); read@N is taken over them")
    ev.add_argument("--abstention", action="store_true",
                    help="instead: answered/refused shares and ROC AUC with each question's "
                         "article present and removed")

    run = sub.add_parser("run", parents=[common],
                         help="start the Discord bot (token from DISCORD_TOKEN)")
    run.add_argument("--shard-count", type=_shard_count, metavar="N",
                     help="total gateway shards over all processes (default: bot.yaml's "
                          "`shards`, else the count Discord recommends)")
    run.add_argument("--shard-ids", type=_shard_ids, metavar="ID,ID",
                     help="the shards this process runs, e.g. 0,1 (default: all of them)")

    gaps = sub.add_parser("gaps", parents=[common],
                          help="questions the documents did not answer, most asked first")
    scope = gaps.add_mutually_exclusive_group(required=True)
    scope.add_argument("--guild", type=int, metavar="ID", help="a guild's questions")
    scope.add_argument("--dms", action="store_true", help="the questions asked in DMs")

    xapian = sub.add_parser("xapian-shards",
                            help="Xapian shards for shard servers (README: Scale)")
    xapian_sub = xapian.add_subparsers(dest="xapian_command", required=True, parser_class=_Parser)
    build = xapian_sub.add_parser("build", parents=[common],
                                  help="write a collection's passages into N Xapian shards")
    build.add_argument("--collection", required=True, metavar="NAME",
                       help="a collection of config/bot.yaml")
    build.add_argument("--count", type=_count, required=True, metavar="N",
                       help="number of shards (1 to 1000)")
    build.add_argument("--out", type=Path, required=True, metavar="DIR",
                       help="folder for shard-0 .. shard-N-1 (replaced if there)")

    check = sub.add_parser("check-config", parents=[common],
                           help="validate the YAML config; exit 1 on problems")
    check.add_argument("dir", nargs="?", type=Path, help="config folder (default: --config)")
    return parser


def _top_k(text: str) -> int:
    lo, hi = TOP_K_RANGE
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not lo <= value <= hi:
        raise argparse.ArgumentTypeError(messages.BAD_TOP_K.format(lo=lo, hi=hi, text=text))
    return value


def _shard_count(text: str) -> int:
    from bot.config.shards import MAX_SHARDS

    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_SHARDS:
        raise argparse.ArgumentTypeError(messages.BAD_SHARD_COUNT.format(text=text))
    return int(text)


def _shard_ids(text: str) -> tuple[int, ...]:
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() for part in parts):
        raise argparse.ArgumentTypeError(messages.BAD_SHARD_IDS.format(text=text))
    return tuple(int(part) for part in parts)


def _count(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(messages.BAD_XAPIAN_SHARD_COUNT.format(text=text))
    return value


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(argv)
        default = "INFO" if args.command == "run" else "WARNING"
        logging.basicConfig(level=args.log_level or default,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        return COMMANDS[args.command](args, out)
    except ConfigError as exc:
        print(messages.CLI_CONFIG_ERROR.format(error=exc), file=sys.stderr)
        return EXIT_USAGE
    except QuotebotError as exc:
        print(messages.CLI_ERROR.format(error=exc), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


# --- commands ------------------------------------------------------------------------------


def cmd_ask(args: argparse.Namespace, out: TextIO) -> int:
    library = _library(args)
    engine = library.engine
    if args.question != "-":
        answer = engine.answer(args.question, top_k=args.top_k)
        out.write(json_line(answer) if args.json else format_answer(answer))
        return 0
    for n, line in enumerate(sys.stdin):
        # (A file saved by a Windows editor starts with a byte order mark, no question's.)
        question = (line.removeprefix("\ufeff") if n == 0 else line).rstrip("\r\n")
        try:
            answer = engine.answer(question, top_k=args.top_k)
        except Exception:  # one bad line must not lose the others' answers
            log.exception("question failed: %r", question[:200])
            answer = Answer(question, False, reason="error")
        out.write(json_line(answer) if args.json else format_answer(answer) + "\n")
        out.flush()
    return 0


def cmd_sources(args: argparse.Namespace, out: TextIO) -> int:
    library = _library(args)
    for doc in library.engine.sources():
        extra = ", ".join(x for x in (doc.source, doc.date) if x)
        line = messages.CLI_SOURCE.format(
            label=named(doc.label), extra=f" ({named(extra)})" if extra else "",
            place=named(f"{doc.collection}/{doc.rel}"),
            paragraphs=messages.counted(len(doc.paragraphs), "paragraph"),
            sentences=messages.counted(len(doc.sentences), "sentence"),
        )
        out.write(shown(line) + "\n")
    for skipped in library.skipped:
        out.write(named(messages.SKIPPED_FILE.format(skipped=skipped)) + "\n")
    return 0


def cmd_text(args: argparse.Namespace, out: TextIO) -> int:
    path = Path(args.document)
    if path.is_file():
        # A file is read as the configured library would read it, where there is a config.
        settings = _settings(args.config, required=False)
        limits = settings.document_limits if settings else None
        try:
            out.write(document_text(path, limits.max_bytes if limits else DEFAULT_MAX_BYTES,
                                    limits))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{path}: {exc}") from None
        return 0
    for doc in _library(args).engine.sources():
        if args.document in (doc.rel, f"{doc.collection}/{doc.rel}"):
            out.write(doc.text)
            return 0
    raise UsageError(f"no document {args.document!r}: pass a file or a name `quotebot sources` "
                     "lists")


def cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    from bot.evaluation import abstention, evaluate

    if not args.squad.is_file():
        raise UsageError(messages.SQUAD_MISSING.format(path=args.squad))
    settings = _settings(args.config, required=False)
    retrieval = settings.retrieval if settings else RetrievalSettings()
    if args.top_k:  # the reply the re-measurement reads: `ask --top-k 5`
        retrieval = replace(retrieval, top_k=args.top_k)

    def emit(line: str) -> None:
        print(line, file=out, flush=True)

    labels = ("title", "filename") if args.labels == "both" else (args.labels,)
    if args.abstention:
        abstention(args.squad, retrieval, labels=labels, emit=emit)
    else:
        evaluate(args.squad, retrieval, baseline=not args.no_baseline, labels=labels, emit=emit)
    return 0


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise UsageError(messages.TOKEN_MISSING)
    if not token.isascii() or not token.isprintable() or " " in token:
        # Never echo it: the message names the problem, not the value.
        raise UsageError(messages.TOKEN_MALFORMED)
    settings = _settings(args.config, required=True)
    settings = replace(settings, shards=_run_shards(args, settings.shards))
    from bot.app import run

    run(settings, token)
    return 0


def _run_shards(args: argparse.Namespace, configured: Shards | None) -> Shards | None:
    """The command line's shards over bot.yaml's: --shard-ids alone takes bot.yaml's count."""
    from bot.config import Shards

    count = args.shard_count or (configured.count if configured else None)
    if count is None:
        if args.shard_ids is not None:
            raise UsageError(messages.SHARD_IDS_NEED_COUNT)
        return None
    ids = args.shard_ids
    if ids is None:
        keep = configured is not None and args.shard_count in (None, configured.count)
        ids = configured.ids if keep else tuple(range(count))
    if len(set(ids)) < len(ids) or max(ids) >= count:
        shown = ",".join(map(str, ids))
        raise UsageError(messages.SHARD_IDS_OUTSIDE.format(ids=shown, last=count - 1, count=count))
    return Shards(count, ids)


def cmd_xapian_shards(args: argparse.Namespace, out: TextIO) -> int:
    from bot.library import build_xapian_shards

    settings = _settings(args.config, required=True)
    for path in build_xapian_shards(settings, args.collection, args.count, args.out):
        out.write(messages.SHARD_BUILT.format(path=path) + "\n")
    return 0


def cmd_check_config(args: argparse.Namespace, out: TextIO) -> int:
    from bot.config import check_config

    folder = args.dir or args.config or DEFAULT_CONFIG
    problems = check_config(folder)
    for problem in problems:
        out.write(f"{problem}\n")
    if problems:
        out.write(messages.CONFIG_PROBLEMS.format(folder=folder, count=len(problems)) + "\n")
    else:
        out.write(messages.CONFIG_OK.format(folder=folder) + "\n")
    return 1 if problems else 0


def cmd_gaps(args: argparse.Namespace, out: TextIO) -> int:
    """The bot owner's view of the gaps, DMs' included (in Discord only a guild's own)."""
    from bot.state import DMS, StorageError, open_storage

    settings = _settings(args.config, required=True)
    try:
        found = open_storage(settings.state_dir).gaps(
            DMS if args.dms else str(args.guild),
            settings.for_guild(None if args.dms else args.guild).gaps.keep_days,
        )
    except StorageError as exc:
        raise UsageError(messages.STATE_UNUSABLE.format(error=exc)) from None
    if not found:
        out.write(messages.NO_GAPS + "\n")
    for gap in found:
        out.write(messages.GAP_LINE.format(
            count=gap.asked, question=gap.question, first=messages.day(gap.first_asked),
            last=messages.day(gap.last_asked)) + "\n")
    return 0


COMMANDS = {
    "ask": cmd_ask,
    "sources": cmd_sources,
    "text": cmd_text,
    "eval": cmd_eval,
    "run": cmd_run,
    "check-config": cmd_check_config,
    "gaps": cmd_gaps,
    "xapian-shards": cmd_xapian_shards,
}


# --- helpers -------------------------------------------------------------------------------


def _settings(config_dir: Path | None, required: bool):
    """Settings from config_dir (--config; None: ./config), or None when ./config does not
    exist and is not required. A --config given is always required: its settings and
    aliases would otherwise be left out without a word."""
    from bot.config import load_settings

    folder = config_dir or DEFAULT_CONFIG
    if not (folder / "bot.yaml").is_file():
        if required or config_dir is not None:
            raise UsageError(messages.NO_CONFIG.format(path=folder / "bot.yaml"))
        return None
    return load_settings(folder)


def _library(args: argparse.Namespace) -> Library:
    settings = _settings(args.config, required=not args.corpus)
    retrieval = settings.retrieval if settings else RetrievalSettings()
    aliases = settings.aliases if settings else {}
    if args.corpus:
        folders = corpus_collections(args.corpus)
        index_dir = args.index_dir or (settings.index_dir if settings else Path(DEFAULT_INDEX_DIR))
        return build_library(folders, retrieval, aliases, index_dir=index_dir)
    return library_from_settings(settings, index_dir=args.index_dir)


def corpus_collections(paths: list[Path]) -> list[tuple[str, Path]]:
    """(collection, folder) for --corpus folders: each named after its folder, a second
    folder of the same name ("a/docs", "b/docs") as "docs-2", so quotes tell them apart."""
    out: list[tuple[str, Path]] = []
    taken: set[str] = set()
    for folder in paths:
        base = name = folder.resolve().name or str(folder)  # (".": the folder's own name)
        n = 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        out.append((name, folder))
    return out
