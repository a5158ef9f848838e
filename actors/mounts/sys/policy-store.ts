// ACL policies in storage: sys/policy/<name> → barrier-encrypted JSON {name, raw, type}.
export const POLICY_PREFIX = 'sys/policy/';
export const policyKey = (name: string) => `${POLICY_PREFIX}${name}`;

export interface StoredPolicy {
  name: string;
  /** The policy text as written (HCL or JSON), returned verbatim by reads. */
  raw: string;
  type: 'acl';
}
