"""Every sentence quotebot may say besides quotes, in Discord and in the terminal: answer frames,
refusals, notes, help, moderation replies, error replies and the command line's own lines.
Nothing else writes words for a user; a slash command's docstring (its help text in Discord)
and argparse's option help stay on the command they describe.

Templates hold `{name}` fields filled by str.format where they are used.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.model import NO_MATCH, NO_TERMS, UNAVAILABLE
from bot.markdown import inline

# --- answers ---------------------------------------------------------------------------------

ABSTAIN = {
    NO_MATCH: "The documents do not answer this.",
    NO_TERMS: "That question has no words to search for: ask about a name, a place or an event.",
    UNAVAILABLE: "Search is unavailable right now: please ask again in a few minutes.",
}
SEE_SOURCES = "Use /sources to see the documents I can quote."
CONTINUES = "(continues)"
CONTINUES_IN_DOCUMENT = "(continues in the document)"
CONTEXT = "Context"
CONTEXT_BUTTON = CONTEXT + ": {label}{place}"
MORE = "More"


def place(paragraph: int | None, page: int | None = None, heading: str | None = None) -> str:
    """Where in its document a quote stands, to follow its label: ", page 4, paragraph 3",
    ', "Heading", paragraph 2' (heading as the caller shows it: escaped for Discord)."""
    parts = [f"page {page}" if page is not None else "",
             f'"{heading}"' if heading is not None else "",
             f"paragraph {paragraph}" if paragraph is not None else ""]
    return "".join(f", {part}" for part in parts if part)


def counted(n: int, noun: str) -> str:
    """"1 paragraph", "2,000 paragraphs"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def frame(label: str, where: str, also: tuple[str, ...] = (), more: int = 0) -> str:
    """The line above a quote: where it comes from (a `place`), and which other documents
    hold it too."""
    names = [*also, f"{more} more"] if more else list(also)
    elsewhere = f" (also in {', '.join(names)})" if names else ""
    return f"From {label}{where}{elsewhere}:"


def continued(head: str) -> str:
    """The frame line over the rest of a quote that did not fit in one message."""
    return f"{head.removesuffix(':')} (continued):"


def abstention(reason: str | None, see_sources: bool = True) -> str:
    """Why there is no answer; in Discord, where /sources exists, with a pointer to it."""
    text = ABSTAIN.get(reason or NO_MATCH, ABSTAIN[NO_MATCH])
    return f"{text} {SEE_SOURCES}" if see_sources and reason != UNAVAILABLE else text


def help_text(prefix: str) -> str:
    """The three lines of /help and the bot's description."""
    return (
        f"Ask with /ask, with {inline(prefix + 'ask', 40)} and your question, by mentioning me, "
        "or in a DM.\n"
        "I answer only with exact quotes from documents chosen by the moderators, "
        "each with its source.\n"
        "`/sources` lists the documents; under an answer, Context shows the whole paragraph "
        "and More shows further quotes."
    )


# --- notes and refusals in Discord -------------------------------------------------------------

NOT_HERE = "I do not answer in this channel."
DMS_OFF = "I do not answer direct messages. Ask me in a server channel where I answer."
SLOW_DOWN = "Slow down: try again in {seconds} s."
TOO_LONG = "That question is too long: ask it in at most {limit:,} characters."
EMPTY_QUESTION = "Write a question after the command, for example: {prefix}ask who took the town?"
EXPIRED = "This button has expired: ask the question again."
HIDDEN = "That quote cannot be shown here."
GONE = "That document is no longer in the library: ask the question again."
CHANGED = "That document has changed since this answer: ask the question again."
NO_SOURCES = "No documents can be quoted here."
MORE_SOURCES = "… and {count:,} more documents."
MORE_ITEMS = "… and {count:,} more."
MORE_LINES = "… and {count:,} more lines."
OOPS = "Sorry, something went wrong on my side. Please try again later."

# --- moderation --------------------------------------------------------------------------------

NOT_MODERATOR = (
    "Only moderators (Manage Server permission or a moderator role) can use this command."
)
GUILD_ONLY = "This command works only in a server."
RELOADED = (
    "Reloaded: {documents:,} documents in {collections:,} collections, {passages:,} passages."
)
SKIPPED = "Skipped {count:,} files:"
RELOAD_FAILED = "Reload failed; the previous configuration and documents are still in use. Fix:"
OTHER_GUILDS_PROBLEMS = (
    "... and {count:,} problem(s) in other servers' files in config/guilds/, which only the "
    "bot's operator sees (in the log, or with `quotebot check-config`)."
)
CONFIG_TITLE = "Effective settings here (secrets hidden):"

# --- uploads, gaps and feedback (moderators) --------------------------------------------------

UPLOADS_OFF = "Uploads are turned off in this bot's config (`uploads: {enabled: false}`)."
UPLOADS_SHARDED = (
    "Documents cannot be added here: this bot searches Xapian shard servers, which hold only "
    "the shards built from the configured folders. Ask its operator to add the file to a "
    "folder and rebuild the shards."
)
GAPS_OFF = "Recording unanswered questions is turned off (`gaps: {enabled: false}`)."
UPLOAD_TYPE = (
    "{name} cannot be added: only {suffixes} files can be quoted. Convert it to one of these."
)
UPLOAD_TOO_LARGE = (
    "That file is too large ({size:,} bytes; the limit is {limit:,}): split it into parts."
)
UPLOAD_FULL = (
    "This server's documents already use {used:,} of {limit:,} bytes: remove some with "
    "/quotebot remove first."
)
UPLOAD_RATE = "At most {limit} uploads an hour per server: try again in about {minutes} min."
UPLOAD_MISLABELLED = (
    "{name} is not plain text (its content is {kind}): give it the right file extension."
)
UPLOAD_UNUSABLE = "{name} was not added: {reason}"
UPLOAD_NOTHING = "it has no text to quote"
UPLOAD_NAME_TAKEN = (
    "A document named {name} is already in another collection here, or among the configured "
    "files of this one: rename the file."
)
UPLOAD_COLLECTION = (
    "Documents can go only into this server's own collection ({default}) or a collection "
    "private to this server and closed to DMs; {name} is neither."
)
UPLOAD_NAME_HERE = (
    "A document named {name} is already here ({label}): remove it first with "
    "/quotebot remove, or rename the file."
)
UPLOAD_NAME_BUSY = (
    "A document named {name} is being added here right now: once it is in, remove it first "
    "with /quotebot remove, or rename the file."
)
UPLOAD_UNKNOWN = "No document named {name} here: /quotebot documents lists them."
UPLOAD_DOWNLOAD = "Could not download the attachment ({error}): try again."
UPLOAD_STORAGE = (
    "Could not store that ({error}): nothing was changed. Tell the bot's operator "
    "(the disk may be full)."
)
STORAGE_READ = (
    "Could not read the records ({error}): nothing was changed. Tell the bot's operator (the "
    "database may be down); try again later."
)
UPLOAD_RELOAD = (
    "The library could not be rebuilt yet ({error}): the previous one keeps answering until "
    "/quotebot reload succeeds."
)
# File and collection names are safe characters only, so they go in code spans unescaped.
ADDED = (
    "Added `{name}` as *{label}* to collection `{collection}`: {paragraphs}, {sentences}."
)
QUOTABLE_NOW = "It can be quoted now."
REMOVED = "Removed `{name}` (*{label}*) from collection `{collection}`; it is no longer quoted."
SAVED_LABEL = "Message in #{channel}, {date}"
NO_UPLOADS = "No documents were added here yet: /quotebot add adds one."
DOCUMENT_LINE = (
    "`{name}` *{label}*, `{collection}`, {size:,} bytes, added by <@{user}> on {date}"
    "{votes}"
)
NOT_HELPFUL_COUNT = ", {count:,} not helpful"
NO_GAPS = "No unanswered questions recorded here."
GAP_LINE = "{count:,}x {question} (first {first}, last {last})"
NOT_HELPFUL = "Not helpful"
THANKS = "Thanks: the moderators will see that this answer did not help."
ALREADY_VOTED = "You already marked this answer."


def day(timestamp: float) -> str:
    """A stored time as moderators and the owner read it."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


MARKS_OFF = "Marking answers is turned off here."
NOT_MARKABLE = "That answer cannot be marked here: its quotes cannot be shown here."
FEEDBACK_FAILED = "Sorry, your mark could not be recorded; please try again later."

# --- running the bot (log lines and errors the operator reads) ---------------------------------

MESSAGE_CONTENT_HELP = (
    "Discord refused the Message Content intent (close code 4014), so prefix commands in "
    "server channels will not see their text; slash commands, mentions and DMs still work. "
    "To enable it: https://discord.com/developers/applications -> your application -> Bot -> "
    "Privileged Gateway Intents -> turn on MESSAGE CONTENT INTENT, then restart the bot."
)
STATE_UNUSABLE = (
    "the database cannot be used ({error}): fix state_dir in bot.yaml, or "
    "QUOTEBOT_DATABASE_URL in the environment when the database is PostgreSQL"
)
BAD_API_URL = "DISCORD_API_BASE_URL must start with http:// or https:// ({url!r})"
BAD_GATEWAY_URL = "DISCORD_GATEWAY_URL must start with ws:// or wss:// ({url!r})"
TOKEN_REFUSED = (
    "Discord refused the token: copy it again from the developer portal "
    "(Bot -> Reset Token) into DISCORD_TOKEN"
)
UNREACHABLE = (
    "cannot reach Discord at {api} ({error}): check "
    "the network, or DISCORD_API_BASE_URL / DISCORD_GATEWAY_URL"
)
TOKEN_MISSING = (
    "DISCORD_TOKEN is not set: export DISCORD_TOKEN=<your bot token> "
    "(from the Discord developer portal, Bot tab) and run again"
)
TOKEN_MALFORMED = (
    "DISCORD_TOKEN contains spaces, line breaks or other characters a token never has: "
    "copy it again from the developer portal (Bot tab, Reset Token)"
)

# --- the command line and the library it builds -----------------------------------------------

CLI_ERROR = "quotebot: {error}"
CLI_CONFIG_ERROR = "quotebot: config problems:\n{error}"
SEE_HELP = "{message} (see `{command} --help`)"
BAD_TOP_K = "must be a whole number from {lo} to {hi}, got {text!r}"
BAD_SHARD_COUNT = "must be a whole number of shards from 1 to 100,000, got {text!r}"
BAD_SHARD_IDS = "must be shard ids (whole numbers) separated by commas, e.g. 0,1; got {text!r}"
SHARD_IDS_OUTSIDE = (
    "--shard-ids {ids} must be distinct ids from 0 to {last} (the shard count is {count}): "
    "shard ids count from 0"
)
SHARD_IDS_NEED_COUNT = (
    "--shard-ids needs the total number of shards: pass --shard-count N, or set "
    "`shards: {count: N}` in bot.yaml"
)
NO_CONFIG = "no config at {path}: pass --config DIR"
SQUAD_MISSING = "SQuAD file not found: {path} (pass the path to dev-v1.1.json)"
CONFIG_OK = "{folder}: OK"
CONFIG_PROBLEMS = "{folder}: {count} problem(s)"
SKIPPED_FILE = "skipped {skipped}"
BAD_XAPIAN_SHARD_COUNT = "the shard count must be a whole number from 1 to 1000, got {text!r}"
NO_SUCH_COLLECTION = "no collection {name!r} in the config: name one of {known}"
SHARD_BUILT = "{path}: serve it with `xapian-tcpsrv --port PORT {path}` on a private network"
CLI_QUESTION = "Q: {question}"
CLI_LOCATION = "  [{document}, characters {start}-{end}]"
CLI_ALSO = "  also in {label}: [{document}, paragraph {paragraph}, characters {start}-{end}]"
CLI_LINK = "  {link}"
CLI_SOURCE = "{label}{extra}\n    {place}: {paragraphs}, {sentences}"
FOLDER_NOT_FOUND = "corpus folder not found: {folder} (create it or fix the path)"
NOT_A_FOLDER = "{folder} is a file, not a folder of documents: give its folder ({parent})"
NO_DOCUMENTS = "no documents to quote in {folders}: add .txt, .md, .pdf, .html or .docx files"
LABELS_NOT_READ = "labels not read ({error}); documents keep file names"
LABELS_DOUBTFUL = "labels read, but check them ({error})"
LABEL_NOT_TEXT = (
    "is {what}, not text: write one line of text (in quotes if it starts with [ or {{); "
    "until then the file's own {field} is used"
)
