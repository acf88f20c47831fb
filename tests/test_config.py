"""Settings: precedence, validation naming key and file, masking."""

import re
import subprocess
from pathlib import Path

import pytest

from pgparity import config
from pgparity.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text, encoding="utf-8")


def test_defaults_and_derived_names(tmp_path):
    settings = config.load(tmp_path, environ={})
    assert settings.port == config.default_port(settings.project)
    assert 25432 <= settings.port < 26432
    assert (settings.image, settings.image_repository) == (None, "postgres")
    assert settings.dev_image(None) == "postgres:15" and settings.dev_image(17) == "postgres:17"


def test_a_pinned_image_wins_and_the_repository_gives_each_major(tmp_path):
    settings = config.load(tmp_path, environ={"PGPARITY_IMAGE_REPOSITORY": "registry.example:5000/pg"})
    assert (settings.dev_image(13), settings.image_of(18)) == ("registry.example:5000/pg:13", "registry.example:5000/pg:18")
    pinned = config.load(tmp_path, environ={"PGPARITY_IMAGE": "postgres:15.8"})
    assert (pinned.dev_image(17), pinned.image_of(17)) == ("postgres:15.8", "postgres:17")
    assert settings.project == config.default_project(tmp_path)
    assert settings.container_name == f"{settings.project}-db-1"
    assert settings.volume_name == f"{settings.project}_data"
    assert settings.migrations == tmp_path.resolve() / "migrations"


def test_env_local_overrides_env_and_process_environment_wins(tmp_path):
    write(tmp_path, ".env", "PGPARITY_PORT=6000\nPGPARITY_DATABASE=one\nPGPARITY_USER=alice\n")
    write(tmp_path, ".env.local", "PGPARITY_PORT=6001\nPGPARITY_DATABASE=two\n")
    settings = config.load(tmp_path, environ={"PGPARITY_PORT": "6002"})
    assert (settings.port, settings.database, settings.user) == (6002, "two", "alice")


@pytest.mark.parametrize(
    "file, text, expected",
    [
        (".env", "PGPARITY_PORT=abc\n", ".env: PGPARITY_PORT must be a port number"),
        (".env.local", "PGPARITY_PORT=70000\n", ".env.local: PGPARITY_PORT must be a port number"),
        (".env", "PGPARITY_PASWORD=x\n", ".env: unknown setting PGPARITY_PASWORD"),
        (".env.local", "PGPARITY_PASSWORD=\n", ".env.local: PGPARITY_PASSWORD must not be empty"),
        (".env", "PGPARITY_PROJECT=My App\n", ".env: PGPARITY_PROJECT must be lowercase"),
        (".env", "PGPARITY_TIMEOUT=-1\n", ".env: PGPARITY_TIMEOUT must be positive"),
        (".env", "PGPARITY_DATABASE=" + "d" * 31 + "\n", ".env: PGPARITY_DATABASE must be at most 30 characters"),
        (".env.local", "PGPARITY_DURABLE=maybe\n", ".env.local: PGPARITY_DURABLE must be true or false"),
        (".env", "PGPARITY_PROD_URL=mysql://x\n", ".env: PGPARITY_PROD_URL must be a postgresql:// URL"),
        (".env", "PGPARITY_ALLOW_PUBLIC_PORT=sure\n", ".env: PGPARITY_ALLOW_PUBLIC_PORT must be true or false"),
        (".env", "PGPARITY_IMAGE_REPOSITORY=postgres:15\n",
         ".env: PGPARITY_IMAGE_REPOSITORY must be an image repository without a tag"),
        (".env.local", "PGPARITY_IMAGE_REPOSITORY=pg@sha256:ab\n",
         ".env.local: PGPARITY_IMAGE_REPOSITORY must be an image repository without a tag"),
        (".env", "PGPARITY_USER=Bad User\n", ".env: PGPARITY_USER must be letters, digits"),  # B17
        (".env", "PGPARITY_USER=" + "u" * 64 + "\n", ".env: PGPARITY_USER must be letters, digits"),
        (".env", 'PGPARITY_PORT=6000\nPGPARITY_PROJECT="nc-bad\n', ".env:2: not a KEY=value line"),  # B07
        (".env.local", "# ok\nPGPARITY_PORT=6000\ngarbage here\n", ".env.local:3: not a KEY=value line"),  # B11
        (".env", "PGPARITY_CONFIG=ci.toml\n", ".env: PGPARITY_CONFIG names ci.toml, which is not a file"),
    ],
)
def test_bad_values_name_key_and_file(tmp_path, file, text, expected):
    write(tmp_path, file, text)
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, environ={})
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_a_production_url_libpq_cannot_read_is_named_when_read(tmp_path):  # B97
    write(tmp_path, ".env.local", "PGPARITY_PROD_URL=postgresql://ro:pw@db/50%off\n")
    settings = config.load(tmp_path, environ={})  # what reaches no production loads no libpq
    with pytest.raises(ConfigError) as caught:
        settings.prod_url
    assert str(caught.value) == ('.env.local: PGPARITY_PROD_URL is not a URL libpq can read (invalid percent-encoded '
                                 'token: "50%off"); percent-encode reserved characters in the user, password and '
                                 'database name (`%` as %25, a space as %20, `/` as %2F)')


def test_a_production_url_libpq_cannot_read_never_shows_its_password(tmp_path):  # B97
    write(tmp_path, ".env.local", "PGPARITY_PROD_URL=postgresql://ro:se%cret@db/my%db\n")
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, environ={}).prod_url
    said = str(caught.value)
    assert said.startswith(".env.local: PGPARITY_PROD_URL is not a URL libpq can read") and "%25" in said
    assert "se%cret" not in said and "****" in said
    assert config.load(tmp_path, environ={"PGPARITY_PROD_URL": "postgresql://ro:se%25cret@db/my%25db"}).prod_url


def test_bad_process_environment_value_names_environment(tmp_path):
    with pytest.raises(ConfigError, match=r"^environment: PGPARITY_PORT"):
        config.load(tmp_path, environ={"PGPARITY_PORT": "5432x"})


def test_other_variables_are_ignored(tmp_path):
    assert config.load(tmp_path, environ={"PATH": "/bin", "PGPASSWORD": "x"}).user == "postgres"


def git(*args: str) -> None:
    subprocess.run(["git", "-c", "user.email=a@b", "-c", "user.name=a", *args], check=True, capture_output=True)


def test_one_environment_per_folder_whatever_branch_is_checked_out(tmp_path):
    repo = tmp_path / "My App"
    repo.mkdir()
    git("init", "-q", "-b", "main", str(repo))
    git("-C", str(repo), "commit", "-q", "--allow-empty", "-m", "x")
    on_main = config.load(repo, environ={})
    assert on_main.project == f"my-app-{config.path_hash(repo)}" and len(config.path_hash(repo)) == 8
    git("-C", str(repo), "checkout", "-q", "-b", "feature/login")
    git("-C", str(repo), "checkout", "-q", "--detach")
    assert config.load(repo, environ={}) == on_main  # same container, volume and port on any branch

    worktree = tmp_path / "other"
    git("-C", str(repo), "worktree", "add", "-q", "-b", "feature/signup", str(worktree))
    other = config.load(worktree, environ={})
    assert other.project == f"other-{config.path_hash(worktree)}"
    assert (on_main.container_name, on_main.volume_name) != (other.container_name, other.volume_name)
    assert on_main.port != other.port


def test_two_clones_of_the_same_name_keep_apart(tmp_path):
    first, second = tmp_path / "a" / "app", tmp_path / "b" / "app"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    names = {config.load(folder, environ={}).project for folder in (first, second)}
    assert len(names) == 2 and all(name.startswith("app-") for name in names)
    assert config.path_hash(first) == config.path_hash(tmp_path / "a" / ".." / "a" / "app")  # the resolved path


def test_a_template_asks_for_an_environment_per_branch(tmp_path):
    repo = tmp_path / "shop"
    repo.mkdir()
    git("init", "-q", "-b", "main", str(repo))
    git("-C", str(repo), "commit", "-q", "--allow-empty", "-m", "x")
    per_branch = {"PGPARITY_PROJECT": "{folder}-{branch}"}
    assert config.load(repo, environ=per_branch).project == "shop-main"
    git("-C", str(repo), "checkout", "-q", "-b", "Feature/Login")
    assert config.load(repo, environ=per_branch).project == "shop-feature-login"
    assert config.load(repo, environ={"PGPARITY_PROJECT": "pgp-{hash}"}).project == f"pgp-{config.path_hash(repo)}"
    assert config.load(repo, environ={"PGPARITY_PROJECT": "fixed"}).project == "fixed"


def test_a_rebase_keeps_the_branch_it_started_from(tmp_path):
    repo = tmp_path / "shop"
    repo.mkdir()
    git("init", "-q", "-b", "main", str(repo))
    git("-C", str(repo), "commit", "-q", "--allow-empty", "-m", "x")
    git("-C", str(repo), "checkout", "-q", "-b", "topic")
    git("-C", str(repo), "checkout", "-q", "--detach")
    (repo / ".git" / "rebase-merge").mkdir()
    (repo / ".git" / "rebase-merge" / "head-name").write_text("refs/heads/topic\n")
    assert config.git_branch(repo) == "topic"


def test_names_stay_within_the_limit_and_keep_their_hash(tmp_path):
    long = tmp_path / ("x" * 80)
    long.mkdir()
    for template in ("{folder}-{hash}", "{folder}-{branch}-{hash}", "{folder}"):
        name = config.project_name(template, long)
        assert len(name) <= config.MAX_PROJECT and config.NAME_PATTERN.match(name), (template, name)
    assert config.project_name("{folder}-{hash}", long).endswith("-" + config.path_hash(long))
    outside_git = config.project_name("{folder}-{branch}-{hash}", long)
    assert outside_git == f"{'x' * 38}-{config.path_hash(long)}"  # no branch: no empty part either


@pytest.mark.parametrize(
    "value, expected",
    [
        ("{folder}-{user}", "PGPARITY_PROJECT has an unknown placeholder {user} (known: {folder}, {branch}, {hash})"),
        ("{folder", "PGPARITY_PROJECT has an unmatched brace"),
        ("-{folder}", "PGPARITY_PROJECT must be lowercase letters, digits, '-' or '_' and start with a letter or "
                      "digit, got '-{folder}'"),
        ("Shop-{branch}", "PGPARITY_PROJECT must be lowercase letters"),
        ("p" * 49, "PGPARITY_PROJECT must be at most 48 characters once filled in"),
        ("p" * 40 + "-{hash}", "PGPARITY_PROJECT must be at most 48 characters once filled in"),
    ],
)
def test_a_bad_template_names_the_key_and_its_file(tmp_path, value, expected):
    write(tmp_path, ".env.local", f"PGPARITY_PROJECT={value}\n")
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, environ={})
    assert str(caught.value).startswith(f".env.local: {expected}"), str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "url, masked",
    [
        ("postgresql://app:hunter2@db:5432/prod", "postgresql://app:****@db:5432/prod"),
        ("postgresql://app@db/prod", "postgresql://app@db/prod"),
        ("host=db password=hunter2 user=app", "host=db password=**** user=app"),
        ("postgresql://app:p%40ss@db/prod", "postgresql://app:****@db/prod"),
    ],
)
def test_mask_url(url, masked):
    assert config.mask_url(url) == masked


def test_env_example_documents_every_key():
    text = (ROOT / ".env.example").read_text()
    for name, key in config.KEYS.items():
        assert f"PGPARITY_{name}=" in text, name
        if key.default is not None:
            assert f"PGPARITY_{name}={key.default}\n" in text, name


def test_compose_file_falls_back_to_the_packaged_one(tmp_path):
    assert config.load(tmp_path, environ={}).compose_file.name == "compose.yaml"
    assert config.load(tmp_path, environ={}).compose_file.is_file()
    (tmp_path / "compose").mkdir()
    write(tmp_path / "compose", "compose.yaml", "services: {}\n")
    assert config.load(tmp_path, environ={}).compose_file == tmp_path.resolve() / "compose" / "compose.yaml"


def test_env_file_that_is_a_directory_is_an_error(tmp_path):  # B102
    (tmp_path / ".env").mkdir()
    with pytest.raises(ConfigError, match=r"^\.env: is a directory"):
        config.load(tmp_path, environ={})


def test_the_default_project_file_may_be_absent_even_when_named(tmp_path):
    assert config.load(tmp_path, environ={"PGPARITY_CONFIG": "pgparity.toml"}).config_file.name == "pgparity.toml"
    write(tmp_path, "ci.toml", "")
    assert config.load(tmp_path, environ={"PGPARITY_CONFIG": "ci.toml"}).config_file.name == "ci.toml"


def test_a_password_of_any_characters_reaches_the_server_as_written(tmp_path):  # B12
    from psycopg.conninfo import conninfo_to_dict

    password = "it's a \"pw\" $HOME @:/%"
    url = config.load(tmp_path, environ={"PGPARITY_PASSWORD": password}).url()
    assert conninfo_to_dict(url)["password"] == password
    assert password not in config.mask_url(url) and ":****@127.0.0.1" in config.mask_url(url)


def test_mask_hides_secrets_and_url_passwords_in_any_text():
    text = 'failed: "it\'s a pw" at postgresql://ro:hunter2@db/app (password=hunter3 host=x)'
    masked = config.mask(text, ["it's a pw"])
    assert masked == 'failed: "****" at postgresql://ro:****@db/app (password=**** host=x)'


def test_secrets_are_read_from_every_source_without_validation(tmp_path):
    write(tmp_path, ".env", "PGPARITY_PASSWORD=a b\nPGPARITY_PORT=not-a-port\n")
    found = config.secrets(tmp_path, {"PGPARITY_PROD_URL": "postgresql://ro:p%40ss@db/app"})
    assert {"a b", "a%20b", "p%40ss", "p@ss"} <= set(found)
    assert "pgparity" not in config.secrets(tmp_path / "nowhere", {})  # the documented default is no secret
    (tmp_path / ".env").unlink()
    (tmp_path / ".env").mkdir()
    assert "env-pw" in config.secrets(tmp_path, {"PGPARITY_PASSWORD": "env-pw"})


def test_the_seed_path_is_read_from_its_section(tmp_path):
    path = tmp_path / "pgparity.toml"
    path.write_text('[seed]\npath = "seeds"\n')
    assert config.load_project_file(path).seed == "seeds"
    assert config.load_project_file(tmp_path / "absent.toml").seed is None
    for text, culprit in (('[seed]\npath = ""\n', "seed.path must name a .sql file or a folder of them, not ''"),
                          ('[seed]\nfile = "x"\n', "unknown key seed.file; known: path")):
        path.write_text(text)
        with pytest.raises(ConfigError, match=re.escape(culprit)):
            config.load_project_file(path)


def test_owners_are_compared_only_when_the_verify_section_says_true(tmp_path):
    path = tmp_path / "pgparity.toml"
    assert config.load_project_file(path).owners is False
    path.write_text("[verify]\nowners = true\n")
    assert config.load_project_file(path).owners is True
    path.write_text('[verify]\nowners = "yes"\n')
    with pytest.raises(ConfigError, match=re.escape("pgparity.toml: verify.owners must be true or false, not 'yes'")):
        config.load_project_file(path)
