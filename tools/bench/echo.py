#!/usr/bin/env python3
"""echo.py - a plain Python asyncio RFC 862 echo server (TCP and UDP) for tools/bench/run.sh
to measure against: what a user gets from the standard library with no tuning.

    python3 echo.py PORT [HOST]      (HOST default 127.0.0.1; TCP and UDP on PORT)
"""
import asyncio
import signal
import socket
import sys


class TcpEcho(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.t.write(data)

    def pause_writing(self):
        self.t.pause_reading()  # backpressure: stop reading while writes wait

    def resume_writing(self):
        self.t.resume_reading()

    def eof_received(self):
        return False  # close after the echo is flushed


class UdpEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.t = transport

    def datagram_received(self, data, addr):
        self.t.sendto(data, addr)


async def main(port, host):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    server = await loop.create_server(TcpEcho, host, port, backlog=4096)
    await loop.create_datagram_endpoint(UdpEcho, local_addr=(host, port))
    async with server:
        await stop


if __name__ == "__main__":
    if len(sys.argv) < 2 or not sys.argv[1].isdigit():
        print("usage: python3 echo.py PORT [HOST]", file=sys.stderr)
        sys.exit(2)
    asyncio.run(main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"))
