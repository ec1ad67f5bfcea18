"""Ansible Vault encryption for the secrets a rendered project needs (ansible-core's own
implementation, so ``ansible-playbook --vault-password-file`` reads it)."""

from __future__ import annotations

import secrets
from pathlib import Path

from evacuate.state import write_private


def ensure_vault_password(path: Path) -> bytes:
    """Return the vault password stored at ``path``, creating a random one (0600) first."""
    if not path.exists():
        write_private(path, secrets.token_urlsafe(32) + "\n")
    return path.read_bytes().strip()


def encrypt(plaintext: str, password: bytes) -> str:
    """Return ``plaintext`` as an ``$ANSIBLE_VAULT;1.1;AES256`` document."""
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(password))])
    return vault.encrypt(plaintext.encode()).decode()

