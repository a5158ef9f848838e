// The embedded SDK: start a node in-process and talk to it with a typed client.
import { startDevNode, type DevNodeOptions } from '../actors/node/node.js';
import { Client } from './client.js';

export {
  Client,
  ApiError,
  type ClientOptions,
  type Envelope,
  type AuthInfo,
  type KvSecret,
  type KvVersionMetadata,
  type KvMetadata,
  type KvMetadataInput,
  type KvConfig,
  type TokenCreateRequest,
  type TokenLookup,
  type MountInput,
  type MountConfigInput,
  type MountEntry,
  type MountTune,
  type MountTuneInput,
  type UiMount,
  type ResponseRecord,
} from './client.js';

export interface EmbeddedNode {
  /** Base URL of the node's listener (ephemeral port on 127.0.0.1 by default). */
  address: string;
  rootToken: string;
  unsealKey: string;
  dataDir: string;
  /** A client already holding the root token. */
  client: Client;
  close(): Promise<void>;
}

/** Starts a dev node in this process: fresh temp dir, one unseal share, unsealed, ephemeral port. */
export async function startNode(opts: DevNodeOptions = {}): Promise<EmbeddedNode> {
  const node = await startDevNode({ listenAddress: '127.0.0.1:0', logLevel: 'warn', ...opts });
  return {
    address: node.url,
    rootToken: node.rootToken,
    unsealKey: node.unsealKey,
    dataDir: node.dataDir,
    client: new Client({ address: node.url, token: node.rootToken }),
    close: () => node.close(),
  };
}
