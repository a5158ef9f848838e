// CLI plumbing: Vault-style single-dash flags and the Key/Value table output.

/**
 * Vault's CLI (Go's flag package) accepts `-dev` and `-key-shares=5` as well as `--dev`; commander only
 * knows `--long`. Multi-letter single-dash flags are rewritten; single letters (`-h`) and values pass.
 */
/**
 * The global namespace flag (Vault's `-namespace`, OpenBao's hidden `-ns`, which wins), accepted anywhere
 * on the line and taken out before commander sees it: every command's client reads it from COFFER_NAMESPACE.
 */
export function takeNamespaceFlag(argv: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  let ns: string | undefined;
  let short: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--?(namespace|ns)(?:=(.*))?$/.exec(arg);
    if (m === null) {
      out.push(arg);
      continue;
    }
    const value = m[2] ?? argv[++i] ?? '';
    if (m[1] === 'ns') short = value;
    else ns = value;
  }
  const chosen = short ?? ns;
  if (chosen !== undefined) env.COFFER_NAMESPACE = chosen;
  return out;
}

export function normaliseArgv(argv: string[]): string[] {
  const [node, script, ...rest] = argv;
  const out = [node as string, script as string];
  let afterDoubleDash = false;
  for (const arg of rest) {
    if (arg === '--') afterDoubleDash = true;
    if (!afterDoubleDash && /^-[a-zA-Z][a-zA-Z0-9-]+(=.*)?$/.test(arg)) out.push(`-${arg}`);
    else out.push(arg);
  }
  return out;
}

export function printTable(header: string[], rows: string[][], out: NodeJS.WritableStream = process.stdout): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('    ');
  out.write(`${line(header)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n`);
}

/** A value as Vault's CLI prints it in a table (Go's %v): null → <nil>, arrays → [a b], maps → map[k:v]. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, x]) => `${k}:${formatValue(x)}`).join(' ')}]`;
  }
  return String(v);
}

/** Rows of a Key/Value table from an object, keys sorted as Vault sorts them. */
export function kvRows(obj: Record<string, unknown>, format: (key: string, v: unknown) => string = (_k, v) => formatValue(v)): string[][] {
  return Object.keys(obj)
    .sort()
    .map((k) => [k, format(k, obj[k])]);
}

/** Width of the table printTable would draw for these rows (for centring "== Title ==" over it). */
export function tableWidth(header: string[], rows: string[][]): number {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return widths.reduce((a, b) => a + b, 0) + 4 * (widths.length - 1);
}

/** Vault's section header: the title centred in '=' signs over a table of `width` columns. */
export function sectionHeader(title: string, width: number): string {
  const pad = Math.max(2, Math.floor((width - title.length - 2) / 2));
  return `${'='.repeat(pad)} ${title} ${'='.repeat(pad)}`;
}

/** A titled Key/Value section, as `vault kv get` prints "====== Metadata ======" and "=== Data ===". */
export function printSection(title: string, rows: string[][], out: NodeJS.WritableStream = process.stdout): void {
  out.write(`${sectionHeader(title, tableWidth(['Key', 'Value'], rows))}\n`);
  printTable(['Key', 'Value'], rows, out);
}

/** Go's time.Duration formatting as Vault's CLI trims it: 2764800 → "768h", 90 → "1m30s", 0 → "0s". */
export function humanDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  let s = Math.abs(Math.round(seconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  let out = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  if (out.endsWith('m0s')) out = out.slice(0, -2);
  out = out.replace(/h0m$/, 'h');
  return sign + out;
}

export function printJson(body: unknown, out: NodeJS.WritableStream = process.stdout): void {
  out.write(`${JSON.stringify(body, null, 2)}\n`);
}
