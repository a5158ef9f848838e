// Snapshot images as files: the streamed writer's bytes decode (runtime/codec) to the FSM; the pair reader
// reads files, bytes in memory and msgpackr's own encoding alike; the core's lazy view reads the same
// bytes as the file; a corrupt file is refused. Then through RaftHost: compaction streams the FSM to one
// image file, a restart on it keeps the FSM, and an FSM lost behind the image is restored from the file
// (also from an image stored the old way, inside the `hard` db).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { decode, encode } from '../../runtime/codec.js';
import { RaftHost } from '../raft/host.js';
import { openStorageEnv, type StorageEnv } from './env.js';
import { Fsm, KEY_APPLIED } from './fsm.js';
import { decodeRecord, encodeRecord } from './records.js';
import { crc32 } from './crc32.js';
import { forEachImagePair, ImageFile, imageDir, writeFsmImage } from './snapshot-image.js';
import { fsmPairs, normal, tempDir } from './test-util.js';
import { encodeWriteSet } from './write-set.js';

function imagePairs(image: Uint8Array): [string, string][] {
  const out: [string, string][] = [];
  forEachImagePair(image, (k, v) => out.push([k, Buffer.from(v).toString('base64')]));
  return out;
}

test('snapshot image: streamed to a file, read back pair by pair, from a file or from bytes', async (t) => {
  const dir = tempDir(t);
  const env = openStorageEnv(dir);
  t.after(() => env.close());
  const fsm = new Fsm(env);
  // Key and value sizes cross every msgpack length form (fixstr/str8/str16, bin8/bin16/bin32), and one
  // value is larger than the reader's 1 MiB window.
  const ops = [];
  for (let i = 0; i < 300; i++) ops.push({ t: 'put' as const, key: `k/${String(i).padStart(4, '0')}${'x'.repeat(i % 7 === 0 ? 40 : 0)}`, value: Buffer.alloc(i % 3 === 0 ? 300 : 20, i) });
  ops.push({ t: 'put' as const, key: `long/${'y'.repeat(300)}`, value: Buffer.alloc(70_000, 7) });
  fsm.apply([normal(1, 1, { ops })]);
  env.fsm.putSync('big', Buffer.alloc(1_500_000, 9)); // above the write-set limit; images must still carry it
  const expected = fsmPairs(env);

  const written = await writeFsmImage(env, dir, 1, 1);
  await written.durable;
  const path = join(imageDir(dir), '1-1.img');
  assert.deepEqual(readdirSync(imageDir(dir)), ['1-1.img'], 'renamed from its temporary name once durable');
  const bytes = readFileSync(path);
  assert.equal(written.record.bytes, bytes.length);
  assert.equal(written.record.crc32, crc32(bytes));
  assert.equal(written.pairs, expected.length);

  // What a follower does with the chunks: decode the whole image.
  const { kv } = decode<{ kv: (string | Uint8Array)[] }>(bytes);
  const decoded: [string, string][] = [];
  for (let i = 0; i < kv.length; i += 2) decoded.push([kv[i] as string, Buffer.from(kv[i + 1] as Uint8Array).toString('base64')]);
  assert.deepEqual(decoded, expected);

  const file = ImageFile.open(path, written.record);
  t.after(() => file.close());
  assert.deepEqual(imagePairs(file), expected, 'pairs read from the file');
  assert.deepEqual(imagePairs(bytes), expected, 'pairs read from bytes in memory');
  assert.deepEqual(imagePairs(encode({ kv })), expected, "pairs read from msgpackr's encoding of the same image");

  // The core's view: length and slice, in InstallSnapshot-sized chunks.
  assert.equal(file.length, bytes.length);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < file.length; at += 64 * 1024) chunks.push(file.slice(at, Math.min(file.length, at + 64 * 1024)));
  assert.ok(Buffer.concat(chunks).equals(bytes), 'chunks read through the view equal the file');
  assert.throws(() => file.subarray(0, 1), /not supported/);

  const flipped = Buffer.from(bytes);
  flipped[Math.floor(flipped.length / 2)]! ^= 0x10;
  const bad = join(dir, 'flipped.img');
  writeFileSync(bad, flipped);
  assert.throws(() => ImageFile.open(bad, written.record), /checksum mismatch/);
  assert.throws(() => ImageFile.open(bad, { bytes: bytes.length - 1, crc32: written.record.crc32 }), /corrupt or truncated/);
  assert.throws(() => ImageFile.open(join(dir, 'gone.img'), written.record), /is missing/);
  console.log(`snapshot image: ${expected.length} pairs, ${bytes.length} bytes streamed; pairs read back equal: 3 of 3 readers; corrupt or missing images refused: 3 of 3`);
});

const quiet = pino({ level: 'silent' });

async function runHost(dir: string, writes: number, from: number): Promise<void> {
  const host = await RaftHost.open({ id: 'n1', dataDir: dir, voters: ['n1'], send: () => undefined, log: quiet, tickMs: 10, compactAt: 50 });
  host.start();
  const done: Promise<number>[] = [];
  for (let i = from; i < from + writes; i++) done.push(host.propose(encodeWriteSet({ ops: [{ t: 'put', key: `s/${i}`, value: Buffer.alloc(200, i) }] })));
  await Promise.all(done);
  // The image is written in the background after the Ready that crossed compactAt; close() would abandon it.
  const before = host.stats().compactions;
  const deadline = Date.now() + 10_000;
  while (host.stats().compactions === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.ok(host.stats().compactions > before, 'the log was compacted behind a snapshot');
  await host.close();
}

async function openAndClose(dir: string): Promise<[string, string][]> {
  const host = await RaftHost.open({ id: 'n1', dataDir: dir, voters: ['n1'], send: () => undefined, log: quiet, tickMs: 10, compactAt: 50 });
  await host.whenRecovered();
  await host.close();
  const env = openStorageEnv(dir);
  try {
    return fsmPairs(env);
  } finally {
    await env.close();
  }
}

/** What a crash between installing an image and restoring the FSM leaves: an FSM behind the image. */
async function loseFsm(dir: string, legacy: boolean): Promise<void> {
  const env = openStorageEnv(dir);
  const rec = decodeRecord<{ meta: unknown; file: { file: string } }>(env.hard.get('raft-snapshot')!, 'image record');
  if (legacy) {
    // Before image files: the record held the image bytes.
    const data = readFileSync(join(imageDir(dir), rec.file.file));
    await env.hard.put('raft-snapshot', encodeRecord({ meta: rec.meta, data }));
  }
  await env.root.transactionSync(() => {
    for (const key of [...env.fsm.getKeys({})]) env.fsm.remove(key);
    env.meta.put(KEY_APPLIED, encodeRecord({ index: 0, term: 0 }));
  });
  await env.close();
  if (legacy) for (const f of readdirSync(imageDir(dir))) writeFileSync(join(imageDir(dir), f), ''); // not read: the record has the bytes
}

test('raft host: compaction streams the FSM to one image file; a lost FSM is restored from it', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  await runHost(dir, 130, 0);
  const files = readdirSync(imageDir(dir));
  assert.equal(files.length, 1, `one image file, older ones deleted: ${files.join(', ')}`);
  const env = openStorageEnv(dir);
  const rec = decodeRecord<{ meta: { index: number }; file: { file: string } }>(env.hard.get('raft-snapshot')!, 'image record');
  const before = fsmPairs(env);
  await env.close();
  assert.equal(rec.file.file, files[0], 'the hard db names the file');
  assert.ok(rec.meta.index >= 50, `snapshot at ${rec.meta.index}`);
  assert.equal(before.length, 130);

  assert.deepEqual(await openAndClose(dir), before, 'restart on the image file');
  await loseFsm(dir, false);
  const restored = await openAndClose(dir);
  assert.deepEqual(restored.slice(0, 10), before.slice(0, 10));
  assert.deepEqual(restored, before, 'FSM restored from the image file, then the log replayed');

  await loseFsm(dir, true);
  assert.deepEqual(await openAndClose(dir), before, 'FSM restored from an image stored in the hard db (before image files)');
  const envAfter = openStorageEnv(dir);
  const migrated = decodeRecord<{ file?: { file: string }; data?: unknown }>(envAfter.hard.get('raft-snapshot')!, 'image record');
  await envAfter.close();
  assert.ok(migrated.file !== undefined && migrated.data === undefined, 'the old record was replaced by a file record');
  assert.deepEqual(readdirSync(imageDir(dir)), [migrated.file.file]);

  // More writes after the restarts: compaction continues from the restored state.
  await runHost(dir, 60, 130);
  assert.equal((await openAndClose(dir)).length, 190);
  console.log(`raft host: ${before.length} FSM pairs, image file ${rec.file.file}; restored from the file: ${restored.length} of ${before.length}; after 60 more writes: one image file (${readdirSync(imageDir(dir)).join(', ')})`);
});

test('raft host: writes keep committing while a compaction writes its image in the background', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const compactAt = 2_000;
  // Short slices: many yields however fast this machine writes the image (the default is sized for the file's growth).
  const host = await RaftHost.open({ id: 'n1', dataDir: dir, voters: ['n1'], send: () => undefined, log: quiet, tickMs: 10, compactAt, imageSliceMs: 2 });
  t.after(() => host.close());
  host.start();
  // An FSM of ~16 MB (2,000 values of 8 KiB), below the threshold; then 8 writers, one write at a time
  // each, until it compacts.
  const value = (i: number) => Buffer.alloc(8192, i % 251);
  for (let i = 0; i < compactAt - 50; i += 50) {
    const batch: Promise<number>[] = [];
    for (let j = i; j < i + 50; j++) batch.push(host.propose(encodeWriteSet({ ops: [{ t: 'put', key: `big/${j}`, value: value(j) }] })));
    await Promise.all(batch);
  }
  assert.equal(host.stats().compactions, 0, 'not compacted yet');
  let writes = 0;
  const deadline = Date.now() + 60_000;
  const writer = async () => {
    while (host.stats().compactions === 0 && Date.now() < deadline) {
      const n = writes++;
      await host.propose(encodeWriteSet({ ops: [{ t: 'put', key: `after/${n}`, value: value(n) }] }));
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));
  const stats = host.stats();
  assert.equal(stats.compactions, 1, 'compacted once');
  // Before, the image was written in one synchronous stretch of the Ready loop: nothing committed meanwhile.
  assert.ok(stats.appliedDuringImage > 0, `entries applied while the image was written: ${stats.appliedDuringImage}`);
  console.log(`raft host: compaction of a ${compactAt}-entry log (~16 MB image); ${stats.appliedDuringImage} entries applied while the image was being written, ${writes} writes by 8 writers in all`);
});

