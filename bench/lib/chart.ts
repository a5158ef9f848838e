// A grouped horizontal bar chart as a standalone SVG string, drawn by the benches themselves
// (no plotting dependency). Each group is one scenario; each bar one system or configuration.

export interface ChartBar { label: string; value: number }
export interface ChartGroup { label: string; bars: ChartBar[] }
export interface ChartSpec { title: string; unit: string; groups: ChartGroup[] }

const palette = ['#3b6ea5', '#d9822b', '#4f9a5d', '#a64d79', '#7f7f7f', '#c0392b'];

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

export function barChartSvg(spec: ChartSpec): string {
  const barH = 18, gap = 6, groupGap = 16, labelW = 230, plotW = 460, top = 40, left = 10;
  const max = Math.max(1, ...spec.groups.flatMap((g) => g.bars.map((b) => b.value)));
  const seriesNames = [...new Set(spec.groups.flatMap((g) => g.bars.map((b) => b.label)))];
  const colour = (name: string) => palette[seriesNames.indexOf(name) % palette.length];
  const parts: string[] = [];
  let y = top;
  for (const g of spec.groups) {
    parts.push(`<text x="${left}" y="${y + 12}" font-weight="bold">${escapeXml(g.label)}</text>`);
    y += 18;
    for (const b of g.bars) {
      const w = Math.max(1, Math.round((b.value / max) * plotW));
      parts.push(`<text x="${left + 10}" y="${y + 13}">${escapeXml(b.label)}</text>`);
      parts.push(`<rect x="${left + labelW}" y="${y}" width="${w}" height="${barH}" fill="${colour(b.label)}"/>`);
      parts.push(`<text x="${left + labelW + w + 4}" y="${y + 13}">${formatNumber(b.value)} ${escapeXml(spec.unit)}</text>`);
      y += barH + gap;
    }
    y += groupGap;
  }
  const width = left + labelW + plotW + 140;
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`,
    ...parts,
    `</svg>`,
    '',
  ].join('\n');
}

export function formatNumber(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** A markdown table from rows of cells. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => (typeof c === 'number' ? formatNumber(c) : c)).join(' | ')} |`;
  return [line(header), `| ${header.map(() => '---').join(' | ')} |`, ...rows.map(line)].join('\n');
}
