// What the server configuration allows for audit devices (OpenBao config.go, HCSEC-2025-14):
// `unsafe_allow_api_audit_creation` (default false) gates `PUT sys/audit/<path>`, and
// `allow_audit_log_prefixing` (default false) gates the `prefix` option. Each handler worker is told
// at start (workerData) and keeps it here, where the sys/audit handler reads it.

export interface AuditSettings {
  /** Config `unsafe_allow_api_audit_creation`; dev nodes set it (docs/audit.md). */
  allowApiCreation?: boolean;
  /** Config `allow_audit_log_prefixing`. */
  allowPrefixing?: boolean;
}

let current: Required<AuditSettings> = { allowApiCreation: false, allowPrefixing: false };

export function setAuditSettings(s: AuditSettings | undefined): void {
  current = { allowApiCreation: s?.allowApiCreation === true, allowPrefixing: s?.allowPrefixing === true };
}

export function auditSettings(): Readonly<Required<AuditSettings>> {
  return current;
}
