// The cluster PKI for the Raft peer transport: one cluster CA (self-signed, ECDSA P-256) and one
// certificate per node, signed by it, with the node id as subject CN and as a DNS SAN, usable for both
// TLS server and client auth (every peer connection is mutual TLS). Real X.509 via @peculiar/x509 on
// node's webcrypto; everything is returned as PEM, ready for node:tls.
// @peculiar/x509 (via tsyringe) needs a Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { assert } from '../../runtime/assert.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

export interface ClusterCa {
  certPem: string;
  keyPem: string;
}

export interface NodeCert {
  /** The node's certificate (leaf only). */
  certPem: string;
  keyPem: string;
  /** The CA certificate peers are verified against. */
  caPem: string;
}

/** A fresh cluster CA, valid `days` days (default 10 years). */
export async function createClusterCa(opts: { name?: string; days?: number } = {}): Promise<ClusterCa> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${escapeDn(opts.name ?? 'Coffer cluster CA')}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (opts.days ?? 3650) * DAY_MS),
    signingAlgorithm: ALG,
    keys: keys as unknown as CryptoKeyPair,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as CryptoKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** A node certificate for `nodeId` signed by the cluster CA, valid `days` days (default 1 year). */
export async function issueNodeCert(ca: ClusterCa, nodeId: string, opts: { days?: number; ipAddresses?: string[] } = {}): Promise<NodeCert> {
  assert(/^[A-Za-z0-9._-]{1,64}$/.test(nodeId), `node id ${JSON.stringify(nodeId)} must be 1-64 of [A-Za-z0-9._-]`);
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), ALG, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - 60_000);
  const names: { type: 'dns' | 'ip'; value: string }[] = [{ type: 'dns', value: nodeId }];
  for (const ip of opts.ipAddresses ?? ['127.0.0.1']) names.push({ type: 'ip', value: ip });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${nodeId}`,
    issuer: caCert.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (opts.days ?? 365) * DAY_MS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey as unknown as CryptoKey,
    signingKey: caKey as unknown as CryptoKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as CryptoKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey), caPem: ca.certPem };
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // positive INTEGER
  return Buffer.from(bytes).toString('hex');
}

function escapeDn(s: string): string {
  return s.replace(/([,+"\\<>;=])/g, '\\$1');
}

const HA_ALG = { name: 'ECDSA', namedCurve: 'P-521', hash: 'SHA-512' } as const;

export interface HaAdvertCert {
  /** DER of a fresh self-signed ECDSA P-521 certificate, base64. */
  certDerB64: string;
  /** The private key as Vault's cluster_key_params: {type: "p521", x, y, d} (base64url JWK coordinates). */
  keyParams: { type: 'p521'; x: string; y: string; d: string };
}

/**
 * The active node's advertisement certificate (core/leader/<uuid>): a fresh self-signed ECDSA P-521
 * certificate and key, generated each time a node becomes active. Standbys will use it for the mutually
 * authenticated request-forwarding link (not wired yet: docs/ha.md).
 */
export async function createHaAdvertCert(nodeId: string): Promise<HaAdvertCert> {
  const keys = await webcrypto.subtle.generateKey(HA_ALG, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${escapeDn(`coffer-ha-${nodeId}`)}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + 3650 * DAY_MS),
    signingAlgorithm: HA_ALG,
    keys: keys as unknown as CryptoKeyPair,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true)],
  });
  const jwk = await webcrypto.subtle.exportKey('jwk', keys.privateKey);
  return {
    certDerB64: Buffer.from(cert.rawData).toString('base64'),
    keyParams: { type: 'p521', x: String(jwk.x), y: String(jwk.y), d: String(jwk.d) },
  };
}
