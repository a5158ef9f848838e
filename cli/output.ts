// CLI plumbing: Vault-style single-dash flags and the Key/Value table output.

/**
 * Vault's CLI (Go's flag package) accepts `-dev` and `-key-shares=5` as well as `--dev`; commander only
 * knows `--long`. Multi-letter single-dash flags are rewritten; single letters (`-h`) and values pass.
 */
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
