// The ceiling: a bare node:http server in its own child process answering bodies of the same size as the
// system under test. GET answers `readBody`; PUT/POST read and parse the request body, then answer
// `writeBody` (so a write's ceiling pays for the upload and one JSON.parse, nothing else).
import { spawn, type ChildProcess } from 'node:child_process';

export interface BareServer {
  url: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

const SCRIPT = `
  const http = require('node:http');
  const read = Buffer.from(process.env.BARE_READ_BODY);
  const write = Buffer.from(process.env.BARE_WRITE_BODY);
  const headers = (len) => ({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Length': len });
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') { res.writeHead(200, headers(read.length)); res.end(read); return; }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => { JSON.parse(Buffer.concat(chunks).toString() || '{}'); res.writeHead(200, headers(write.length)); res.end(write); });
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\\n'));
  process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
`;

export function startBareServer(readBody: string, writeBody: string): Promise<BareServer> {
  const child = spawn(process.execPath, ['-e', SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '', BARE_READ_BODY: readBody, BARE_WRITE_BODY: writeBody } });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`bare server exited ${code}`)));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m)
        resolve({
          url: `http://127.0.0.1:${m[1]}`,
          pid: child.pid as number,
          child,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
    });
  });
}
