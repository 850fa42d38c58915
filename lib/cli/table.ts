/** Plain-text tables and key/value blocks in virsh's layout. */

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => ' ' + r.map((c, i) => c.padEnd(widths[i]!)).join('   ').trimEnd();
  const total = widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1) + 2;
  return [line(headers), '-'.repeat(total), ...cells.map(line)].join('\n') + '\n';
}

export function keyValues(pairs: [string, string | number][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${(k + ':').padEnd(width)}${v}`).join('\n') + '\n';
}
