// A typed client for Coffer's (Vault-compatible) HTTP API. The CLI is built on it.
import type { HealthInfo, InitResult, KeyStatus, SealStatus } from '../actors/core/messages.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.length > 0 ? `Code: ${status}. Errors:\n\n* ${errors.join('\n* ')}` : `Code: ${status}. Errors: (none)`);
  }
}

export interface ClientOptions {
  address?: string;
  token?: string | null;
}

export function defaultAddress(): string {
  return process.env.COFFER_ADDR ?? process.env.VAULT_ADDR ?? 'http://127.0.0.1:8200';
}

export function defaultToken(): string | null {
  return process.env.COFFER_TOKEN ?? process.env.VAULT_TOKEN ?? null;
}

export interface Envelope<T> {
  request_id: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: T;
  warnings: string[] | null;
}

export class Client {
  readonly address: string;
  token: string | null;

  constructor(opts: ClientOptions = {}) {
    this.address = (opts.address ?? defaultAddress()).replace(/\/$/, '');
    this.token = opts.token === undefined ? defaultToken() : opts.token;
  }

  /** One request; returns the parsed JSON body (null for 204), throws ApiError for any non-2xx. */
  async request<T = unknown>(method: string, path: string, body?: unknown, opts: { okStatuses?: number[] } = {}): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
    if (this.token) headers['X-Vault-Token'] = this.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${this.address}/v1/${path.replace(/^\//, '')}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const parsed = text === '' ? null : (JSON.parse(text) as unknown);
    if (!res.ok && !(opts.okStatuses ?? []).includes(res.status)) {
      const errors = (parsed as { errors?: string[] } | null)?.errors ?? [];
      throw new ApiError(res.status, errors);
    }
    return { status: res.status, body: parsed as T };
  }

  async initStatus(): Promise<boolean> {
    return (await this.request<{ initialized: boolean }>('GET', 'sys/init')).body.initialized;
  }
  async init(opts: { secret_shares: number; secret_threshold: number }): Promise<InitResult> {
    return (await this.request<InitResult>('PUT', 'sys/init', opts)).body;
  }
  async unseal(key: string): Promise<SealStatus> {
    return (await this.request<SealStatus>('PUT', 'sys/unseal', { key })).body;
  }
  async unsealReset(): Promise<SealStatus> {
    return (await this.request<SealStatus>('PUT', 'sys/unseal', { reset: true })).body;
  }
  async sealStatus(): Promise<SealStatus> {
    return (await this.request<SealStatus>('GET', 'sys/seal-status')).body;
  }
  async seal(): Promise<void> {
    await this.request('PUT', 'sys/seal');
  }
  /** Health answers with non-2xx codes by design (sealed 503, uninitialised 501, standby 429). */
  async health(): Promise<{ status: number; body: HealthInfo }> {
    return this.request<HealthInfo>('GET', 'sys/health', undefined, { okStatuses: [429, 472, 473, 501, 503] });
  }
  async leader(): Promise<{ ha_enabled: boolean }> {
    return (await this.request<{ ha_enabled: boolean }>('GET', 'sys/leader')).body;
  }
  async rotate(): Promise<void> {
    await this.request('PUT', 'sys/rotate');
  }
  async keyStatus(): Promise<KeyStatus> {
    return (await this.request<Envelope<KeyStatus>>('GET', 'sys/key-status')).body.data;
  }
  async rawWrite(path: string, value: string): Promise<void> {
    await this.request('PUT', `sys/raw/${path}`, { value });
  }
  async rawRead(path: string): Promise<string | null> {
    try {
      return (await this.request<Envelope<{ value: string }>>('GET', `sys/raw/${path}`)).body.data.value;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }
  async rawList(path: string): Promise<string[]> {
    try {
      return (await this.request<Envelope<{ keys: string[] }>>('LIST', `sys/raw/${path}`)).body.data.keys;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return [];
      throw e;
    }
  }
  async rawDelete(path: string): Promise<void> {
    await this.request('DELETE', `sys/raw/${path}`);
  }
}
