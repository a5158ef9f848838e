// The audit broker of a handler worker (OpenBao vault/audit_broker.go; facts only, own code) and the
// per-request trail the pipeline drives. Devices come from the audit table in LMDB through
// validate-on-read caches, so a device enabled or disabled by any worker is used (or dropped) by the
// next request on every worker. Vault's rules:
//  - the request entry is written after the token and ACL checks and BEFORE the backend runs; if
//    devices are enabled and none wrote it, the request fails with 500 "internal error" and is not run;
//  - a request refused earlier (bad token, ACL, no route) is logged with its error, best effort;
//  - the response entry is written before the reply leaves the worker; if no device wrote it, the reply
//    is withheld and the client gets 500 "internal error" (a write has already been committed then —
//    Vault behaves the same);
//  - one device succeeding is enough; failures of the others are reported on stderr.
import { randomUUID } from 'node:crypto';
import { CofferError, isErrorValue } from '../../runtime/errors.js';
import type { Barrier } from '../barrier/barrier.js';
import { BlobCache } from '../handler/blob-cache.js';
import type { LogicalReply, LogicalRequest } from '../handler/messages.js';
import type { PhysicalReader } from '../mounts/framework/storage-view.js';
import type { CallerInfo, MountInfo } from '../mounts/framework/types.js';
import { parseWrapTtl } from '../mounts/sys/wrapping.js';
import { FileSink, parseFileOptions, type FileDeviceOptions } from './file-device.js';
import { formatRequest, formatResponse, type AuditRequestInfo } from './format.js';
import { AUDIT_TABLE_KEY, LOCAL_AUDIT_TABLE_KEY, auditSaltKey, type AuditEntry, type AuditTable } from './table.js';
import { mutation } from '../../runtime/mutations.js';

export interface AuditBrokerDeps {
  physical: PhysicalReader;
  barrier(): Promise<Barrier | null>;
  /** Where device failures are reported; stderr by default. */
  report?: (message: string) => void;
}

interface Device {
  entry: AuditEntry;
  opts: FileDeviceOptions | null;
  optsError: string | null;
  salt: string | null;
  sink: FileSink | null;
}

/** Testing switch (RELIABILITY.md §7.3 mutation, COFFER_MUTATIONS=skip-audit): skip every audit write. */
const MUTATION_SKIP_AUDIT = mutation('skip-audit');

export class AuditBroker {
  private readonly tables = new BlobCache<AuditEntry[]>(2);
  private readonly salts = new BlobCache<string>(64);
  private readonly sinks = new Map<string, { sig: string; sink: FileSink }>();
  private readonly report: (message: string) => void;

  constructor(private readonly deps: AuditBrokerDeps) {
    this.report = deps.report ?? ((m) => process.stderr.write(`audit: ${m}\n`));
  }

  trail(req: LogicalRequest): AuditTrail {
    return new AuditTrail(this, req);
  }

  /** The enabled devices as stored now, each with its salt and sink. Throws if the table cannot be read. */
  async devices(): Promise<Device[]> {
    const physical = this.deps.physical;
    // Cheap exit without the barrier: no table at all (the common case).
    if (physical.get(AUDIT_TABLE_KEY) === undefined && physical.get(LOCAL_AUDIT_TABLE_KEY) === undefined) {
      if (this.sinks.size > 0) this.closeSinksExcept(new Set());
      return [];
    }
    const barrier = await this.deps.barrier();
    if (barrier === null) return [];
    const entries: AuditEntry[] = [];
    for (const key of [AUDIT_TABLE_KEY, LOCAL_AUDIT_TABLE_KEY]) {
      const t = this.tables.get(physical, key, (blob) => {
        const table = JSON.parse(barrier.decrypt(key, blob).toString('utf8')) as AuditTable;
        return Array.isArray(table.entries) ? table.entries : [];
      });
      if (t) entries.push(...t);
    }
    const live = new Set<string>();
    const out: Device[] = [];
    for (const entry of entries) {
      live.add(entry.uuid);
      const saltKey = auditSaltKey(entry.uuid);
      const salt = this.salts.get(physical, saltKey, (blob) => barrier.decrypt(saltKey, blob).toString('utf8')) ?? null;
      let opts: FileDeviceOptions | null = null;
      let optsError: string | null = null;
      try {
        if (entry.type !== 'file') throw new Error(`unknown backend type: ${JSON.stringify(entry.type)}`);
        opts = parseFileOptions(entry.options ?? {});
      } catch (err) {
        optsError = (err as Error).message;
      }
      let sink: FileSink | null = null;
      if (opts) {
        const sig = `${opts.filePath}|${opts.mode}`;
        const held = this.sinks.get(entry.uuid);
        if (held && held.sig === sig) sink = held.sink;
        else {
          held?.sink.close();
          sink = new FileSink(opts);
          this.sinks.set(entry.uuid, { sig, sink });
        }
      }
      out.push({ entry, opts, optsError, salt, sink });
    }
    this.closeSinksExcept(live);
    return out;
  }

  private closeSinksExcept(live: Set<string>): void {
    for (const [uuid, held] of this.sinks) {
      if (!live.has(uuid)) {
        held.sink.close();
        this.sinks.delete(uuid);
      }
    }
  }

  /**
   * Writes one entry per device. Returns null when there are no devices, else whether at least one
   * device wrote its entry.
   */
  async log(kind: 'request' | 'response', format: (salt: string, opts: FileDeviceOptions) => string, path: string): Promise<boolean | null> {
    if (MUTATION_SKIP_AUDIT) return null;
    const devices = await this.devices();
    if (devices.length === 0) return null;
    let any = false;
    for (const d of devices) {
      try {
        if (d.optsError !== null || d.opts === null || d.sink === null) throw new Error(d.optsError ?? 'device not usable');
        if (d.salt === null) throw new Error('error fetching salt: salt missing');
        d.sink.write(format(d.salt, d.opts));
        any = true;
      } catch (err) {
        this.report(`device ${d.entry.path} failed to log the ${kind} for ${JSON.stringify(path)}: ${(err as Error).message}`);
      }
    }
    return any;
  }
}

function errorText(err: unknown): string {
  const v = err instanceof CofferError ? err.value : isErrorValue(err) ? err : null;
  if (v) return v.messages.length > 0 ? v.messages.join('; ') : v.code;
  return 'internal error';
}

function isNotLeader(err: unknown): boolean {
  const v = err instanceof CofferError ? err.value : isErrorValue(err) ? err : null;
  return v?.code === 'COFFER_ERR_NOT_LEADER';
}

/** One request's audit: the pipeline tells it who and what, then asks it to log before and after. */
export class AuditTrail {
  readonly info: AuditRequestInfo;
  private requestLogged = false;
  private refused = false;

  constructor(
    private readonly broker: AuditBroker,
    req: LogicalRequest,
  ) {
    let wrapTtlS: number | null = null;
    try {
      wrapTtlS = parseWrapTtl(req.headers);
    } catch {
      /* the pipeline answers 400 for it */
    }
    this.info = {
      id: randomUUID(),
      operation: req.operation,
      path: req.path,
      data: req.data,
      token: req.token,
      ...(req.remoteAddr ? { remoteAddr: req.remoteAddr } : {}),
      wrapTtlS,
      caller: null,
      mount: null,
      allowed: null,
    };
  }

  /** Who is calling and which mount serves the path, once the pipeline knows. */
  identify(caller: CallerInfo | null, mount: MountInfo | null): void {
    this.info.caller = caller;
    this.info.mount = mount;
  }

  /**
   * The request entry, after the ACL allowed `operation` and before the backend runs. Throws 500
   * "internal error" when devices are enabled and none could write it: the request is not executed.
   */
  async logRequest(operation?: string): Promise<void> {
    if (operation) this.info.operation = operation;
    this.info.allowed = true;
    let ok: boolean | null;
    try {
      ok = await this.broker.log('request', (salt, opts) => formatRequest(salt, opts, this.info, null), this.info.path);
    } catch {
      ok = false;
    }
    if (ok === false) {
      this.refused = true;
      throw new CofferError('COFFER_ERR_INTERNAL');
    }
    this.requestLogged = true;
  }

  /** The response entry; the reply is handed back only if it was written (else 500, reply withheld). */
  async respond(reply: LogicalReply): Promise<LogicalReply> {
    if (!this.requestLogged) await this.logRequest();
    // The envelope's request_id is the audit entries' request.id, so the two can be matched.
    const body = reply.body as Record<string, unknown> | null;
    if (body && typeof body === 'object' && typeof body.request_id === 'string' && body.request_id !== '') body.request_id = this.info.id;
    let ok: boolean | null;
    try {
      ok = await this.broker.log('response', (salt, opts) => formatResponse(salt, opts, this.info, reply, null), this.info.path);
    } catch {
      ok = false;
    }
    if (ok === false) {
      this.refused = true;
      throw new CofferError('COFFER_ERR_INTERNAL');
    }
    return reply;
  }

  /** A request that ended in an error: logged, and the error to give the client returned. */
  async failed(err: unknown): Promise<unknown> {
    // A standby's NOT_LEADER: the request is forwarded, and the active node audits it.
    if (this.refused || isNotLeader(err)) return err;
    const text = errorText(err);
    if (!this.requestLogged) {
      // Refused before it could run (token, ACL, route): logged with its error, best effort (as Vault).
      if (this.info.allowed === null && (err as { value?: { code?: string } })?.value?.code === 'COFFER_ERR_PERMISSION_DENIED') this.info.allowed = false;
      try {
        await this.broker.log('request', (salt, opts) => formatRequest(salt, opts, this.info, text), this.info.path);
      } catch {
        /* best effort */
      }
      return err;
    }
    let ok: boolean | null;
    try {
      ok = await this.broker.log('response', (salt, opts) => formatResponse(salt, opts, this.info, null, text), this.info.path);
    } catch {
      ok = false;
    }
    return ok === false ? new CofferError('COFFER_ERR_INTERNAL') : err;
  }
}
