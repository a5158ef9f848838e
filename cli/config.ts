// The server configuration file, HCL as Vault writes it, parsed with a real HCL parser (hcl2json).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseHcl, releaseHclParser } from '../runtime/hcl.js';
import { raftLimits } from '../runtime/limits.js';
import type { NodeConfig } from '../actors/node/node.js';

type Block = Record<string, unknown>;

function firstBlock(value: unknown): Block | undefined {
  // hcl2json turns every block into an array of bodies; a labelled block is {label: [body]}.
  return Array.isArray(value) ? (value[0] as Block | undefined) : (value as Block | undefined);
}

function asBool(v: unknown, name: string): boolean {
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new Error(`config: ${name} must be a boolean`);
}

function asString(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Error(`config: ${name} must be a string`);
  return v;
}

function positiveInt(v: unknown, name: string): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new Error(`config: ${name} must be a positive integer`);
  return n;
}

function durationMs(v: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new Error(`config: ${name} must be a duration such as "2s" or "500ms"`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

export async function parseConfigText(fileName: string, text: string): Promise<Omit<NodeConfig, 'onFailStop'>> {
  let doc: Block;
  try {
    doc = (await parseHcl(fileName, text)) as Block;
  } catch (err) {
    throw new Error(`config: ${fileName} is not valid HCL: ${(err as Error).message}`);
  }
  const listeners = (doc.listener as Block | undefined)?.tcp;
  const listener = firstBlock(listeners);
  if (!listener) throw new Error('config: a listener "tcp" block is required');
  const raft = firstBlock((doc.storage as Block | undefined)?.raft);
  if (!raft) throw new Error('config: a storage "raft" block is required');
  const path = asString(raft.path, 'storage.raft.path');
  if (!path) throw new Error('config: storage "raft" needs a path');
  const tlsDisable = asBool(listener.tls_disable, 'listener.tls_disable');
  const config: Omit<NodeConfig, 'onFailStop'> = {
    dataDir: resolve(path),
    listener: {
      address: asString(listener.address, 'listener.address') ?? '127.0.0.1:8200',
      tlsDisable,
      ...(listener.tls_cert_file !== undefined ? { tlsCertFile: asString(listener.tls_cert_file, 'tls_cert_file') as string } : {}),
      ...(listener.tls_key_file !== undefined ? { tlsKeyFile: asString(listener.tls_key_file, 'tls_key_file') as string } : {}),
    },
    rawStorageEndpoint: asBool(doc.raw_storage_endpoint, 'raw_storage_endpoint'),
  };
  // Request limits and timeouts of the listener (Vault's names; actors/front/server.ts has the defaults).
  const intOption = (name: string): number | undefined => {
    const v = listener[name];
    if (v === undefined) return undefined;
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new Error(`config: listener.${name} must be an integer`);
    return n;
  };
  const durationOption = (name: string): number | undefined => {
    const v = asString(listener[name], `listener.${name}`);
    return v === undefined ? undefined : durationMs(v, `listener.${name}`);
  };
  const jsonStrings = intOption('max_request_json_strings');
  const jsonMemory = intOption('max_request_json_memory');
  const maxDuration = durationOption('max_request_duration');
  const headerTimeout = durationOption('http_read_header_timeout');
  const readTimeout = durationOption('http_read_timeout');
  if (jsonStrings !== undefined && jsonStrings !== 0) config.listener.maxRequestJsonStrings = jsonStrings;
  if (jsonMemory !== undefined && jsonMemory !== 0) config.listener.maxRequestJsonMemory = jsonMemory;
  if (maxDuration !== undefined && maxDuration > 0) config.listener.maxRequestDurationMs = maxDuration;
  if (headerTimeout !== undefined && headerTimeout > 0) config.listener.readHeaderTimeoutMs = headerTimeout;
  if (readTimeout !== undefined && readTimeout > 0) config.listener.readTimeoutMs = readTimeout;
  // OpenBao 2.5+: the unauthenticated generate-root and rekey endpoints are off unless a listener opts in.
  if (listener.disable_unauthed_generate_root_endpoints !== undefined && !asBool(listener.disable_unauthed_generate_root_endpoints, 'listener.disable_unauthed_generate_root_endpoints')) {
    config.listener.unauthedGenerateRoot = true;
  }
  if (listener.disable_unauthed_rekey_endpoints !== undefined && !asBool(listener.disable_unauthed_rekey_endpoints, 'listener.disable_unauthed_rekey_endpoints')) {
    config.listener.unauthedRekey = true;
  }
  const apiAddr = asString(doc.api_addr, 'api_addr');
  const clusterAddr = asString(doc.cluster_addr, 'cluster_addr');
  const nodeId = asString(raft.node_id, 'storage.raft.node_id');
  const logLevel = asString(doc.log_level, 'log_level');
  if (apiAddr) config.apiAddr = apiAddr;
  if (clusterAddr) config.clusterAddr = clusterAddr;
  if (nodeId) config.nodeId = nodeId;
  // retry_join { leader_api_addr, leader_ca_cert } (repeatable): join that cluster at start when uninitialised.
  const retryJoin = Array.isArray(raft.retry_join) ? (raft.retry_join as Block[]) : raft.retry_join ? [raft.retry_join as Block] : [];
  if (retryJoin.length > 0) {
    config.retryJoin = retryJoin.map((rj, i) => {
      const leaderApiAddr = asString(rj.leader_api_addr, `storage.raft.retry_join[${i}].leader_api_addr`);
      if (!leaderApiAddr) throw new Error('config: retry_join needs leader_api_addr (auto_join is not supported)');
      const ca = asString(rj.leader_ca_cert, `storage.raft.retry_join[${i}].leader_ca_cert`);
      return { leaderApiAddr, ...(ca ? { leaderCaCert: ca } : {}) };
    });
  }
  if (logLevel) config.logLevel = logLevel;
  // storage "raft" { snapshot_threshold }: log entries before the node snapshots its FSM and compacts (OpenBao's name).
  if (raft.snapshot_threshold !== undefined) config.snapshotThreshold = positiveInt(raft.snapshot_threshold, 'storage.raft.snapshot_threshold');
  // OpenBao (HCSEC-2025-14): audit devices may be enabled over the API only with this set (docs/audit.md).
  const allowApiCreation = asBool(doc.unsafe_allow_api_audit_creation, 'unsafe_allow_api_audit_creation');
  const allowPrefixing = asBool(doc.allow_audit_log_prefixing, 'allow_audit_log_prefixing');
  if (allowApiCreation || allowPrefixing) config.audit = { allowApiCreation, allowPrefixing };
  // Standby reads (docs/ha-standby-reads.md): on unless disable_standby_reads = true.
  if (asBool(doc.disable_standby_reads, 'disable_standby_reads')) config.disableStandbyReads = true;
  // Bounded staleness of standby reads (Coffer's own setting; docs/ha-standby-reads.md). Below two heartbeat
  // intervals a healthy standby would refuse between heartbeats.
  const staleness = asString(doc.max_standby_staleness, 'max_standby_staleness');
  if (staleness !== undefined) {
    const ms = durationMs(staleness, 'max_standby_staleness');
    const floor = 2 * raftLimits.heartbeatTicks * raftLimits.tickMs;
    if (ms < floor) throw new Error(`config: max_standby_staleness must be at least ${floor}ms (two Raft heartbeat intervals), got "${staleness}"`);
    config.staleReadBoundMs = ms;
  }
  const replication = firstBlock(doc.replication);
  const wait = asString(replication?.best_effort_wal_wait_duration, 'replication.best_effort_wal_wait_duration');
  if (wait !== undefined) config.indexWaitMs = durationMs(wait, 'replication.best_effort_wal_wait_duration');
  if (!tlsDisable && (!config.listener.tlsCertFile || !config.listener.tlsKeyFile)) {
    throw new Error('config: listener "tcp" needs tls_cert_file and tls_key_file, or tls_disable = true');
  }
  return config;
}

/** Reads and parses the server's configuration file; the HCL parser's thread is stopped after it (one parse per start). */
export async function parseConfigFile(file: string): Promise<Omit<NodeConfig, 'onFailStop'>> {
  try {
    return await parseConfigText(file, readFileSync(file, 'utf8'));
  } finally {
    await releaseHclParser();
  }
}
