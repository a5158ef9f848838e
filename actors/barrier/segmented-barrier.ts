// The barrier of a node that has sealable namespaces (docs/namespace-seals.md): a value under
// `namespaces/<uuid>/` whose namespace is sealable, or lies below a sealable one, is encrypted with that
// sealable namespace's own keyring; every other value with the root keyring. A value of a sealable
// namespace whose keyring this node does not hold (sealed) cannot be read or written here: 503
// "namespace is sealed". Each value is encrypted exactly once, by exactly one keyring.
import { CofferError } from '../../runtime/errors.js';
import { Barrier } from './barrier.js';

const SEGMENT_PREFIX = 'namespaces/';

/** The uuid of the namespace segment a storage key lies in, or null for the root segment. */
export function segmentUuidOf(key: string): string | null {
  if (!key.startsWith(SEGMENT_PREFIX)) return null;
  const end = key.indexOf('/', SEGMENT_PREFIX.length);
  return end < 0 ? null : key.slice(SEGMENT_PREFIX.length, end);
}

export class SegmentedBarrier extends Barrier {
  /**
   * root: the root keyring's barrier. sealOwnerOf: for a segment's uuid, the sealable namespace whose
   * keyring encrypts it and whether it was sealed on purpose, or null (root keyring). unsealed: the
   * barriers of the sealable namespaces whose keyrings this node holds, by uuid.
   */
  constructor(
    readonly root: Barrier,
    private readonly sealOwnerOf: (segmentUuid: string) => { uuid: string; sealed: boolean } | null,
    private readonly unsealed: ReadonlyMap<string, Barrier>,
  ) {
    super(root.keyring);
  }

  override encrypt(path: string, plaintext: Uint8Array): Buffer {
    return this.barrierFor(path).encrypt(path, plaintext);
  }

  override decrypt(path: string, blob: Uint8Array): Buffer {
    return this.barrierFor(path).decrypt(path, blob);
  }

  /** `path`'s value under the keyring of `viaPath` (a namespace created below a sealable one, in the same write-set). */
  encryptVia(viaPath: string, path: string, plaintext: Uint8Array): Buffer {
    return this.barrierFor(viaPath).encrypt(path, plaintext);
  }

  /** Only the root keyring's counts are reported (namespace keyrings are not rotated by usage yet). */
  override takeEncryptions(): [term: number, count: number][] {
    return this.root.takeEncryptions();
  }

  /** The barrier for a storage key; throws COFFER_ERR_NAMESPACE_SEALED for a sealed namespace's key. */
  barrierFor(path: string): Barrier {
    const uuid = segmentUuidOf(path);
    const barrier = uuid === null ? this.root : this.segmentBarrier(uuid);
    if (barrier === null) throw new CofferError('COFFER_ERR_NAMESPACE_SEALED');
    return barrier;
  }

  /**
   * Whether a namespace's segment can be read and written here: it is under the root keyring, or under a
   * sealable namespace's keyring that this node holds and that was not sealed on purpose since.
   */
  available(segmentUuid: string): boolean {
    return this.segmentBarrier(segmentUuid) !== null;
  }

  private segmentBarrier(segmentUuid: string): Barrier | null {
    const owner = this.sealOwnerOf(segmentUuid);
    if (owner === null) return this.root;
    return owner.sealed ? null : (this.unsealed.get(owner.uuid) ?? null);
  }
}
