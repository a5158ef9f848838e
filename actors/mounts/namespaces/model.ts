// Namespaces (Vault Enterprise's and OpenBao's): each is a mini-Coffer with its own mount table, auth
// table, policies and mount data. Everything a namespace owns lives under one storage segment,
// `namespaces/<id>/` (OpenBao's layout), so that a later step can give each segment a Raft group of its own.
// Each namespace's entry is a value of its own in the root segment (store.ts), read as requests reach it
// (directory.ts).
import { randomBase62 } from '../../core/tokens.js';

export const ROOT_NAMESPACE_ID = 'root';

/** One namespace as stored and as sys/namespaces answers for it (OpenBao's fields). */
export interface NamespaceEntry {
  /** 6 base62 characters, as OpenBao's (Vault Enterprise's are 5); "root" is the root namespace's. */
  id: string;
  /** Names the storage segment, so that a namespace deleted and created again never sees old data. */
  uuid: string;
  /** Full path from the root, with a trailing "/": "team1/", "team1/dev/". The root's is "". */
  path: string;
  custom_metadata: Record<string, string>;
  /** API-locked (sys/namespaces/api-lock): requests in it and below answer 503 until it is unlocked. */
  locked?: boolean;
  /** The key that unlocks it (24 base62), a secret: answered once, by the lock; compared in constant time. */
  unlock_key?: string;
  /**
   * Created with a seal of its own (OpenBao's sealable namespaces, docs/namespace-seals.md): its segment,
   * and the segments of its non-sealable descendants, are encrypted with its own keyring.
   */
  sealable?: boolean;
  /**
   * Sealed through sys/namespaces/:path/seal (OpenBao's manually_sealed): every node forgets its keyring
   * when it applies this, and no node hands the keyring to another until an unseal clears it.
   */
  manually_sealed?: boolean;
}

export interface NamespaceTable {
  entries: NamespaceEntry[];
}

/** Where the request ran and whose data it sees (handlers get it through MountInfo.namespace). */
export interface NamespaceRef {
  id: string;
  uuid: string;
  path: string;
}

export const ROOT_NAMESPACE: NamespaceRef = Object.freeze({ id: ROOT_NAMESPACE_ID, uuid: '00000000-0000-0000-0000-000000000000', path: '' });

/** The storage segment of a namespace: "" for the root (which predates namespaces), else `namespaces/<uuid>/`. */
export function namespaceSegment(ns: NamespaceRef | undefined): string {
  return ns === undefined || ns.id === ROOT_NAMESPACE_ID ? '' : `namespaces/${ns.uuid}/`;
}

export function refOf(entry: NamespaceRef): NamespaceRef {
  return { id: entry.id, uuid: entry.uuid, path: entry.path };
}

export function isRootNamespace(ns: NamespaceRef | undefined): boolean {
  return ns === undefined || ns.id === ROOT_NAMESPACE_ID;
}

/**
 * The namespace an X-Vault-Namespace header names, as a path prefix: "team1/" for "team1", "/team1/" or
 * "team1/"; "" for the root ("", "/", "root", "root/"). Vault Enterprise and OpenBao put it in front of the
 * request path.
 */
export function namespaceHeaderPath(header: string | string[] | undefined): string {
  const ns = (Array.isArray(header) ? header[0] : header)?.trim().replace(/^\/+|\/+$/g, '') ?? '';
  return ns === '' || ns === ROOT_NAMESPACE_ID ? '' : `${ns}/`;
}

/** Whether `inner` is `outer` or one of its descendants (a token of `outer` may act in `inner`). */
export function withinNamespace(outer: NamespaceRef, inner: NamespaceRef): boolean {
  return inner.path.startsWith(outer.path);
}

/**
 * The cluster's own sys/ paths: a namespace's sys/ refuses them with OpenBao's 400 "operation only
 * available in root namespace" (seal, raft, audit devices, quotas, metrics, lease tidy, raw storage, keys).
 */
const ROOT_ONLY_SYS = /^sys\/(init|seal|seal-status|unseal|step-down|health|leader|ha-status|storage|raw|rotate|key-status|host-info|config|generate-root|rekey|audit|audit-hash|quotas|metrics|leases\/tidy|in-flight-req|internal\/counters)(\/|$)/;

export function rootOnlySysPath(relPath: string): boolean {
  return ROOT_ONLY_SYS.test(relPath);
}

/** Names OpenBao reserves: a namespace of that name would shadow a built-in path. */
const RESERVED_NAMES = ['.', '..', 'root', 'sys', 'audit', 'auth', 'cubbyhole', 'identity'];

/** Why a namespace name is refused (OpenBao's messages), or null. Names are one segment: nesting goes through the parent. */
export function namespaceNameError(name: string): string | null {
  if (name === '') return 'namespace name cannot be empty';
  if (name.includes('/')) return 'namespace name cannot contain /';
  // Case-insensitively: "ROOT" next to the root namespace invites the confusion behind GHSA-mwr2-wmgp-crj6.
  if (RESERVED_NAMES.includes(name.toLowerCase())) return `${JSON.stringify(`${name}/`)} is a reserved path and cannot be used as a namespace name`;
  if (/\s/.test(name)) return `${JSON.stringify(name)} contains space characters that cannot be used in a namespace name`;
  if (/[+*]/.test(name)) return `namespace name contains wildcard characters that cannot be used in a namespace name: ${JSON.stringify(name)}`;
  if (/[^\x21-\x7e]/.test(name)) return `namespace name contains unicode characters that cannot be used in a namespace name: ${JSON.stringify(name)}`;
  return null;
}

/** A new namespace id: 6 base62 characters, drawn until `taken` says no namespace has it. */
export async function newNamespaceId(taken: (id: string) => Promise<boolean>): Promise<string> {
  for (;;) {
    const id = randomBase62(6);
    if (id !== ROOT_NAMESPACE_ID && !(await taken(id))) return id;
  }
}

/** The public shape of a namespace (OpenBao's: `path` is always the full path). */
export function namespaceView(entry: NamespaceEntry): Record<string, unknown> {
  return { id: entry.id, uuid: entry.uuid, path: entry.path, custom_metadata: { ...entry.custom_metadata }, tainted: false, locked: entry.locked === true };
}

export interface SealOwner {
  uuid: string;
  sealed: boolean;
}

