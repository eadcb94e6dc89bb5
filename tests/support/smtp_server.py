#!/usr/bin/python3
# A real SMTP server for rappel's tests (aiosmtpd, Debian's python3-aiosmtpd): run it with
# /usr/bin/python3, not the `python3` on PATH, which lacks Debian's modules.
#
# It listens on 127.0.0.1 with a port chosen by the OS and prints that port as its first stdout
# line. STARTTLS (or implicit TLS with --implicit-tls) uses a throwaway certificate for "localhost"
# made with the openssl CLI in --dir; the test trusts it through that cert.pem. AUTH is required
# when TLS is on (--user/--password). Each accepted message is written to --dir as N.eml (the
# bytes received, dot-unstuffed) and N.json (envelope and connection number); the number of
# connections accepted so far is kept in --dir/connections, and the most connections open at the
# same time in --dir/peak_sessions (a connection counts from its accept until it is closed). Recipients starting with "tempfail"
# are answered 451, those starting with "reject" 550 (quoting the address, as real servers do), so
# tests can script both failure kinds.
import argparse
import asyncio
import json
import os
import ssl
import subprocess
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def make_certificate(directory):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-days", "1", "-keyout", key, "-out", cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class Recorder:
    def __init__(self, directory):
        self.directory = directory
        self.messages = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("tempfail"):
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        if address.startswith("reject"):
            return "550 5.1.1 <%s>: Mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        base = os.path.join(self.directory, str(self.messages))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "connection": server.connection_number}, f)
        return "250 2.0.0 Queued as %d" % self.messages


class CountedSMTP(SMTP):
    """An SMTP session that tells when its connection closes (once, whatever STARTTLS did)."""

    def __init__(self, *args, on_close, **kwargs):
        super().__init__(*args, **kwargs)
        self._on_close = on_close

    def connection_lost(self, error):
        on_close, self._on_close = self._on_close, None
        if on_close:
            on_close()
        super().connection_lost(error)


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False)
    return check


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--user", default="rdv-solidarites@cd62.fr")
    parser.add_argument("--password", default="clé-smtp")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--no-tls", action="store_true")
    args = parser.parse_args()

    context = None if args.no_tls else make_certificate(args.dir)
    recorder = Recorder(args.dir)
    connections = 0
    open_sessions = 0
    peak_sessions = 0

    def write(name, value):
        with open(os.path.join(args.dir, name), "w") as f:
            f.write(str(value))

    def closed():
        nonlocal open_sessions
        open_sessions -= 1

    def factory():
        nonlocal connections, open_sessions, peak_sessions
        connections += 1
        open_sessions += 1
        write("connections", connections)
        if open_sessions > peak_sessions:
            peak_sessions = open_sessions
            write("peak_sessions", peak_sessions)
        smtp = CountedSMTP(recorder, hostname="localhost", on_close=closed,
                           tls_context=None if args.implicit_tls else context,
                           require_starttls=context is not None and not args.implicit_tls,
                           # With implicit TLS aiosmtpd does not see the TLS under it: no need
                           # to ask.
                           auth_required=context is not None,
                           auth_require_tls=context is not None and not args.implicit_tls,
                           authenticator=authenticator(args.user, args.password))
        smtp.connection_number = connections
        return smtp

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(
        factory, host="127.0.0.1", port=0, ssl=context if args.implicit_tls else None))
    print(server.sockets[0].getsockname()[1], flush=True)
    loop.run_forever()


if __name__ == "__main__":
    sys.exit(main())
