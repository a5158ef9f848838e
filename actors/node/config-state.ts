// sys/config/state/sanitized: the configuration this node runs with, in Vault's shape (listeners, storage,
// top-level settings), without anything secret. Coffer's config holds no secret values (TLS material is
// given as file paths, the seal is Shamir), so sanitising means leaving out what is not configuration
// (callbacks) and spelling durations as Vault does.
import type { NodeConfig } from './node.js';

export function sanitizedConfig(config: NodeConfig): Record<string, unknown> {
  const l = config.listener;
  const listenerConfig: Record<string, unknown> = { address: l.address, tls_disable: l.tlsDisable };
  if (l.tlsCertFile) listenerConfig['tls_cert_file'] = l.tlsCertFile;
  if (l.tlsKeyFile) listenerConfig['tls_key_file'] = l.tlsKeyFile;
  if (l.maxRequestDurationMs !== undefined) listenerConfig['max_request_duration'] = `${l.maxRequestDurationMs / 1000}s`;
  if (l.maxRequestJsonStrings !== undefined) listenerConfig['max_request_json_strings'] = l.maxRequestJsonStrings;
  if (l.maxRequestJsonMemory !== undefined) listenerConfig['max_request_json_memory'] = l.maxRequestJsonMemory;
  listenerConfig['disable_unauthed_generate_root_endpoints'] = l.unauthedGenerateRoot !== true;
  listenerConfig['disable_unauthed_rekey_endpoints'] = l.unauthedRekey !== true;
  const storage: Record<string, unknown> = { type: 'raft', cluster_addr: config.clusterAddr ?? '', redirect_addr: config.apiAddr ?? '', disable_clustering: false };
  if (config.nodeId) storage['node_id'] = config.nodeId;
  if (config.snapshotThreshold !== undefined) storage['snapshot_threshold'] = config.snapshotThreshold;
  return {
    api_addr: config.apiAddr ?? '',
    cluster_addr: config.clusterAddr ?? '',
    raw_storage_endpoint: config.rawStorageEndpoint,
    disable_standby_reads: config.disableStandbyReads === true,
    log_level: config.logLevel ?? '',
    unsafe_allow_api_audit_creation: config.audit?.allowApiCreation === true,
    allow_audit_log_prefixing: config.audit?.allowPrefixing === true,
    listeners: [{ type: 'tcp', config: listenerConfig }],
    storage,
  };
}
