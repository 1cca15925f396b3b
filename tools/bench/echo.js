// echo.js - a plain Node.js RFC 862 echo server (net + dgram) for tools/bench/run.sh to
// measure against: what a user gets from the standard library with no tuning.
//   node echo.js PORT [HOST]     (HOST default 127.0.0.1; TCP and UDP on PORT)
'use strict';
const net = require('net');
const dgram = require('dgram');

const port = Number(process.argv[2]);
const host = process.argv[3] || '127.0.0.1';
if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error('usage: node echo.js PORT [HOST]');
    process.exit(2);
}

const tcp = net.createServer({ noDelay: true }, (sock) => {
    sock.pipe(sock); // pipe() pauses reading while the write side is backed up
    sock.on('error', () => sock.destroy());
});
tcp.maxConnections = 1000000;
tcp.listen({ port, host, backlog: 4096 });

const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
udp.on('error', () => {});
udp.bind(port, host);

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
