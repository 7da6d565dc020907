"""HTTPS for the emulator: a throw-away certificate authority and a server certificate for the
loopback names, made at start with ``trustme`` and written to a private directory.

Dataverse only serves HTTPS, and some clients (Microsoft's Python SDK, MSAL) refuse anything else,
so the emulator can serve TLS too. Clients trust it through the CA file:
``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE`` or httpx ``verify=ssl.create_default_context(cafile=…)``.
The key never leaves the directory, which only its owner can read (0700, files 0600).
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme

# The names a local client uses to reach the emulator; the certificate covers all of them.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class TlsFiles:
    """Where the CA certificate (to trust), the server chain and its private key were written."""

    directory: Path
    ca_file: Path
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this emulator (for httpx ``verify=``)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def make_tls_files(prefix: str = "callnotes-emulator-tls-") -> TlsFiles:
    """A new CA and a server certificate for :data:`LOOPBACK_NAMES`, in a new private directory."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))  # mkdtemp creates it 0700
    authority = trustme.CA(organization_name="callnotes Dataverse emulator")
    server = authority.issue_cert(*LOOPBACK_NAMES)
    files = TlsFiles(directory, directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    authority.cert_pem.write_to_path(str(files.ca_file))
    with files.cert_file.open("wb") as chain:
        for pem in server.cert_chain_pems:
            chain.write(pem.bytes())
    descriptor = os.open(files.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as key:
        key.write(server.private_key_pem.bytes())
    return files
