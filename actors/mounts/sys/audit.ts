// sys/audit (list), sys/audit/<path> (enable, disable) and sys/audit-hash/<path> (OpenBao
// logical_system.go handleAuditTable / handleEnableAudit / handleDisableAudit / handleAuditHash and
// vault/audit.go enableAudit; facts only, own code). The devices themselves run in actors/audit.
import { randomBytes, randomUUID } from 'node:crypto';
import { FileSink, parseFileOptions } from '../../audit/file-device.js';
import { formatRequest } from '../../audit/format.js';
import { hashString } from '../../audit/hash.js';
import { auditSettings } from '../../audit/settings.js';
import { auditSaltKey, tableKeyOf, type AuditEntry, type AuditTable } from '../../audit/table.js';
import type { HandlerRequest, LogicalResponse, PathSpec, StorageView } from '../framework/types.js';
import { badRequest, sanitizePath, stringMap } from './util.js';

async function readTable(storage: StorageView, local: boolean): Promise<AuditTable> {
  const t = await storage.getJson<AuditTable>(tableKeyOf(local));
  return t && Array.isArray(t.entries) ? t : { type: 'audit', entries: [] };
}

async function allEntries(storage: StorageView): Promise<AuditEntry[]> {
  return [...(await readTable(storage, false)).entries, ...(await readTable(storage, true)).entries];
}

async function listDevices(_req: HandlerRequest, storage: StorageView): Promise<LogicalResponse> {
  const data: Record<string, unknown> = {};
  for (const e of await allEntries(storage)) data[e.path] = { path: e.path, type: e.type, description: e.description, options: e.options, local: e.local };
  return { data, injectData: true };
}

/** The enable-time test probe (vault/audit.go generateAuditTestProbe), written with a throwaway salt. */
function testProbe(sink: FileSink, options: ReturnType<typeof parseFileOptions>): void {
  const line = formatRequest(randomUUID(), options, {
    id: randomUUID(),
    operation: 'update',
    path: 'sys/audit/test',
    data: {},
    token: null,
    wrapTtlS: null,
    caller: null,
    mount: null,
    allowed: null,
  }, null);
  sink.write(line);
}

async function enable(req: HandlerRequest, storage: StorageView): Promise<null> {
  const settings = auditSettings();
  if (!settings.allowApiCreation) badRequest('cannot enable audit device via API; use declarative, config-based audit device management instead');
  const options = stringMap(req.fields.options, 'options');
  if ('prefix' in options && !settings.allowPrefixing) badRequest('audit log prefixing is not allowed');
  const path = sanitizePath(req.params.path ?? '');
  if (path === '/') badRequest('backend path must be specified');
  const type = (req.fields.type as string | undefined) ?? '';
  const local = (req.fields.local as boolean | undefined) ?? false;
  const entries = await allEntries(storage);
  for (const e of entries) if (e.path.startsWith(path) || path.startsWith(e.path)) badRequest('path already in use');
  if (type !== 'file') badRequest(`unknown backend type: ${JSON.stringify(type)}`);
  let parsed: ReturnType<typeof parseFileOptions>;
  try {
    parsed = parseFileOptions(options);
  } catch (err) {
    return badRequest((err as Error).message);
  }
  // As OpenBao: the file must open for writing now, and a test entry must go through (unless skip_test).
  const sink = new FileSink(parsed);
  try {
    try {
      sink.open();
    } catch (err) {
      badRequest(`sanity check failed; unable to open ${JSON.stringify(parsed.filePath)} for writing: ${(err as Error).message}`);
    }
    if (options.skip_test !== 'true') {
      try {
        testProbe(sink, parsed);
      } catch (err) {
        badRequest(`audit backend failed test message: ${(err as Error).message}`);
      }
    }
  } finally {
    sink.close();
  }
  const uuid = randomUUID();
  const accessors = new Set(entries.map((e) => e.accessor));
  let accessor: string;
  do accessor = `audit_${type}_${randomBytes(4).toString('hex')}`;
  while (accessors.has(accessor));
  const entry: AuditEntry = { table: 'audit', path, type, description: (req.fields.description as string | undefined) ?? '', uuid, accessor, options, local };
  const table = await readTable(storage, local);
  storage.putJson(tableKeyOf(local), { type: 'audit', entries: [...table.entries, entry] } satisfies AuditTable);
  // The device's HMAC salt (sdk/helper/salt: a random UUID string), barrier-encrypted like everything.
  storage.put(auditSaltKey(uuid), Buffer.from(randomUUID(), 'utf8'));
  return null;
}

async function disable(req: HandlerRequest, storage: StorageView): Promise<null> {
  const raw = req.params.path ?? '';
  const path = raw.endsWith('/') ? raw : `${raw}/`;
  if (path === '/') badRequest('audit device path must be specified');
  for (const local of [false, true]) {
    const table = await readTable(storage, local);
    const entry = table.entries.find((e) => e.path === path);
    if (!entry) continue;
    storage.putJson(tableKeyOf(local), { type: 'audit', entries: table.entries.filter((e) => e !== entry) } satisfies AuditTable);
    storage.delete(auditSaltKey(entry.uuid));
  }
  return null;
}

async function auditHash(req: HandlerRequest, storage: StorageView): Promise<LogicalResponse> {
  const input = (req.fields.input as string | undefined) ?? '';
  if (input === '') badRequest('the "input" parameter is empty');
  const path = sanitizePath(req.params.path ?? '');
  const entry = (await allEntries(storage)).find((e) => e.path === path);
  if (!entry) badRequest(`unknown audit backend ${JSON.stringify(path)}`);
  const salt = await storage.get(auditSaltKey(entry.uuid));
  if (salt === undefined) badRequest('error fetching salt: salt missing');
  return { data: { hash: hashString(salt.toString('utf8'), input) }, injectData: true };
}

export const auditPaths: PathSpec[] = [
  {
    pattern: 'audit',
    operations: { read: listDevices },
    help: { synopsis: 'List the enabled audit devices.', description: 'Every enabled audit device by path: type, description, options and local.' },
  },
  {
    pattern: 'audit/:path+',
    fields: {
      path: { type: 'string', description: 'The path of the audit device, e.g. "file".' },
      type: { type: 'string', description: 'The type of the device; "file" is supported.' },
      description: { type: 'string', description: 'User-friendly description of the device.' },
      options: { type: 'map', description: 'Device options: file_path, mode, format, prefix, log_raw, hmac_accessor, elide_list_responses.' },
      local: { type: 'bool', default: false, description: 'Mark the device as local (stored in core/local-audit).' },
    },
    operations: { update: enable, delete: disable },
    help: {
      synopsis: 'Enable or disable an audit device.',
      description: 'Enabling over the API needs unsafe_allow_api_audit_creation = true in the server configuration (dev nodes allow it); prefix also needs allow_audit_log_prefixing.',
    },
  },
  {
    pattern: 'audit-hash/:path+',
    fields: {
      path: { type: 'string', description: 'The path of the audit device.' },
      input: { type: 'string', description: 'The string to hash with the device\'s salt.' },
    },
    operations: { update: auditHash },
    answersLocally: ['update'],
    help: { synopsis: 'Hash a string with an audit device\'s salt.', description: 'Answers the value the device writes for this string: hmac-sha256:<hex>.' },
  },
];
