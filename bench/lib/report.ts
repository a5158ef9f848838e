// Bench reports: a table on stdout, docs/bench/<name>.md with the machine's cores and memory, an SVG
// chart drawn by the bench itself, or JSON on stdout with --json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChartSvg, markdownTable, type ChartSpec } from './chart.js';

export interface ReportTable {
  title?: string;
  /** A paragraph under the title (what the rows measure). */
  note?: string;
  header: string[];
  rows: (string | number)[][];
}

export interface Report {
  name: string;
  title: string;
  intro: string;
  table: ReportTable;
  extraTables?: ReportTable[];
  chart: ChartSpec;
  data: unknown;
  json: boolean;
  /** Where <name>.md and <name>.svg go; default docs/bench/. */
  dir?: string;
}

const DOCS_BENCH = fileURLToPath(new URL('../../../docs/bench/', import.meta.url));

export function machineSummary(): string {
  return `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`;
}

export function writeReport(r: Report): void {
  const when = new Date().toISOString();
  if (r.json) {
    process.stdout.write(`${JSON.stringify({ bench: r.name, when, machine: machineSummary(), data: r.data }, null, 2)}\n`);
  }
  const tables = [r.table, ...(r.extraTables ?? [])].map((t) => `${t.title ? `### ${t.title}\n\n` : ''}${t.note ? `${t.note}\n\n` : ''}${markdownTable(t.header, t.rows)}`);
  const md = [`# ${r.title}`, '', `Run ${when} on ${machineSummary()}.`, '', r.intro, '', ...tables.flatMap((t) => [t, '']), `![chart](${r.name}.svg)`, ''].join('\n');
  const dir = r.dir ?? DOCS_BENCH;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${r.name}.md`), md);
  writeFileSync(join(dir, `${r.name}.svg`), barChartSvg(r.chart));
  const shown = r.dir ? dir : 'docs/bench';
  if (!r.json) process.stdout.write(`\n${tables.join('\n\n')}\n\nwritten: ${join(shown, `${r.name}.md`)}, ${join(shown, `${r.name}.svg`)}\n`);
}
