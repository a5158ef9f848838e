// A configured server with a TLS listener (tls_cert_file / tls_key_file, as Vault's config).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { spawnCoffer, tempDir } from './helpers/server-process.js';
import { writeFileSync } from 'node:fs';

function get(url: string, ca: Buffer): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('TLS listener', () => {
  const dir = tempDir('tls');
  after(() => dir.remove());

  it('serves the API over HTTPS with the configured certificate', async () => {
    const key = join(dir.path, 'tls.key');
    const cert = join(dir.path, 'tls.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const config = join(dir.path, 'coffer.hcl');
    writeFileSync(config, `storage "raft" {\n  path = "${join(dir.path, 'data')}"\n}\nlistener "tcp" {\n  address = "127.0.0.1:0"\n  tls_cert_file = "${cert}"\n  tls_key_file = "${key}"\n}\n`);
    const server = await spawnCoffer(['server', `-config=${config}`], /Listening on (\S+?);/);
    try {
      assert.match(server.url, /^https:\/\//);
      const r = await get(`${server.url}/v1/sys/seal-status`, readFileSync(cert));
      assert.equal(r.status, 200);
      assert.equal(r.body.initialized, false);
      // A client that does not trust the certificate is refused by TLS itself.
      await assert.rejects(get(`${server.url}/v1/sys/seal-status`, Buffer.from('')), /self.signed|certificate/i);
    } finally {
      await server.kill();
    }
  });

  it('refuses a TLS listener without its certificate files', async () => {
    const config = join(dir.path, 'no-cert.hcl');
    writeFileSync(config, `storage "raft" {\n  path = "${join(dir.path, 'data2')}"\n}\nlistener "tcp" {\n  address = "127.0.0.1:0"\n}\n`);
    await assert.rejects(spawnCoffer(['server', `-config=${config}`], /Listening on (\S+?);/), /tls_cert_file and tls_key_file/);
  });
});
