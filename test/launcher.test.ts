// The `coffer` command (bin/coffer, package.json "bin"): a shell launcher that sets glibc's malloc
// thresholds and execs node on the CLI. Checked through real processes: the server it starts is node
// itself under the PID the caller holds (signals reach it), carries the malloc settings unless the
// operator set their own, and the launcher works through a symlink, as npm installs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { COFFER_LAUNCHER, http, spawnCoffer, type ServerProcess } from './helpers/server-process.js';

const DEV_ARGS = ['server', '-dev', '-dev-listen-address=127.0.0.1:0', '-dev-root-token-id=launcher-root'];
const DEV_READY = /export VAULT_ADDR='(\S+)'/;
const OURS = 'glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072';

/** GLIBC_TUNABLES as node sees it when started by the launcher with `env` (node -p prints it and exits). */
function tunablesSeenByNode(env: NodeJS.ProcessEnv): string {
  const r = spawnSync(COFFER_LAUNCHER, ['status'], { env: { ...process.env, ...env, COFFER_NODE: process.execPath, COFFER_NODE_ARGS: '-p process.env.GLIBC_TUNABLES' }, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

describe('the coffer launcher (bin/coffer)', () => {
  const running: ServerProcess[] = [];
  const start = async (env: NodeJS.ProcessEnv) => {
    const s = await spawnCoffer(DEV_ARGS, DEV_READY, env);
    running.push(s);
    return s;
  };
  after(async () => {
    for (const s of running) await s.kill('SIGKILL');
  });

  it('execs node under the caller-held PID, and SIGTERM reaches it; `coffer version` names the server\'s release', async () => {
    const s = await start({});
    const pid = s.child.pid as number;
    assert.equal(readlinkSync(`/proc/${pid}/exe`), readlinkSync('/proc/self/exe'), 'the PID is node itself, not a shell in front of it');
    const health = await http(s.url, 'GET', 'sys/health');
    assert.equal(health.status, 200, 'a working dev server');
    // `coffer version` (and Vault's -version / -v spellings) names the release the server reports.
    for (const spelling of ['version', '-version', '-v']) {
      const v = spawnSync(COFFER_LAUNCHER, [spelling], { env: { ...process.env, COFFER_NODE: process.execPath }, encoding: 'utf8', timeout: 20_000 });
      assert.equal(v.status, 0, v.stderr);
      assert.equal(v.stdout, `Coffer v${String(health.body.version)}, node ${process.version}\n`, spelling);
    }
    s.child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => s.child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, 'node received SIGTERM and shut down cleanly');
  });

  it('sets the malloc thresholds, keeps an operator-chosen malloc tunable, and appends to other tunables', () => {
    assert.equal(tunablesSeenByNode({ GLIBC_TUNABLES: '' }), OURS);
    const without = { ...process.env };
    delete without.GLIBC_TUNABLES;
    const r = spawnSync(COFFER_LAUNCHER, ['status'], { env: { ...without, COFFER_NODE: process.execPath, COFFER_NODE_ARGS: '-p process.env.GLIBC_TUNABLES' }, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.stdout.trim(), OURS, 'unset: ours');
    assert.equal(tunablesSeenByNode({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }), 'glibc.malloc.arena_max=2');
    assert.equal(tunablesSeenByNode({ GLIBC_TUNABLES: 'glibc.pthread.rseq=0:glibc.malloc.mmap_threshold=65536' }), 'glibc.pthread.rseq=0:glibc.malloc.mmap_threshold=65536');
    assert.equal(tunablesSeenByNode({ GLIBC_TUNABLES: 'glibc.pthread.rseq=0' }), `glibc.pthread.rseq=0:${OURS}`);
  });

  it('runs the CLI through a symlink, as npm links it into node_modules/.bin', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-launcher-'));
    try {
      const link = join(dir, 'coffer');
      symlinkSync(COFFER_LAUNCHER, link);
      const r = spawnSync(link, ['status', '-format=json'], { env: { ...process.env, COFFER_NODE: process.execPath, VAULT_ADDR: 'http://127.0.0.1:1' }, encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.error, undefined);
      // Nothing listens on port 1: the CLI itself ran and reports the failed request (not the shell's 127).
      assert.equal(r.status, 1, `exit status (stderr: ${r.stderr})`);
      assert.match(r.stderr, /^Error: /m, 'the CLI\'s own error line');
      const help = spawnSync(link, ['--help'], { env: { ...process.env, COFFER_NODE: process.execPath }, encoding: 'utf8', timeout: 20_000 });
      assert.equal(help.status, 0);
      assert.match(help.stdout, /A Vault\/OpenBao-compatible secrets manager/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
