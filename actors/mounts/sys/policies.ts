// sys/policies/acl/<name> and the legacy sys/policy/<name> (OpenBao's handlePolicies* and policy store:
// facts from internal/vault/logical_system.go and policy/policy_store.go, own code).
import { CofferError } from '../../../runtime/errors.js';
import type { FieldSchema, Handler, HandlerRequest, LogicalResponse, PathSpec, StorageView } from '../framework/types.js';
import { ROOT_POLICY_NAME } from '../policy/builtin.js';
import { assertPolicyDeletable, assertPolicyWritable, decodePolicyBody, normalizePolicyName, parsePolicy } from '../policy/parse.js';
import { listPolicyNames, policyKey, readPolicy, type StoredPolicy } from './policy-store.js';
import { badRequest } from './util.js';

type Flavour = 'acl' | 'legacy';

const policyFields: Record<string, FieldSchema> = {
  policy: { type: 'string', description: 'The policy document (HCL or JSON), optionally base64-encoded.' },
  cas: { type: 'int', description: '[OB] Check-and-set: the current version (-1: only if absent).' },
  cas_required: { type: 'bool', description: '[OB] Require cas on every later write.' },
};

/** LIST (and for the legacy path, GET with no name): stored names with the prefix, then `root`. */
async function listPolicies(flavour: Flavour, prefix: string, storage: StorageView): Promise<LogicalResponse> {
  const keys = await listPolicyNames(storage, prefix);
  if (prefix === '') keys.push(ROOT_POLICY_NAME);
  if (flavour === 'legacy') return { data: { keys, policies: keys }, injectData: true };
  return { data: { keys } };
}

async function readOne(flavour: Flavour, name: string, storage: StorageView): Promise<LogicalResponse> {
  const n = normalizePolicyName(name);
  const stored: StoredPolicy | undefined = n === ROOT_POLICY_NAME ? { name: ROOT_POLICY_NAME, raw: '', type: 'acl' } : await readPolicy(storage, n);
  if (!stored) throw new CofferError('COFFER_ERR_NOT_FOUND');
  const data: Record<string, unknown> = { name: n };
  data[flavour === 'legacy' ? 'rules' : 'policy'] = stored.raw;
  data.version = stored.version ?? 0;
  data.cas_required = stored.cas_required ?? false;
  if (stored.modified) data.modified = stored.modified;
  return flavour === 'legacy' ? { data, injectData: true } : { data };
}

/** PUT/POST (and PATCH with `patch`): validate, check-and-set, store the text verbatim. */
async function writeOne(flavour: Flavour, req: HandlerRequest, storage: StorageView, patch: boolean): Promise<LogicalResponse | null> {
  const given = req.params.name ?? '';
  const name = given.toLowerCase();
  const warnings: string[] = [];
  if (name === '') badRequest('policy name must be provided in the URL');
  if (given !== name) warnings.push(`policy name was converted to ${name}`);

  const existing = name === ROOT_POLICY_NAME ? undefined : await storage.getJson<StoredPolicy>(policyKey(normalizePolicyName(name)));
  if (patch && !existing) throw new CofferError('COFFER_ERR_NOT_FOUND', 'policy not found');

  let raw = typeof req.fields.policy === 'string' ? req.fields.policy : '';
  if (patch && req.data.policy === undefined && existing) raw = existing.raw;
  if (raw === '' && flavour === 'legacy') {
    const rules = req.data.rules;
    raw = typeof rules === 'string' ? rules : '';
    warnings.push("'rules' is deprecated, please use 'policy' instead");
  }
  if (raw === '') badRequest("'policy' parameter not supplied or empty");
  raw = decodePolicyBody(raw);
  await parsePolicy(name, raw, { now: req.nowMs });

  const n = assertPolicyWritable(name);
  const casRequiredGiven = req.data.cas_required !== undefined ? (req.fields.cas_required as boolean) : patch ? (existing?.cas_required ?? false) : false;
  const casRequired = (existing?.cas_required ?? false) || casRequiredGiven;
  let cas: number | undefined = req.data.cas !== undefined ? (req.fields.cas as number) : undefined;
  if (patch && cas === undefined) cas = existing?.version ?? 0;
  if (cas === undefined && casRequired) badRequest('check-and-set parameter required for this call');
  if (cas !== undefined) {
    if (cas === -1 && existing) badRequest('check-and-set parameter set to -1 on existing entry');
    if (cas !== -1 && cas !== (existing?.version ?? 0)) badRequest('check-and-set parameter did not match the current version');
  }
  const stored: StoredPolicy = {
    name: n,
    raw,
    type: 'acl',
    version: (existing?.version ?? 0) + 1,
    cas_required: casRequiredGiven,
    modified: new Date(req.nowMs).toISOString(),
  };
  storage.putJson(policyKey(n), stored);
  return warnings.length > 0 ? { warnings } : null;
}

async function deleteOne(name: string, storage: StorageView): Promise<null> {
  const n = assertPolicyDeletable(name);
  storage.delete(policyKey(n));
  return null;
}

const methodNotAllowed = (): never => {
  throw new CofferError('COFFER_ERR_METHOD_NOT_ALLOWED');
};

function specFor(flavour: Flavour): PathSpec {
  const base = flavour === 'acl' ? 'policies/acl' : 'policy';
  // One pattern serves the list (`policies/acl`, `policies/acl/` as LIST sends it) and the named operations.
  const named = (f: (name: string, req: HandlerRequest, storage: StorageView) => Promise<LogicalResponse | null>): Handler => async (req, storage) => {
    const name = req.params.name ?? '';
    return f(name, req, storage);
  };
  const fields: Record<string, FieldSchema> =
    flavour === 'legacy' ? { ...policyFields, rules: { type: 'string', description: 'Deprecated: use policy.' } } : policyFields;
  const operations: PathSpec['operations'] = {
    read: named((name, _req, storage) => (name === '' ? (flavour === 'legacy' ? listPolicies(flavour, '', storage) : methodNotAllowed()) : readOne(flavour, name, storage))),
    list: named((name, _req, storage) => listPolicies(flavour, name, storage)),
    update: named((name, req, storage) => (name === '' ? methodNotAllowed() : writeOne(flavour, req, storage, false))),
    delete: named((name, _req, storage) => (name === '' ? methodNotAllowed() : deleteOne(name, storage))),
  };
  if (flavour === 'acl') operations.patch = named((name, req, storage) => (name === '' ? methodNotAllowed() : writeOne(flavour, req, storage, true)));
  return {
    pattern: `${base}/:name*`,
    fields,
    operations,
    help: {
      synopsis: flavour === 'acl' ? 'Read, write, delete and list ACL policies.' : 'Legacy ACL policy endpoints (rules instead of policy).',
      description: 'ACL policies are stored verbatim at sys/policy/<name> after parsing; names are lower-cased; root cannot be written or deleted, default cannot be deleted.',
    },
  };
}

export const policyPaths: PathSpec[] = [specFor('acl'), specFor('legacy')];
