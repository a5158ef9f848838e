// The embedded SDK end to end: start a dev node in this process, write a policy, mint a token that
// holds it, and use KV v2 as that token. Run it with `npm run build && node dist/examples/sdk.js`.
// (In another project: `import { startNode, Client } from 'coffer'`.)
import { ApiError, Client, startNode } from '../sdk/index.js';

export async function main(log: (line: string) => void = console.log): Promise<void> {
  const node = await startNode(); // temp storage, unsealed, ephemeral port, root client
  try {
    const root = node.client;

    // KV v2 at secret/ (a dev node mounts it): write, patch, read a version, list.
    await root.kvWrite('secret', 'app/db', { user: 'app', password: 's3cret' });
    const v2 = await root.kvPatch('secret', 'app/db', { password: 'rotated' });
    const latest = await root.kvRead<{ user: string; password: string }>('secret', 'app/db');
    const first = await root.kvRead('secret', 'app/db', { version: 1 });
    log(`version ${v2.version}: password=${latest?.data?.password}, version 1 had ${String(first?.data?.['password'])}`);
    log(`keys under secret/app: ${(await root.kvList('secret', 'app')).join(', ')}`);

    // A policy and a token holding it.
    await root.policyWrite('app-read', 'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n');
    const auth = await root.tokenCreate({ policies: ['app-read'], ttl: '1h', display_name: 'example' });
    const app = new Client({ address: node.address, token: auth.client_token });
    log(`token ${auth.accessor} policies: ${auth.policies.join(', ')}`);
    log(`capabilities on secret/data/app/db: ${(await app.capabilitiesSelf(['secret/data/app/db']))['secret/data/app/db']?.join(', ')}`);
    log(`as the app: password=${(await app.kvRead('secret', 'app/db'))?.data?.['password']}`);
    try {
      await app.kvWrite('secret', 'app/db', { password: 'nope' });
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 403) throw e;
      log('as the app: write refused (403 permission denied)');
    }

    // A KV v1 mount next to it.
    await root.mountEnable('legacy', { type: 'kv', options: { version: '1' }, description: 'v1 store' });
    await root.kv1Write('legacy', 'config', { region: 'eu' });
    log(`legacy/config: ${JSON.stringify(await root.kv1Read('legacy', 'config'))}`);
    log(`mounts: ${Object.keys(await root.mountList()).sort().join(' ')}`);

    await root.tokenRevoke(auth.client_token);
  } finally {
    await node.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
