// `?help=1`: help text and an OpenAPI description generated from the same path table that routes
// and validates requests, so documentation cannot drift from behaviour.
import type { FieldSchema, MountInfo, Operation, PathSpec } from './types.js';

const OPENAPI_TYPES: Record<FieldSchema['type'], Record<string, unknown>> = {
  string: { type: 'string' },
  int: { type: 'integer' },
  bool: { type: 'boolean' },
  duration: { type: 'string', format: 'duration' },
  map: { type: 'object' },
  object: { type: 'object' },
  'string-slice': { type: 'array', items: { type: 'string' } },
  'comma-string-slice': { type: 'array', items: { type: 'string' }, format: 'commastring' },
  any: {},
};

const METHOD_OF: Record<Operation, string> = { read: 'get', list: 'get', create: 'post', update: 'post', patch: 'patch', delete: 'delete' };

/** Vault's path syntax for a pattern: "data/:path+" → "data/{path}". */
export function openApiPath(mount: MountInfo, pattern: string): string {
  return `/${mount.path}${pattern.replace(/:([a-z_][a-z0-9_]*)[*+]?/gi, '{$1}')}`;
}

export function helpResponse(mount: MountInfo, spec: PathSpec): { help: string; openapi: Record<string, unknown> } {
  const fields = Object.entries(spec.fields ?? {});
  const fieldHelp = fields.map(([name, f]) => `    ${name} (${f.type}${f.required ? ', required' : ''})\n        ${f.description}`).join('\n\n');
  const help = [
    'Request:        ' + `${mount.path}${spec.pattern}`,
    `Matching Route: ^${spec.pattern.replace(/:([a-z_][a-z0-9_]*)[*+]?/gi, '(?P<$1>.+)')}$`,
    '',
    spec.help.synopsis,
    '',
    ...(fields.length > 0 ? ['## PARAMETERS', '', fieldHelp, ''] : []),
    '## DESCRIPTION',
    '',
    spec.help.description,
  ].join('\n');
  const operations: Record<string, unknown> = {};
  for (const op of Object.keys(spec.operations) as Operation[]) {
    const method = METHOD_OF[op];
    if (operations[method]) continue;
    operations[method] = {
      summary: spec.help.synopsis,
      operationId: `${op}-${mount.type}-${spec.pattern.replace(/[^a-z0-9]+/gi, '-')}`,
      ...(method === 'post' || method === 'patch'
        ? { requestBody: { content: { 'application/json': { schema: { type: 'object', properties: Object.fromEntries(fields.map(([n, f]) => [n, { ...OPENAPI_TYPES[f.type], description: f.description }])) } } } } }
        : {}),
      responses: { '200': { description: 'OK' } },
    };
  }
  return {
    help,
    openapi: { openapi: '3.0.2', info: { title: 'Coffer API', version: '0.1.0' }, paths: { [openApiPath(mount, spec.pattern)]: { description: spec.help.synopsis, ...operations } } },
  };
}
