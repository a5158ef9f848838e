// docs/bench/latest.md (+ latest.svg, or JSON with --json): the targets with PASS/MISS first, then one
// table per scenario family, Coffer rows with their ratios and below them the anchor points they used.
import { loadavg } from 'node:os';
import { formatNumber } from '../lib/chart.js';
import { writeReport, type ReportTable } from '../lib/report.js';
import type { ChartGroup } from '../lib/chart.js';
import type { Family, PointResult, Results, Settings } from './types.js';

export interface SuiteReport {
  families: Family[];
  settings: Settings;
  results: Results;
  etcdVersion: string;
  seconds: number;
}

const SYSTEM_NAME = { 'coffer-1': 'Coffer, 1 node', 'coffer-3': 'Coffer, 3 nodes', ceiling: 'ceiling', etcd: 'etcd' } as const;
const HEADER = ['system', 'scenario', 'conn', 'req/s', 'p50 ms', 'p99 ms', 'of ceiling', 'vs etcd', 'peak RSS MiB', 'non-2xx / errors'];

const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;
const times = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
const rss = (p: PointResult) => p.peakRssMiB.map((m) => m.toFixed(0)).join(' / ');

function pointCells(p: PointResult, system: string, scenario: string, ofCeiling: string, vsEtcd: string): (string | number)[] {
  return [system, scenario, String(p.connections), p.requestsPerSec, p.p50Ms.toFixed(2), p.p99Ms.toFixed(2), ofCeiling, vsEtcd, rss(p), `${p.non2xx} / ${p.errors}`];
}

export interface RowData {
  family: string;
  scenario: string;
  coffer: string;
  ceiling: string;
  etcd: string | null;
  etcdOp: string | null;
  requestsPerSec: number | null;
  ofCeiling: number | null;
  vsEtcd: number | null;
}

function familyTable(f: Family, r: Results, s: Settings, data: RowData[]): ReportTable {
  const rows: (string | number)[][] = [];
  const anchors: string[] = [];
  for (const spec of f.rows(s)) {
    const c = r.points.get(spec.coffer);
    const ceil = r.points.get(spec.ceiling);
    const etcd = spec.etcd ? r.points.get(spec.etcd.id) : undefined;
    for (const id of [spec.ceiling, spec.etcd?.id]) if (id && !anchors.includes(id)) anchors.push(id);
    data.push({
      family: f.name,
      scenario: spec.scenario,
      coffer: spec.coffer,
      ceiling: spec.ceiling,
      etcd: spec.etcd?.id ?? null,
      etcdOp: spec.etcd?.op ?? null,
      requestsPerSec: c?.requestsPerSec ?? null,
      ofCeiling: c && ceil ? c.requestsPerSec / ceil.requestsPerSec : null,
      vsEtcd: c && etcd ? c.requestsPerSec / etcd.requestsPerSec : null,
    });
    if (!c) {
      rows.push([SYSTEM_NAME[spec.coffer.startsWith('coffer1') ? 'coffer-1' : 'coffer-3'], spec.scenario, '', 'not run', '', '', '', '', '', '']);
      continue;
    }
    const vs = !spec.etcd ? 'no equivalent' : etcd ? `${times(c.requestsPerSec, etcd.requestsPerSec)} (${spec.etcd.op})` : 'not run';
    rows.push(pointCells(c, SYSTEM_NAME[c.system], spec.scenario, ceil ? pct(c.requestsPerSec, ceil.requestsPerSec) : 'not run', vs));
  }
  for (const id of anchors) {
    const a = r.points.get(id);
    if (a) rows.push(pointCells(a, SYSTEM_NAME[a.system], a.label.replace(/^[a-z]+: /, ''), '', ''));
  }
  return { title: f.title, note: f.description, header: HEADER, rows };
}

function memoryTable(r: Results): ReportTable {
  const m = r.memory;
  const rows: (string | number)[][] = m
    ? [
        ['empty node, idle', m.idleEmptyRssMiB.toFixed(0), '', ''],
        [`fill ${m.secrets.toLocaleString('en-US')} secrets (${m.fillConcurrency} concurrent writers)`, '', `${m.fillSeconds.toFixed(1)} s`, `${formatNumber(m.fillPerSec)} writes/s`],
        ['after the fill, idle', `${m.afterFill.rssMiB.toFixed(0)} (anon ${m.afterFill.anonMiB.toFixed(0)}, file ${m.afterFill.fileMiB.toFixed(0)})`, '', ''],
        ['after a restart on the same data, idle', `${m.afterRestart.rssMiB.toFixed(0)} (anon ${m.afterRestart.anonMiB.toFixed(0)}, file ${m.afterRestart.fileMiB.toFixed(0)})`, '', ''],
      ]
    : [['not run', '', '', '']];
  return { title: 'Idle node holding many secrets', header: ['what', 'RSS MiB', 'time', 'rate'], rows };
}

export function writeSuiteReport(rep: SuiteReport): void {
  const { families, settings: s, results: r } = rep;
  const targetRows: { what: string; measured: string; verdict: string }[] = [];
  for (const f of families)
    for (const t of f.targets) {
      const v = t.evaluate(r, s);
      targetRows.push({ what: t.what, measured: v?.measured ?? 'not run', verdict: v === null || v.pass === null ? 'n/a' : v.pass ? 'PASS' : 'MISS' });
    }
  const rowData: RowData[] = [];
  const tables = families.filter((f) => f.rows(s).length > 0).map((f) => familyTable(f, r, s, rowData));
  if (families.some((f) => f.measureMemory)) tables.push(memoryTable(r));
  if (r.skipped.length > 0) tables.push({ title: 'Not run', header: ['point', 'why'], rows: r.skipped.map((k) => [k.what, k.why]) });

  const groups: ChartGroup[] = rowData
    .filter((d) => d.requestsPerSec !== null)
    .map((d) => {
      const bars = [{ label: 'Coffer', value: d.requestsPerSec as number }];
      const ceil = r.points.get(d.ceiling);
      if (ceil) bars.push({ label: 'ceiling (bare node:http)', value: ceil.requestsPerSec });
      const etcd = d.etcd ? r.points.get(d.etcd) : undefined;
      if (etcd) bars.push({ label: `etcd ${rep.etcdVersion}, equivalent op`, value: etcd.requestsPerSec });
      const f = families.find((x) => x.name === d.family) as Family;
      return { label: `${f.title}: ${d.scenario}`, bars };
    });
  const load = loadavg().map((x) => x.toFixed(1)).join(' / ');
  const fsync = r.fsync ? `The disk, measured in the same run: **${formatNumber(r.fsync.fsyncsPerSec)} fsyncs/s** (4 KiB write + fdatasync in a loop, p50 ${r.fsync.p50Ms.toFixed(3)} ms, p99 ${r.fsync.p99Ms.toFixed(3)} ms).` : '';
  const etcdRan = [...r.points.values()].some((p) => p.system === 'etcd');
  const passed = targetRows.filter((t) => t.verdict === 'PASS').length;
  writeReport({
    name: 'latest',
    title: 'Coffer benchmark suite: latest run',
    json: s.json,
    dir: s.outDir,
    intro: [
      `Scenarios: ${families.map((f) => f.name).join(', ')}. ${s.quick ? '**Quick mode** (short points: ratios are indicative only). ' : ''}Each point: ${s.warmupS} s warm-up, then ${s.durationS} s measured with autocannon in the bench process (it shares the cores with the servers). Reads and the mix at ${s.readConnections} connections; writes at ${s.writeConnections.join(', ')}. Reads pick one of ${s.readKeys.toLocaleString('en-US')} preloaded keys at random (100-byte values); writes go to new keys. The whole run took ${Math.round(rep.seconds)} s; load average at the end ${load} (1 / 5 / 15 min).`,
      `Anchors in the same run: the **ceiling** is a bare node:http server in its own process answering a body of the same size as Coffer's answer (for PUT it reads and parses the request body first)${etcdRan ? `; the **peer** is etcd ${rep.etcdVersion} with 3 members on 127.0.0.1, driven over its JSON gateway (POST /v3/kv/put, /v3/kv/range)` : ''}. ${fsync}`,
      `"of ceiling" = Coffer req/s / the ceiling's req/s at the same connections; "vs etcd" = Coffer req/s / etcd's req/s for the operation named. Latencies are of 2xx answers. Peak RSS is per process during the point (warm-up included): Coffer's active node and etcd's leader first. How to run and read this: docs/bench/README.md.`,
    ].join('\n\n'),
    table: { title: `Targets (${passed} of ${targetRows.length} PASS)`, header: ['target', 'measured', 'verdict'], rows: targetRows.length > 0 ? targetRows.map((t) => [t.what, t.measured, t.verdict]) : [['(none in the selected scenarios)', '', '']] },
    extraTables: tables,
    chart: { title: `req/s per scenario: Coffer, the ceiling, etcd (one run${s.quick ? ', quick mode' : ''})`, unit: 'req/s', groups },
    data: {
      settings: s,
      etcdVersion: rep.etcdVersion,
      loadavg: loadavg(),
      seconds: rep.seconds,
      targets: targetRows,
      rows: rowData,
      points: [...r.points.values()],
      fsync: r.fsync,
      memory: r.memory,
      skipped: r.skipped,
    },
  });
}
