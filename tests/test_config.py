"""bot/config.py: the shipped config loads; broken configs are reported with file, line, key
and fix; visibility never leaks a private collection; settings are frozen.

Broken examples live in tests/configs/bad/, one file per case. To add a case, drop a file there:

    # as: guilds/333333333333333333.yaml      (optional; the default is bot.yaml)
    # expect: <text found in str(problem)> @ line <N, or - for a whole-file problem>
    # expect: ...                              (as many as needed)
    <the YAML>

Every expect line must match a problem and every problem must be matched by an expect line.

Line numbers count the header lines. A guild-file case is checked against
tests/configs/base.yaml; a bot.yaml case replaces it. The project root of every case holds the
folders seeds/ (with seeds/a.txt), ops/ and shared/, and has a sibling folder outside/.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import hypothesis
import pytest
import yaml
from hypothesis import strategies as st

from bot.config import (
    MAX_FILE_BYTES,
    CollectionSettings,
    Cooldown,
    Shards,
    check_config,
    load_settings,
)
from bot.core.model import RetrievalSettings
from bot.errors import ConfigError, ConfigProblem

REPO = Path(__file__).resolve().parents[1]
CONFIGS = Path(__file__).parent / "configs"
BAD = sorted((CONFIGS / "bad").glob("*.yaml"))
OWNER, FRIEND, STRANGER = 111111111111111111, 222222222222222222, 333333333333333333
PWNED = Path("/tmp/quotebot-pwned")  # what the !!python cases would create if ever run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for name in ("seeds", "ops", "shared"):
        (root / name).mkdir(parents=True)
    (root / "seeds" / "a.txt").write_text("A sentence to quote.\n", encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (root / "config" / "guilds").mkdir(parents=True)
    shutil.copy(CONFIGS / "base.yaml", root / "config" / "bot.yaml")
    return root


def write(root: Path, rel: str, text: str) -> None:
    (root / "config" / rel).write_text(text, encoding="utf-8")


def add_to_bot_yaml(root: Path, text: str) -> None:
    """Append to base.yaml, whose last section is `collections:`."""
    with (root / "config" / "bot.yaml").open("a", encoding="utf-8") as fh:
        fh.write(text)


def add_to_defaults(root: Path, text: str) -> None:
    path = root / "config" / "bot.yaml"
    before = path.read_text(encoding="utf-8")
    path.write_text(before.replace("defaults:\n", "defaults:\n" + text, 1), encoding="utf-8")


def load(root: Path):
    return load_settings(root / "config", root)


def problems_of(root: Path) -> list[str]:
    return [str(p) for p in check_config(root / "config", root)]


# --- the shipped config ---------------------------------------------------------------------


def test_shipped_config_is_valid() -> None:
    assert check_config(REPO / "config", REPO) == []
    settings = load_settings(REPO / "config")  # root defaults to the parent of config/
    assert settings.root == REPO
    assert settings.collections["seeds"].folders == (REPO / "seeds",)
    assert settings.collections["seeds"].visibility == "public"
    assert settings.retrieval == RetrievalSettings()  # the engine's tuned defaults
    assert settings.aliases["Kyiv"] == ("Kiev",)
    assert settings.index_dir == REPO / ".quotebot-cache"
    assert settings.for_guild(None).collections == {"seeds"}


def test_example_guild_file_is_valid(project: Path) -> None:
    sample = REPO / "config" / "guilds" / "example.yaml.sample"
    shutil.copy(sample, project / "config" / "guilds" / f"{OWNER}.yaml")
    guild = load(project).for_guild(OWNER)
    assert guild.prefix == "?"
    assert guild.cooldown == Cooldown(rate=5, per=60.0)
    assert guild.moderator_roles == {234567890123456789}
    assert guild.collections == {"seeds"}


# --- broken configs -------------------------------------------------------------------------


def _case(path: Path) -> tuple[str, list[tuple[str, int | None]]]:
    text = path.read_bytes().decode("utf-8", "replace")
    target = re.search(r"^# as: (\S+)$", text, re.M)
    expects = [
        (m["text"], None if m["line"] == "-" else int(m["line"]))
        for m in re.finditer(r"^# expect: (?P<text>.+) @ line (?P<line>\d+|-)$", text, re.M)
    ]
    return (target[1] if target else "bot.yaml"), expects


def test_there_are_enough_broken_examples() -> None:
    assert len(BAD) >= 30


@pytest.mark.parametrize("case", BAD, ids=lambda p: p.stem)
def test_broken_config_is_reported(case: Path, project: Path) -> None:
    target, expects = _case(case)
    assert expects, f"{case.name} needs a '# expect: <text> @ line N' line"
    shutil.copy(case, project / "config" / target)
    problems = check_config(project / "config", project)  # never raises for bad content
    shown = "\n".join(map(str, problems)) or "(no problems)"

    def matches(problem: ConfigProblem, text: str, line: int | None) -> bool:
        return problem.file == f"config/{target}" and problem.line == line and text in str(problem)

    for text, line in expects:
        assert any(matches(p, text, line) for p in problems), (
            f"expected a problem at line {line} containing {text!r}; got:\n{shown}"
        )
    unexpected = [p for p in problems if not any(matches(p, *e) for e in expects)]
    assert not unexpected, f"problems no expect line covers:\n{shown}"
    with pytest.raises(ConfigError) as raised:
        load(project)
    assert raised.value.problems == problems
    assert str(raised.value) == "\n".join(map(str, problems))


def test_python_tags_are_never_run(project: Path) -> None:
    PWNED.unlink(missing_ok=True)
    for name in ("python_object_apply", "python_object_new", "python_name"):
        shutil.copy(CONFIGS / "bad" / f"{name}.yaml", project / "config" / "bot.yaml")
        with pytest.raises(ConfigError, match="is not allowed"):
            load(project)
    assert not PWNED.exists()


def test_every_problem_in_every_file_is_reported(project: Path) -> None:
    add_to_defaults(project, "  top_k: 0\n  moderator_roles: [42]\n")
    write(project, f"guilds/{OWNER}.yaml", "cooldown: {rate: -1}\n")
    write(project, f"guilds/{FRIEND}.yaml", "top_k: 11\nchannels: [general]\n")
    problems = check_config(project / "config", project)
    assert [(p.file, p.line, p.key) for p in problems] == [
        ("config/bot.yaml", 4, "defaults.top_k"),
        ("config/bot.yaml", 5, "defaults.moderator_roles[0]"),
        (f"config/guilds/{OWNER}.yaml", 1, "cooldown.rate"),
        (f"config/guilds/{FRIEND}.yaml", 1, "top_k"),
        (f"config/guilds/{FRIEND}.yaml", 2, "channels[0]"),
    ]


def test_missing_bot_yaml_is_a_problem(project: Path) -> None:
    (project / "config" / "bot.yaml").unlink()
    assert problems_of(project) == [
        "config/bot.yaml: is missing: create it; the bot.yaml shipped with quotebot describes "
        "every key"
    ]


def test_missing_config_folder_is_a_problem(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [
        "config: the config folder does not exist: create it with a bot.yaml inside"
    ]


def test_missing_guilds_folder_is_fine(project: Path) -> None:
    shutil.rmtree(project / "config" / "guilds")
    assert problems_of(project) == []


def test_files_that_are_not_yaml_are_ignored(project: Path) -> None:
    write(project, "guilds/README.md", "# not a guild\n")
    write(project, "guilds/example.yaml.sample", "prefix: way too long\n")
    assert problems_of(project) == []


def test_file_over_the_size_limit_is_refused_unread(project: Path) -> None:
    add_to_bot_yaml(project, "# " + "x" * MAX_FILE_BYTES + "\n")
    assert problems_of(project) == [
        "config/bot.yaml: is larger than 1,048,576 bytes, the limit for a config file: a config "
        "this big is a mistake; keep long alias lists short"
    ]


def test_deep_nesting_is_refused(project: Path) -> None:
    add_to_bot_yaml(project, "aliases:\n  x: " + "[" * 30 + "]" * 30 + "\n")
    (problem,) = check_config(project / "config", project)
    assert (problem.line, problem.key) == (18, "aliases.x" + "[0]" * 19)
    assert "nested more than 20 levels deep" in problem.message


def test_nesting_deeper_than_the_parser_can_follow_is_refused(project: Path) -> None:
    add_to_bot_yaml(project, "aliases:\n  x: " + "[" * 5000 + "]" * 5000 + "\n")
    (problem,) = check_config(project / "config", project)
    assert problem.file == "config/bot.yaml" and problem.line == 18
    assert "nested far too deeply" in problem.message


def test_aliases_and_merge_keys_within_bounds_are_fine(project: Path) -> None:
    write(
        project,
        "bot.yaml",
        "collections:\n"
        "  ops: &private {folders: [ops], visibility: [111111111111111111]}\n"
        "  more-ops:\n"
        "    <<: *private\n"
        "    folders: [shared]\n"
        "defaults:\n"
        "  cooldown: &slow {rate: 2, per: 10}\n"
        "dms:\n"
        "  cooldown: *slow\n",
    )
    settings = load(project)
    assert settings.collections["more-ops"].visibility == {OWNER}
    assert settings.collections["more-ops"].folders == (project / "shared",)
    assert settings.dms_cooldown == Cooldown(rate=2, per=10.0)


# --- paths ----------------------------------------------------------------------------------


def test_symlink_out_of_the_root_is_refused(project: Path, tmp_path: Path) -> None:
    (project / "elsewhere").symlink_to(tmp_path / "outside", target_is_directory=True)
    add_to_bot_yaml(project, "  linked: {folders: [elsewhere], visibility: public}\n")
    (problem,) = check_config(project / "config", project)
    assert (problem.line, problem.key) == (17, "collections.linked.folders[0]")
    assert "a symbolic link on the way leads out of it" in problem.message


def test_paths_that_stay_inside_the_root_are_allowed(project: Path) -> None:
    add_to_bot_yaml(
        project,
        f"  absolute: {{folders: ['{project / 'seeds'}'], visibility: public}}\n"
        "  roundabout: {folders: [ops/../seeds], visibility: public}\n",
    )
    settings = load(project)
    assert settings.collections["absolute"].folders == (project / "seeds",)
    assert settings.collections["roundabout"].folders == (project / "seeds",)


def test_folders_are_absolute_and_resolved(project: Path) -> None:
    settings = load(project)
    assert settings.collections["shared"].folders == (project.resolve() / "shared",)
    assert settings.index_dir == project.resolve() / ".quotebot-cache"


# --- visibility -----------------------------------------------------------------------------


def test_private_collection_is_seen_only_by_its_guilds(project: Path) -> None:
    settings = load(project)
    assert settings.for_guild(OWNER).collections == {"seeds", "ops", "shared"}
    assert settings.for_guild(FRIEND).collections == {"seeds", "shared"}
    assert settings.for_guild(STRANGER).collections == {"seeds"}
    assert "ops" not in settings.for_guild(None).collections
    assert "ops" not in settings.defaults.collections


def test_dms_true_lets_dms_quote_a_private_collection(project: Path) -> None:
    settings = load(project)
    assert settings.collections["shared"].dms is True
    assert settings.collections["ops"].dms is False  # private: false unless written
    assert settings.for_guild(None).collections == {"seeds", "shared"}


def test_visible_in() -> None:
    public = CollectionSettings("a", (), "public", dms=False)
    private = CollectionSettings("b", (), frozenset({OWNER}), dms=False)
    assert public.visible_in(STRANGER) and not public.visible_in(None)
    assert private.visible_in(OWNER) and not private.visible_in(FRIEND)
    assert not private.visible_in(None)
    assert dataclasses.replace(private, dms=True).visible_in(None)


def test_defaults_may_select_private_collections_without_leaking(project: Path) -> None:
    add_to_defaults(project, "  collections: [seeds, ops]\n")
    settings = load(project)
    assert settings.default_collections == {"seeds", "ops"}
    assert settings.for_guild(OWNER).collections == {"seeds", "ops"}
    assert settings.for_guild(STRANGER).collections == {"seeds"}
    assert settings.for_guild(None).collections == {"seeds"}


def test_dms_disabled_quote_nothing(project: Path) -> None:
    add_to_bot_yaml(project, "dms:\n  enabled: false\n")
    settings = load(project)
    assert settings.dms_enabled is False
    assert settings.for_guild(None).collections == frozenset()


def test_owner_may_list_its_private_collection(project: Path) -> None:
    write(project, f"guilds/{OWNER}.yaml", "collections: [ops]\n")
    write(project, f"guilds/{FRIEND}.yaml", "collections: [shared]\n")
    settings = load(project)
    assert settings.for_guild(OWNER).collections == {"ops"}
    assert settings.for_guild(FRIEND).collections == {"shared"}


# --- merging and the settings objects -------------------------------------------------------


def test_guild_file_overrides_defaults_key_by_key(project: Path) -> None:
    write(
        project,
        f"guilds/{OWNER}.yaml",
        "prefix: '?'\ncooldown: {rate: 5}\nchannels: [444444444444444444]\n"
        "moderator_roles: ['555555555555555555']\n",
    )
    settings = load(project)
    guild = settings.for_guild(OWNER)
    assert guild.guild_id == OWNER
    assert guild.prefix == "?"
    assert guild.cooldown == Cooldown(rate=5, per=30.0)  # per from defaults
    assert guild.top_k == 3
    assert guild.moderator_roles == {555555555555555555}  # ids may be quoted
    assert guild.answers_in(444444444444444444) and not guild.answers_in(666666666666666666)
    assert settings.for_guild(FRIEND).prefix == "!"
    assert settings.for_guild(FRIEND).answers_in(666666666666666666)
    assert set(settings.guilds) == {OWNER}


def test_empty_guild_file_means_defaults(project: Path) -> None:
    write(project, f"guilds/{STRANGER}.yaml", "# nothing to override\n")
    settings = load(project)
    unknown = settings.for_guild(444444444444444444)  # a guild with no file
    assert settings.guilds[STRANGER] == dataclasses.replace(unknown, guild_id=STRANGER)


def test_dm_settings(project: Path) -> None:
    add_to_bot_yaml(project, "dms:\n  cooldown: {rate: 1, per: 60}\n")
    dm = load(project).for_guild(None)
    assert dm.guild_id is None and dm.channels is None
    assert dm.cooldown == Cooldown(rate=1, per=60.0)
    assert dm.prefix == "!"


def test_shards_default_to_every_id_of_the_count(project: Path) -> None:
    assert load(project).shards is None  # not set: Discord's recommended count at connect
    add_to_bot_yaml(project, "shards: {count: 3}\n")
    assert load(project).shards == Shards(3, (0, 1, 2))
    text = (project / "config" / "bot.yaml").read_text(encoding="utf-8")
    write(project, "bot.yaml", text.replace("{count: 3}", "{count: 4, ids: [3, 1]}"))
    assert load(project).shards == Shards(4, (3, 1))


def test_settings_are_frozen(project: Path) -> None:
    write(project, f"guilds/{OWNER}.yaml", "top_k: 5\n")
    settings = load(project)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.root = Path("/")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.defaults.prefix = "?"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.collections["ops"].visibility = "public"  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.collections["more"] = settings.collections["ops"]  # type: ignore[index]
    with pytest.raises(TypeError):
        settings.guilds[FRIEND] = settings.guilds[OWNER]  # type: ignore[index]
    with pytest.raises(TypeError):
        settings.aliases["Kyiv"] = ("Kiev",)  # type: ignore[index]
    assert isinstance(settings.for_guild(OWNER).collections, frozenset)


# --- retrieval: the keys are RetrievalSettings' fields ----------------------------------------


def test_every_retrieval_field_can_be_set_to_its_default(project: Path) -> None:
    fields = dataclasses.fields(RetrievalSettings)
    lines = [f"  {f.name}: {json.dumps(f.default)}\n" for f in fields]
    add_to_bot_yaml(project, "retrieval:\n" + "".join(lines))
    assert load(project).retrieval == RetrievalSettings()


def test_retrieval_values_are_typed_by_the_field_defaults(project: Path) -> None:
    add_to_bot_yaml(project, "retrieval:\n  k1: 2\n  b: 0.5\n")
    retrieval = load(project).retrieval
    assert retrieval == RetrievalSettings(k1=2.0, b=0.5)
    assert isinstance(retrieval.k1, float)


def test_retrieval_defaults_when_the_section_is_absent(project: Path) -> None:
    assert load(project).retrieval == RetrievalSettings()


# --- redacted summaries ---------------------------------------------------------------------


def test_redacted_is_json_without_environment_or_absolute_paths(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "secret-token-value")
    write(project, f"guilds/{OWNER}.yaml", "prefix: '?'\n")
    text = json.dumps(load(project).redacted())
    assert "secret-token-value" not in text
    assert str(project) not in text
    data = json.loads(text)
    assert data["collections"]["ops"] == {
        "folders": ["ops"], "visibility": [str(OWNER)], "dms": False,
    }
    assert data["guilds"][str(OWNER)]["prefix"] == "?"
    assert data["defaults"]["collections"] == "all"


def test_redacted_for_a_guild_shows_nothing_of_other_guilds(project: Path) -> None:
    write(project, f"guilds/{OWNER}.yaml", "prefix: '?'\n")
    settings = load(project)
    stranger = json.dumps(settings.redacted_for(STRANGER))
    assert "ops" not in stranger and "shared" not in stranger
    assert str(OWNER) not in stranger
    friend = settings.redacted_for(FRIEND)
    assert friend["collections"]["shared"]["visibility"] == "private"
    assert friend["guild"]["guild_id"] == str(FRIEND)


# --- fuzzing: check_config never raises ------------------------------------------------------

_KEYS = st.sampled_from(
    "collections documents retrieval aliases defaults dms index_dir seeds ops folders "
    "visibility max_bytes k1 top_k prefix channels moderator_roles cooldown rate per enabled "
    "<<".split()
) | st.text(max_size=6)
_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats()
    | st.sampled_from(["all", "public", "seeds", "ops", "../outside", "/etc", "!", ""])
    | st.text(max_size=8)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=25,
)
# Few examples, to keep the suite quick; the shapes still reach every validator.
_FUZZ = hypothesis.settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)


@_FUZZ
@hypothesis.given(bot=st.dictionaries(_KEYS, _VALUES, max_size=7), guild=_VALUES)
def test_check_config_never_raises_on_wrong_shapes(project: Path, bot: dict, guild: dict) -> None:
    write(project, "bot.yaml", yaml.safe_dump(bot))
    write(project, f"guilds/{OWNER}.yaml", yaml.safe_dump(guild))
    for problem in check_config(project / "config", project):
        assert problem.file.startswith("config/") and problem.message


@_FUZZ
@hypothesis.given(text=st.text(max_size=200))
def test_check_config_never_raises_on_any_text(project: Path, text: str) -> None:
    write(project, f"guilds/{OWNER}.yaml", text)
    for problem in check_config(project / "config", project):
        assert problem.file == f"config/guilds/{OWNER}.yaml" and problem.message


# --- uploads, gaps, state_dir ------------------------------------------------------------------


def test_uploads_gaps_and_state_dir_are_read(project: Path) -> None:
    add_to_bot_yaml(project, "uploads: {max_bytes: 2048, per_hour: 5, collection: docs}\n"
                             "gaps: {enabled: false, keep_days: 7}\nstate_dir: var/state\n")
    settings = load(project)
    uploads, gaps = settings.for_guild(OWNER).uploads, settings.for_guild(None).gaps
    assert (uploads.max_bytes, uploads.per_hour) == (2048, 5)
    assert uploads.enabled and uploads.private_collection(OWNER) == f"docs-{OWNER}"
    assert (gaps.enabled, gaps.keep_days) == (False, 7)
    write(project, f"guilds/{FRIEND}.yaml", "uploads: {enabled: false}\ngaps: {keep_days: 3}\n")
    settings = load(project)
    friend = settings.for_guild(FRIEND)
    assert not friend.uploads.enabled and friend.uploads.max_bytes == 2048  # key by key
    assert (friend.gaps.enabled, friend.gaps.keep_days) == (False, 3)
    assert settings.for_guild(OWNER).uploads.enabled
    assert settings.state_dir == project / "var" / "state"
    assert load(project).redacted()["state_dir"] == "var/state"
    assert (settings.uploads_dir, settings.uploads_poll_seconds) == (None, 30)  # defaults


def test_uploads_dir_and_poll_seconds_are_read(project: Path, tmp_path: Path) -> None:
    shared = tmp_path / "mnt" / "shared"
    add_to_bot_yaml(project, f"uploads_dir: {shared}\nuploads_poll_seconds: 0\n")
    settings = load(project)
    assert (settings.uploads_dir, settings.uploads_poll_seconds) == (shared, 0)
    assert settings.redacted()["uploads_dir"] == str(shared)


def test_a_guilds_upload_folders_are_collections_only_it_may_quote(project: Path) -> None:
    add_to_bot_yaml(project, "state_dir: state\n")
    uploads = project / "state" / "uploads"
    for gid, name in [(OWNER, f"uploads-{OWNER}"), (OWNER, "ops"), (FRIEND, "ops"),
                      (FRIEND, "shared"), (FRIEND, f"uploads-{OWNER}")]:
        (uploads / str(gid) / name).mkdir(parents=True)
        (uploads / str(gid) / name / "n.txt").write_text("A note.\n", encoding="utf-8")
    settings = load(project)
    mine = settings.collections[f"uploads-{OWNER}"]
    assert mine.visibility == {OWNER} and not mine.dms
    assert mine.folders == (uploads / str(OWNER) / f"uploads-{OWNER}",)
    # ops is private to OWNER: its upload is added there; FRIEND's uploads into ops, into
    # shared (seen by two guilds and DMs) or into OWNER's collection are never loaded.
    assert settings.collections["ops"].folders[1:] == (uploads / str(OWNER) / "ops",)
    assert settings.collections["shared"].folders == (project / "shared",)
    assert settings.for_guild(OWNER).collections == {"seeds", "ops", "shared", f"uploads-{OWNER}"}
    assert settings.for_guild(FRIEND).collections == {"seeds", "shared"}
    assert f"uploads-{OWNER}" not in settings.for_guild(None).collections
    assert f"uploads-{OWNER}" not in settings.for_guild(STRANGER).collections
