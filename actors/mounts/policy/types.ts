// ACL policy types. Field names of PathRule follow Vault's HCL keys so a parsed rule reads like its source.

/**
 * A capability as written in a policy, plus two values only ever *reported*:
 * `'root'` (sys/capabilities for a root token) and `'scan'` (OpenBao's recursive list; parseable).
 * `parsePolicy` rejects `'root'` as an invalid capability, exactly as OpenBao does.
 */
export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny' | 'scan' | 'root';

/** A request operation that an ACL decides on. `'scan'` is OpenBao's recursive list. */
export type Operation = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'scan';

/** Vault's legacy `policy = "..."` shorthand. */
export type LegacyPolicy = 'read' | 'write' | 'deny' | 'sudo';

export interface PathRule {
  /** The pattern as written, minus one leading `/`. May end in `*` (prefix glob) or contain `+` segments. */
  path: string;
  /** Effective capabilities: legacy `policy` already folded in; `['deny']` alone when deny was present. */
  capabilities: Capability[];
  /** The legacy shorthand when it was written (already folded into `capabilities`). */
  policy?: LegacyPolicy;
  /** Keys lower-cased as Vault does. `[]` means any value; values may be `*`-globbed strings. */
  allowed_parameters?: Record<string, unknown[]>;
  denied_parameters?: Record<string, unknown[]>;
  required_parameters?: string[];
  /** Seconds. */
  min_wrapping_ttl?: number;
  /** Seconds. */
  max_wrapping_ttl?: number;
  /** [OB] maximum page size for list/scan; 0/absent = none. */
  pagination_limit?: number;
  /** [OB] RFC 3339; the rule is ignored once it has passed. */
  expiration?: string;
  /** [OB] free text. */
  comment?: string;
  /** [OB] kept verbatim, not evaluated by this library. */
  list_scan_response_keys_filter_path?: string;
  /** True when `path` contains `{{identity...}}` templating (resolved at compile time). */
  templated?: boolean;
}

export interface Policy {
  name: string;
  rules: PathRule[];
  raw: string;
  /** True when any rule is templated. */
  templated?: boolean;
}

/** The identity used to resolve templated policy paths. Absent → templated rules are skipped (OpenBao does the same). */
export interface TemplateIdentity {
  entity?: {
    id: string;
    name: string;
    metadata?: Record<string, string>;
    /** mount accessor → alias */
    aliases?: Record<string, { id?: string; name: string; metadata?: Record<string, string> }>;
  };
  /** group id → name, for `identity.groups.ids.<id>.name` / `identity.groups.names.<name>.id`. */
  groups?: Array<{ id: string; name: string; metadata?: Record<string, string> }>;
}
