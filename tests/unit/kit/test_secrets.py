"""Secret references: read when needed, never shown."""

from __future__ import annotations

import pytest

from services.kit.secrets import SecretError, check_reference, read_secret

pytestmark = pytest.mark.unit


def test_an_environment_reference_reads_the_variable():
    assert read_secret("env:JIRA_TOKEN", {"JIRA_TOKEN": "s3cr3t"}) == "s3cr3t"


def test_a_file_reference_reads_the_file_without_its_newline(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("from-a-file\n")
    assert read_secret(f"file:{secret}") == "from-a-file"


@pytest.mark.parametrize(
    "reference", ["JIRA_TOKEN", "env:", "env:1BAD", "env:JIRA_TOKEN\n", "file:relative/path", "vault:x", "s3cr3t"]
)
def test_malformed_references_are_refused(reference):
    with pytest.raises(SecretError):
        check_reference(reference)


def test_a_missing_secret_names_the_reference_not_a_value(tmp_path):
    with pytest.raises(SecretError, match="env:NOT_SET"):
        read_secret("env:NOT_SET", {})
    with pytest.raises(SecretError) as raised:
        read_secret("env:EMPTY", {"EMPTY": ""})
    assert "EMPTY" in str(raised.value)
    with pytest.raises(SecretError):
        read_secret(f"file:{tmp_path / 'absent'}")
