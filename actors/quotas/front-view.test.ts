// The front's view in parts: which part a write changed, and how a partial view merges into the whole.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuotaEnforcer } from './enforcer.js';
import { defaultQuotaConfig } from './model.js';
import { frontViewScopeOf, type FrontView, type FrontViewNamespace, type FrontViewScope } from './front-view.js';

const view = (scope: FrontViewScope, namespaces: FrontViewNamespace[]): FrontView => ({ scope, namespaces, quotas: [], config: defaultQuotaConfig(), unsealed: true });
const ns = (path: string, ...mounts: string[]): FrontViewNamespace => ({ path, mounts: mounts.map((m) => ({ path: path + m, type: 'kv' })) });

describe('front view scopes', () => {
  it('names the part of the view a write may have changed', () => {
    assert.deepEqual(frontViewScopeOf('sys/mounts/secret'), { t: 'namespace', path: '' });
    assert.deepEqual(frontViewScopeOf('team1/dev/sys/auth/userpass'), { t: 'namespace', path: 'team1/dev/' });
    assert.deepEqual(frontViewScopeOf('sys/namespaces/team1'), { t: 'subtree', path: 'team1/' });
    assert.deepEqual(frontViewScopeOf('team1/sys/namespaces/dev/seal'), { t: 'subtree', path: 'team1/dev/' });
    assert.deepEqual(frontViewScopeOf('team1/sys/namespaces/api-lock/lock/dev'), { t: 'quotas' });
    assert.deepEqual(frontViewScopeOf('sys/quotas/rate-limit/q'), { t: 'quotas' });
    assert.deepEqual(frontViewScopeOf('sys/remount'), { t: 'all' });
    assert.equal(frontViewScopeOf('sys/policies/acl/p'), null);
  });

  it('a partial view replaces only the namespaces it covers', () => {
    const q = new QuotaEnforcer();
    q.setView(view({ t: 'all' }, [ns('', 'secret/'), ns('team1/', 'kv/'), ns('team1/dev/', 'kv/'), ns('team2/', 'kv/')]));
    assert.equal(q.mountOf('team1/dev/kv/data/x')?.path, 'team1/dev/kv/');
    assert.equal(q.namespaceOf('team1/dev/kv/data/x'), 'team1/dev/');
    // A mount enabled in team1: only team1's own tables come back.
    q.setView(view({ t: 'namespace', path: 'team1/' }, [ns('team1/', 'kv/', 'new/')]));
    assert.equal(q.mountOf('team1/new/x')?.path, 'team1/new/');
    assert.equal(q.mountOf('team1/dev/kv/x')?.path, 'team1/dev/kv/', 'the child namespace stays');
    // team1/dev/ deleted: its subtree comes back empty.
    q.setView(view({ t: 'subtree', path: 'team1/dev/' }, []));
    assert.equal(q.namespaceOf('team1/dev/kv/x'), 'team1/');
    assert.equal(q.mountOf('team1/dev/kv/x'), null);
    assert.equal(q.mountOf('team2/kv/x')?.path, 'team2/kv/');
    // A quotas-only view leaves the namespaces alone; a full one replaces everything.
    q.setView(view({ t: 'quotas' }, []));
    assert.equal(q.mountOf('secret/data/x')?.path, 'secret/');
    q.setView(view({ t: 'all' }, [ns('', 'other/')]));
    assert.equal(q.mountOf('secret/data/x'), null);
    assert.equal(q.mountOf('team2/kv/x'), null);
  });
});
