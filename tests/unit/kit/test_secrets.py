"""Secret references: read only inside the operator's secrets space, and never shown."""

from __future__ import annotations

import os

import pytest

from services.kit.secrets import SecretError, check_reference, read_secret

pytestmark = pytest.mark.unit


@pytest.fixture
def space(tmp_path):
    """A secrets directory as Docker mounts it, with a file outside it that must stay out of reach."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "jira_api_token").write_text("from-a-file\n")
    (tmp_path / "jwt-signing-key").write_text("the-whole-systems-key")
    return secrets


def test_an_environment_reference_reads_a_roadmap_secret_variable():
    assert read_secret("env:ROADMAP_SECRET_JIRA_TOKEN", environ={"ROADMAP_SECRET_JIRA_TOKEN": "s3cr3t"}) == "s3cr3t"


def test_a_file_reference_reads_a_file_directly_inside_the_directory_without_its_newline(space):
    assert read_secret(f"file:{space}/jira_api_token", secrets_dir=space) == "from-a-file"


def test_kubernetes_links_that_stay_inside_the_directory_are_followed(space):
    # A mounted Secret: name -> ..data/name -> ..2026_03_02/name, all inside the mount.
    version = space / "..2026_03_02"
    version.mkdir()
    (version / "api-token").write_text("k8s-token")
    (space / "..data").symlink_to(version.name)
    (space / "api-token").symlink_to("..data/api-token")
    assert read_secret(f"file:{space}/api-token", secrets_dir=space) == "k8s-token"


@pytest.mark.parametrize(
    "reference",
    [
        "env:ROADMAP_DATABASE_URL", "env:ROADMAP_JWT_SECRET", "env:HOME", "env:ROADMAP_SECRET_", "env:roadmap_secret_x",
        "env:ROADMAP_SECRET_X\n", "ROADMAP_SECRET_X", "env:", "file:relative/path", "file:/proc/self/environ",
        "file:{dir}/../jwt-signing-key", "file:{dir}/./jira_api_token", "file:{dir}//jira_api_token",
        "file:{dir}/sub/token", "file:{dir}/.hidden", "file:{dir}/..data", "file:{dir}", "file:{dir}/",
        "file:{dir}/x\x00y", "vault:x", "s3cr3t",
    ],
)  # fmt: skip
def test_references_outside_the_space_are_refused_before_anything_is_read(space, reference):
    reference = reference.replace("{dir}", str(space))
    with pytest.raises(SecretError) as refused:
        check_reference(reference, secrets_dir=space)
    with pytest.raises(SecretError):
        read_secret(reference, secrets_dir=space, environ={"ROADMAP_DATABASE_URL": "postgres://x", "HOME": "/root"})
    assert "the-whole-systems-key" not in str(refused.value)


def test_a_link_leading_out_of_the_directory_is_refused_when_read(space):
    (space / "looks_inside").symlink_to(space.parent / "jwt-signing-key")
    reference = f"file:{space}/looks_inside"
    check_reference(reference, secrets_dir=space)  # as written it is a file of the directory...
    with pytest.raises(SecretError, match="leads out"):  # ...but what it leads to is not
        read_secret(reference, secrets_dir=space)


def test_what_is_not_a_regular_small_text_file_is_refused(space):
    os.mkfifo(space / "fifo")  # must not block the reader
    (space / "big").write_bytes(b"x" * (64 * 1024 + 1))
    (space / "binary").write_bytes(b"\xff\xfe\x00")
    (space / "folder").mkdir()
    for name in ("fifo", "big", "binary", "folder"):
        with pytest.raises(SecretError):
            read_secret(f"file:{space}/{name}", secrets_dir=space)


def test_a_missing_secret_names_the_reference_not_a_value(space):
    with pytest.raises(SecretError, match="env:ROADMAP_SECRET_NOT_SET"):
        read_secret("env:ROADMAP_SECRET_NOT_SET", environ={})
    with pytest.raises(SecretError) as raised:
        read_secret("env:ROADMAP_SECRET_EMPTY", environ={"ROADMAP_SECRET_EMPTY": "  "})
    assert "ROADMAP_SECRET_EMPTY" in str(raised.value)
    with pytest.raises(SecretError):
        read_secret(f"file:{space}/absent", secrets_dir=space)
