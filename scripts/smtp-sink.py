"""smtp-sink: a real SMTP server for tests that stores every message it accepts in a folder.

Usage:
    smtp-sink --dir DIR [--host 127.0.0.1] [--port 0] [--auth USER:PASSWORD]
              [--tls-cert PEM --tls-key PEM [--implicit-tls]]

On start it prints one line to stdout, `listening 127.0.0.1:<port>`, and flushes it (with `--port 0`,
the default, the kernel picks a free port: read it from that line). For each accepted message it
writes, atomically (temporary name, then rename):
    DIR/<n>.eml   the message exactly as received (DATA content)
    DIR/<n>.json  {"mail_from": ..., "rcpt_tos": [...], "auth_user": ... or null, "peer": "..."}
with n = 1, 2, 3, ... zero-padded to 6 digits, so a sorted listing is arrival order. The .json file is
renamed into place last: when it exists, the .eml is complete.

`--auth USER:PASSWORD` advertises AUTH PLAIN/LOGIN (also without TLS) and rejects other credentials;
without it, AUTH is not offered. `--tls-cert/--tls-key` enable STARTTLS, or TLS from the first byte
with `--implicit-tls` (smtps). It stops on SIGTERM or SIGINT. `scripts/setup-tools.sh` installs it as
`.tools/bin/smtp-sink` running under the tools venv (package aiosmtpd).
"""

import argparse
import asyncio
import itertools
import json
import logging
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class FolderHandler:
    """aiosmtpd handler that writes each message into a folder."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        n = next(self.counter)
        base = os.path.join(self.folder, f"{n:06d}")
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8")
        auth_user = None
        if session.auth_data is not None and isinstance(session.auth_data, LoginPassword):
            auth_user = session.auth_data.login.decode("utf-8", "replace")
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "auth_user": auth_user,
            "peer": str(session.peer),
        }
        _write_atomically(base + ".eml", content)
        _write_atomically(base + ".json", json.dumps(meta, indent=2).encode("utf-8"))
        return "250 Message accepted for delivery"


def _write_atomically(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _authenticator(expected_user: str, expected_password: str):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode("utf-8", "replace") == expected_user
            and auth_data.password.decode("utf-8", "replace") == expected_password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return check


async def serve(args: argparse.Namespace) -> None:
    os.makedirs(args.dir, exist_ok=True)
    handler = FolderHandler(args.dir)

    tls_context = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            sys.exit("smtp-sink: --tls-cert and --tls-key go together")
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    elif args.implicit_tls:
        sys.exit("smtp-sink: --implicit-tls needs --tls-cert and --tls-key")

    smtp_options = {"enable_SMTPUTF8": True}
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep:
            sys.exit("smtp-sink: --auth wants USER:PASSWORD")
        smtp_options.update(
            authenticator=_authenticator(user, password),
            auth_require_tls=False,
            auth_exclude_mechanism=["CRAM-MD5"],
        )
    if tls_context is not None and not args.implicit_tls:
        smtp_options["tls_context"] = tls_context

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp-sink.localhost", **smtp_options),
        host=args.host,
        port=args.port,
        ssl=tls_context if args.implicit_tls else None,
    )
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening {host}:{port}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main() -> None:
    # aiosmtpd logs a deprecation warning about its own session attribute on every AUTH; not ours.
    logging.basicConfig(level=logging.WARNING, format="smtp-sink: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description="SMTP server that stores each message in a folder")
    parser.add_argument("--dir", required=True, help="folder for received messages")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 (default) picks a free port")
    parser.add_argument("--auth", help="USER:PASSWORD required for AUTH PLAIN/LOGIN")
    parser.add_argument("--tls-cert", help="PEM certificate chain for STARTTLS / implicit TLS")
    parser.add_argument("--tls-key", help="PEM private key for --tls-cert")
    parser.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (smtps)")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
