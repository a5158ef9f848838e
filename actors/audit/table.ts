// The audit device table (OpenBao vault/audit.go): stored like the mount tables, barrier-encrypted,
// `core/audit` for replicated devices and `core/local-audit` for `local: true` ones. Each device has a
// random HMAC salt (a UUID string) at `audit/<device uuid>/salt`, also barrier-encrypted.
import type { PhysicalReader, ValueCrypto } from '../mounts/framework/storage-view.js';

export const AUDIT_TABLE_KEY = 'core/audit';
export const LOCAL_AUDIT_TABLE_KEY = 'core/local-audit';

export interface AuditEntry {
  /** "audit" for API-created devices (OpenBao's auditTableType). */
  table: 'audit';
  /** Always ends with "/", e.g. "file/". */
  path: string;
  type: string;
  description: string;
  uuid: string;
  accessor: string;
  /** As given on enable (strings), e.g. { file_path, hmac_accessor, log_raw, mode, format, prefix }. */
  options: Record<string, string>;
  local: boolean;
}

export interface AuditTable {
  type: 'audit';
  entries: AuditEntry[];
}

export function auditSaltKey(uuid: string): string {
  return `audit/${uuid}/salt`;
}

export function tableKeyOf(local: boolean): string {
  return local ? LOCAL_AUDIT_TABLE_KEY : AUDIT_TABLE_KEY;
}

/** Both tables as stored now (replicated first), straight from physical storage. */
export function readAuditEntries(physical: PhysicalReader, crypto: ValueCrypto): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const key of [AUDIT_TABLE_KEY, LOCAL_AUDIT_TABLE_KEY]) {
    const blob = physical.get(key);
    if (blob === undefined) continue;
    const t = JSON.parse(crypto.decrypt(key, blob).toString('utf8')) as AuditTable;
    if (Array.isArray(t.entries)) out.push(...t.entries);
  }
  return out;
}
