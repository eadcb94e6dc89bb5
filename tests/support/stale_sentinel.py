#!/usr/bin/python3
"""A sentinel stand-in that names whatever master the test wrote in a file.

Real sentinels cannot be made to lag on purpose, but a lagging sentinel is exactly the case
rappel's ROLE check exists for: this speaks enough RESP (AUTH, PING, SENTINEL
get-master-addr-by-name) to answer with the address in ADDRESS_FILE ("host port"), so a test can
point rappel at a replica. Usage: stale_sentinel.py ADDRESS_FILE; prints the port it listens on.
"""
import asyncio
import sys


async def read_command(reader):
    header = await reader.readline()
    if not header:
        return None
    count = int(header[1:])
    args = []
    for _ in range(count):
        length = int((await reader.readline())[1:])
        args.append((await reader.readexactly(length + 2))[:-2].decode())
    return args


def bulk(text):
    data = text.encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


async def serve(reader, writer):
    while True:
        args = await read_command(reader)
        if args is None:
            break
        verb = args[0].upper()
        if verb == "SENTINEL" and len(args) == 3:
            host, port = open(sys.argv[1]).read().split()
            writer.write(b"*2\r\n" + bulk(host) + bulk(port))
        elif verb in ("AUTH", "PING"):
            writer.write(b"+OK\r\n")
        else:
            writer.write(b"-ERR unknown command\r\n")
        await writer.drain()
    writer.close()


async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
