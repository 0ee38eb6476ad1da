import { execFileSync } from 'node:child_process';
import { connect, createServer } from 'node:net';

/** Whether a TCP connection to 127.0.0.1 works here (it does not in a fresh network namespace, where `lo` is down). */
async function loopbackWorks(): Promise<boolean> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  // Listening on a TCP port, the server's address is an AddressInfo (a string only for a pipe or socket).
  if (address === null || typeof address === 'string') {
    throw new Error(`The loopback probe has no TCP port (its address: ${String(address)}).`);
  }
  const { port } = address;
  const ok = await new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return ok;
}

/**
 * The local run talks to its stand-ins on 127.0.0.1 only. In a sandbox without network (a new network
 * namespace) the loopback interface starts down: bring it up when allowed, or say what to do.
 */
export async function ensureLoopback(): Promise<void> {
  if (await loopbackWorks()) return;
  try {
    execFileSync('ip', ['link', 'set', 'lo', 'up'], { stdio: 'ignore' });
  } catch {
    // Not allowed or no iproute2: the message below says what to do.
  }
  if (!(await loopbackWorks())) {
    throw new Error(
      'Connections to 127.0.0.1 fail here: the loopback interface is down. Bring it up (ip link set lo up) and run again.',
    );
  }
  console.log('The loopback interface was down (a network namespace without network); it was brought up.');
}
