// `snapshot status` output exactly as etcdctl 3.4 prints it: simple ("f5a7453e, 45, 53, 98 kB"),
// json, table (tablewriter, centred headers, right-aligned cells) and fields.
import type { EtcdDbStatus } from '../bbolt/index.js';

const SI = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** go-humanize's Bytes: SI units, one decimal below 10. */
export function humanizeBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${val < 10 ? val.toFixed(1) : val.toFixed(0)} ${SI[e]}`;
}

function table(header: string[], row: string[]): string {
  const widths = header.map((h, i) => Math.max(h.length, (row[i] as string).length));
  const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const centre = (s: string, w: number): string => {
    const left = Math.floor((w - s.length) / 2);
    return ' '.repeat(left) + s + ' '.repeat(w - s.length - left);
  };
  const head = `|${header.map((h, i) => ` ${centre(h, widths[i] as number)} `).join('|')}|`;
  const body = `|${row.map((c, i) => ` ${c.padStart(widths[i] as number)} `).join('|')}|`;
  return [line, head, line, body, line].join('\n') + '\n';
}

export type WriteOut = 'simple' | 'json' | 'table' | 'fields';

export function formatStatus(s: EtcdDbStatus, out: WriteOut): string {
  const hash = s.hash.toString(16);
  switch (out) {
    case 'json':
      return `${JSON.stringify({ hash: s.hash, revision: s.revision, totalKey: s.totalKey, totalSize: s.totalSize })}\n`;
    case 'table':
      return table(['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'], [hash, String(s.revision), String(s.totalKey), humanizeBytes(s.totalSize)]);
    case 'fields':
      return `"Hash" : ${s.hash}\n"Revision" : ${s.revision}\n"Keys" : ${s.totalKey}\n"Size" : ${s.totalSize}\n`;
    default:
      return `${hash}, ${s.revision}, ${s.totalKey}, ${humanizeBytes(s.totalSize)}\n`;
  }
}
