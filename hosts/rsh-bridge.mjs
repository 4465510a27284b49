#!/usr/bin/env node
// The remote shell (`rsync -e`) of a host-to-engine copy. rsync runs it as `rsh-bridge.mjs [-l user] host command...`;
// it hands the command line to the dvx engine over the unix socket named in DVX_RSH_SOCKET, then relays bytes both
// ways. The engine runs the command on the host over its pooled SSH connection, so no key or password ever reaches
// this process or the disk. Plain JavaScript: rsync spawns it as a program of its own.
import { connect } from 'node:net';

const socketPath = process.env.DVX_RSH_SOCKET;
if (!socketPath) {
  process.stderr.write('rsh-bridge: DVX_RSH_SOCKET is not set\n');
  process.exit(255);
}
let args = process.argv.slice(2);
if (args[0] === '-l') args = args.slice(2);
const command = args.slice(1);

const socket = connect({ path: socketPath, allowHalfOpen: true });
socket.on('connect', () => {
  socket.write(`${JSON.stringify({ command })}\n`);
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
});
// Like ssh, exit as soon as the remote command is done (the engine ends the socket), whether or not rsync has closed
// our stdin: rsync waits for its remote shell to exit before it closes that pipe. pipe() never ends process.stdout,
// so make sure what was relayed is written out first.
socket.once('end', () => {
  if (process.stdout.writableLength === 0) process.exit(0);
  process.stdout.once('drain', () => process.exit(0));
});
socket.once('close', (hadError) => hadError && process.exit(255));
socket.on('error', (error) => {
  process.stderr.write(`rsh-bridge: ${error.message}\n`);
  process.exit(255);
});
process.stdout.on('error', () => process.exit(255));
