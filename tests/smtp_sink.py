#!/usr/bin/python3
"""A real SMTP server for the integration tests (aiosmtpd): every message it receives is
saved as one .eml file in DIR. Usage: smtp_sink.py PORT DIR. Prints "ready" once it
listens; stops on SIGTERM.

Recipients whose local part starts with "reject-" are refused with a permanent 550 and
those starting with "defer-" with a transient 451; each refusal is recorded as a file
"refused-N.txt" in DIR (the reply code and the address), so a test can count attempts."""
import os
import signal
import sys
import time

from aiosmtpd.controller import Controller


class SaveToDir:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.refused = 0

    def refuse(self, reply, address):
        self.refused += 1
        path = os.path.join(self.directory, f"refused-{self.refused}.txt")
        with open(path, "w") as f:
            f.write(f"{reply[:3]} {address}\n")
        return reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("reject-"):
            return self.refuse("550 5.1.1 mailbox unavailable", address)
        if local.startswith("defer-"):
            return self.refuse("451 4.3.0 try again later", address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.directory, f"{time.time_ns()}-{self.count}.eml")
        with open(path + ".part", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".part", path)
        return "250 Message accepted"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    controller = Controller(SaveToDir(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    main()
